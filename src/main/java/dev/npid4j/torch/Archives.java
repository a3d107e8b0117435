package dev.npid4j.torch;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import org.bytedeco.javacpp.BytePointer;
import org.bytedeco.javacpp.Pointer;
import org.bytedeco.pytorch.ArchiveWriter;
import org.bytedeco.pytorch.OutputArchive;

/**
 * Writes libtorch archives through Java I/O. libtorch's own file writer aborts the whole process
 * (std::terminate, exit 134) when the disk is full; here the bytes go through a FileChannel and a
 * write error comes back as an ordinary IOException after the archive is done.
 */
public final class Archives {
  private Archives() {}

  public static void saveTo(OutputArchive archive, Path file) throws IOException {
    try (FileChannel ch = FileChannel.open(file, StandardOpenOption.CREATE, StandardOpenOption.WRITE,
        StandardOpenOption.TRUNCATE_EXISTING)) {
      IOException[] error = new IOException[1];
      ArchiveWriter writer = new ArchiveWriter() {
        @Override
        public long call(Pointer data, long size) {
          if (error[0] == null && size > 0) {
            try (BytePointer bytes = new BytePointer(data)) {
              ByteBuffer buf = bytes.capacity(size).limit(size).asByteBuffer();
              while (buf.hasRemaining()) {
                ch.write(buf);
              }
            } catch (IOException e) {
              error[0] = e;
            }
          }
          // Always report success: a short write would make libtorch throw across the JNI boundary.
          return size;
        }
      };
      try {
        archive.save_to(writer);
      } finally {
        writer.close();
      }
      if (error[0] != null) {
        throw error[0];
      }
    }
  }
}
