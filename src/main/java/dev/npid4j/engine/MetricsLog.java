package dev.npid4j.engine;

import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.BufferedWriter;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.Map;

/** {@code metrics.jsonl}: one JSON object per line, flushed as written so a crash loses nothing. */
public final class MetricsLog implements AutoCloseable {
  public static final ObjectMapper JSON = new ObjectMapper();
  static final com.fasterxml.jackson.core.type.TypeReference<Map<String, Object>> MAP = new com.fasterxml.jackson.core.type.TypeReference<>() {};
  private final BufferedWriter writer;
  private final boolean discarding;

  public MetricsLog(Path file) throws IOException {
    // a link planted under the log's name is not followed: the log never appends to another file
    writer = Files.newBufferedWriter(file, StandardCharsets.UTF_8, StandardOpenOption.CREATE, StandardOpenOption.APPEND,
        java.nio.file.LinkOption.NOFOLLOW_LINKS);
    discarding = false;
  }

  private MetricsLog() {
    writer = new BufferedWriter(java.io.Writer.nullWriter());
    discarding = true;
  }

  /** A log that writes nothing: the ranks other than 0 of a distributed run. */
  public static MetricsLog discarding() {
    return new MetricsLog();
  }

  /** Cuts the file back to {@code bytes} (what a checkpoint had seen), dropping records a resumed run will write again. */
  public static void truncate(Path file, long bytes) throws IOException {
    if (Files.exists(file) && Files.size(file) > bytes) {
      try (java.nio.channels.FileChannel ch = java.nio.channels.FileChannel.open(file, StandardOpenOption.WRITE,
          java.nio.file.LinkOption.NOFOLLOW_LINKS)) {
        ch.truncate(bytes);
      }
    }
  }

  /** Bytes written so far (flushed), for the checkpoint. */
  public long size(Path file) throws IOException {
    writer.flush();
    if (discarding) {
      return 0;
    }
    return Files.size(file);
  }

  public void write(Map<String, Object> record) {
    try {
      writer.write(JSON.writeValueAsString(record));
      writer.newLine();
      writer.flush();
    } catch (IOException e) {
      throw new UncheckedIOException("cannot append to metrics.jsonl", e);
    }
  }

  @Override
  public void close() throws IOException {
    writer.close();
  }
}
