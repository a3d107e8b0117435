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

  /** Every tensor of a libtorch archive (an npid4j checkpoint) under its dotted path ("model.trunk.conv1.weight", "loss.memory", ...). */
  public static java.util.Map<String, org.bytedeco.pytorch.Tensor> tensors(Path file) {
    org.bytedeco.pytorch.InputArchive root = new org.bytedeco.pytorch.InputArchive();
    root.load_from(file.toString());
    java.util.Map<String, org.bytedeco.pytorch.Tensor> out = new java.util.TreeMap<>();
    walk(root, "", out);
    return out;
  }

  private static void walk(org.bytedeco.pytorch.InputArchive a, String prefix, java.util.Map<String, org.bytedeco.pytorch.Tensor> out) {
    org.bytedeco.pytorch.StringVector keys = a.keys();
    for (long i = 0; i < keys.size(); i++) {
      String k = keys.get(i).getString();
      org.bytedeco.pytorch.Tensor t = new org.bytedeco.pytorch.Tensor();
      boolean isTensor;
      try {
        isTensor = a.try_read(k, t);
      } catch (RuntimeException e) {
        isTensor = false; // a nested archive
      }
      if (isTensor) {
        out.put(prefix + k, t);
      } else {
        org.bytedeco.pytorch.InputArchive sub = new org.bytedeco.pytorch.InputArchive();
        a.read(k, sub);
        walk(sub, prefix + k + ".", out);
      }
    }
  }

}
