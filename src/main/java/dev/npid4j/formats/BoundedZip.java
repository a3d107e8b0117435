package dev.npid4j.formats;

import java.io.IOException;
import java.io.InputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.zip.ZipEntry;
import java.util.zip.ZipFile;

/**
 * A zip archive from an untrusted source, read record by record within limits: a record holds
 * what its header declares and no more, compressed records expand at most {@code maxExpansion}
 * times, and all records read together take no more stored bytes than the file has (records that
 * overlap to multiply a small file, the classic zip bomb, run out of that budget).
 */
final class BoundedZip implements AutoCloseable {
  private final Path file;
  private final ZipFile zip;
  private final long fileSize;
  private final int maxExpansion;
  private long storedBytesRead;

  BoundedZip(Path file, int maxExpansion) throws IOException {
    this.file = file;
    this.zip = new ZipFile(file.toFile());
    this.fileSize = Files.size(file);
    this.maxExpansion = maxExpansion;
  }

  List<String> names() {
    return zip.stream().map(ZipEntry::getName).toList();
  }

  /** Where {@link #readInto} puts a record's bytes: {@code length} bytes of {@code chunk} at {@code offset}. */
  interface Sink {
    void put(byte[] chunk, int length, long offset);
  }

  /**
   * Streams record {@code name}, which must hold exactly {@code expected} bytes, into {@code sink}
   * in chunks: a storage of any size passes through a few MB of heap.
   */
  void readInto(String name, long expected, Sink sink) throws IOException {
    ZipEntry e = entry(name, expected, Long.MAX_VALUE);
    byte[] chunk = new byte[(int) Math.min(4 << 20, Math.max(expected, 1))];
    long done = 0;
    try (InputStream in = zip.getInputStream(e)) {
      while (done < expected) {
        int n = in.read(chunk, 0, (int) Math.min(chunk.length, expected - done));
        if (n < 0) {
          throw new IOException("record " + name + " is truncated (" + done + " of " + expected + " bytes)");
        }
        sink.put(chunk, n, done);
        done += n;
      }
      if (in.read() >= 0) {
        throw new IOException("record " + name + " holds more than its " + expected + " declared bytes");
      }
    }
  }

  /** Record {@code name} after the checks every read makes: declared size, expansion, the file's stored-byte budget. */
  private ZipEntry entry(String name, long expected, long max) throws IOException {
    ZipEntry e = zip.getEntry(name);
    if (e == null) {
      throw new IOException("record " + name + " is missing");
    }
    long size = e.getSize();
    if (expected >= 0 && size >= 0 && size != expected) {
      throw new IOException("record " + name + " holds " + size + " bytes where " + expected + " are declared");
    }
    long want = expected >= 0 ? expected : size;
    if (want > max) {
      throw new IOException("record " + name + " is " + want + " bytes, over the limit of " + max);
    }
    long compressed = Math.max(0, e.getCompressedSize());
    storedBytesRead += compressed;
    if (storedBytesRead > fileSize) {
      throw new IOException("its records overlap (" + storedBytesRead + " stored bytes read from a file of " + fileSize
          + "): a zip bomb, not a torch.save file");
    }
    if (e.getMethod() != ZipEntry.STORED && want >= 0 && want / Math.max(compressed, 1) > maxExpansion) {
      throw new IOException("record " + name + " would expand " + (want / Math.max(compressed, 1)) + " times, over the limit of "
          + maxExpansion + " (a zip bomb?)");
    }
    return e;
  }

  /**
   * The bytes of record {@code name}, at most {@code max} (below 2 GiB): exactly {@code expected}
   * of them when {@code expected >= 0}.
   */
  byte[] read(String name, long expected, long max) throws IOException {
    ZipEntry e = entry(name, expected, Math.min(max, Integer.MAX_VALUE - 16));
    long want = expected >= 0 ? expected : e.getSize();
    long cap = want >= 0 ? want : max;
    if (e.getMethod() != ZipEntry.STORED && want < 0) {
      cap = Math.min(cap, Math.multiplyExact(Math.max(e.getCompressedSize(), 1), (long) maxExpansion));
    }
    try (InputStream in = zip.getInputStream(e)) {
      byte[] data = in.readNBytes((int) cap);
      if (want >= 0 && data.length < want) {
        throw new IOException("record " + name + " is truncated (" + data.length + " of " + want + " bytes)");
      }
      if (in.read() >= 0) {
        throw new IOException("record " + name + " holds more than its " + cap + " declared or allowed bytes");
      }
      return data;
    }
  }

  @Override
  public void close() throws IOException {
    zip.close();
  }

  @Override
  public String toString() {
    return file.toString();
  }
}
