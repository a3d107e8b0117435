package dev.npid4j.formats;

import dev.npid4j.torch.Tensors;
import java.io.BufferedOutputStream;
import java.io.DataOutputStream;
import java.io.IOException;
import java.io.OutputStream;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.channels.FileChannel;
import java.nio.charset.Charset;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Collectors;

/** NumPy's {@code .npy} format (version 1.0, little-endian, C order): float32 and int64 arrays. */
public final class Npy {
  private Npy() {}

  /** An array read back: float32 data in {@code floats} or int64 data in {@code longs}. */
  public record Array(long[] shape, float[] floats, long[] longs) {}

  /**
   * A float32 tensor of any size as {@code shape} (numel must match), streamed from native
   * memory: no Java array, so no 2^31-element limit (ImageNet res5avg is 1.28M x 2048).
   */
  public static void writeTensor(Path file, org.bytedeco.pytorch.Tensor t, long... shape) throws IOException {
    org.bytedeco.pytorch.Tensor c = t.to(org.bytedeco.pytorch.global.torch.ScalarType.Float).contiguous();
    long bytes = c.nbytes();
    write(file, "<f4", shape, c.numel(), out -> {
      byte[] buf = new byte[1 << 20];
      for (long off = 0; off < bytes; off += buf.length) {
        int n = (int) Math.min(buf.length, bytes - off);
        Tensors.readBytes(c, off, buf, n);
        out.write(buf, 0, n);
      }
    });
  }

  public static void writeLongs(Path file, long[] data, long... shape) throws IOException {
    write(file, "<i8", shape, data.length, out -> {
      ByteBuffer b = ByteBuffer.allocate(1 << 16).order(ByteOrder.LITTLE_ENDIAN);
      for (long v : data) {
        if (!b.hasRemaining()) {
          out.write(b.array(), 0, b.position());
          b.clear();
        }
        b.putLong(v);
      }
      out.write(b.array(), 0, b.position());
    });
  }

  private interface Body {
    void write(OutputStream out) throws IOException;
  }

  private static void write(Path file, String descr, long[] shape, long count, Body body) throws IOException {
    long n = Arrays.stream(shape).reduce(1, (a, b) -> a * b);
    if (n != count) {
      throw new IllegalArgumentException(count + " values do not fill shape " + Arrays.toString(shape));
    }
    String dims = Arrays.stream(shape).mapToObj(Long::toString).collect(Collectors.joining(", "));
    String header = "{'descr': '" + descr + "', 'fortran_order': False, 'shape': (" + dims + (shape.length == 1 ? "," : "") + "), }";
    int total = 10 + header.length() + 1;
    int pad = (64 - total % 64) % 64;
    String padded = header + " ".repeat(pad) + "\n";
    AtomicFiles.write(file, os -> {
      try (DataOutputStream out = new DataOutputStream(new BufferedOutputStream(os, 1 << 16))) {
        out.write(new byte[] {(byte) 0x93, 'N', 'U', 'M', 'P', 'Y', 1, 0});
        byte[] h = padded.getBytes(StandardCharsets.US_ASCII);
        out.write(h.length & 0xff);
        out.write(h.length >>> 8);
        out.write(h);
        body.write(out);
      }
    });
  }

  private static final Pattern DESCR = Pattern.compile("'descr':\\s*'([^']+)'");
  private static final Pattern SHAPE = Pattern.compile("'shape':\\s*\\(([^)]*)\\)");

  /** Whether {@code file} holds strings (NumPy's {@code <U} or {@code |S} dtypes), as VISSL's convert_folder_to_filelist saves labels. */
  public static boolean holdsStrings(Path file) throws IOException {
    try (FileChannel ch = FileChannel.open(file)) {
      ByteBuffer b = ch.map(FileChannel.MapMode.READ_ONLY, 0, ch.size()).order(ByteOrder.LITTLE_ENDIAN);
      return isStrings(header(b, file).descr());
    }
  }

  private static boolean isStrings(String descr) {
    return descr.startsWith("<U") || descr.startsWith("|S");
  }

  /**
   * A 1-d array of strings: NumPy's fixed-width unicode ({@code <U}n, UTF-32) or bytes
   * ({@code |S}n, UTF-8), trailing NULs dropped, as {@code np.save(f, np.array(paths))} writes.
   */
  public static List<String> readStrings(Path file) throws IOException {
    try (FileChannel ch = FileChannel.open(file)) {
      ByteBuffer b = ch.map(FileChannel.MapMode.READ_ONLY, 0, ch.size()).order(ByteOrder.LITTLE_ENDIAN);
      Header hd = header(b, file);
      int n = hd.count();
      String descr = hd.descr();
      boolean unicode = descr.startsWith("<U");
      if (!isStrings(descr)) {
        throw new IOException(file + ": dtype " + descr + " is not a string array (expected <U or |S; an object array"
            + " needs pickle: save it with np.save(f, np.array(paths, dtype=str)))");
      }
      int bytesPer = (int) itemSize(descr, file);
      List<String> out = new ArrayList<>(n);
      byte[] item = new byte[bytesPer];
      for (int i = 0; i < n; i++) {
        b.get(item);
        int len = bytesPer;
        while (len > 0 && item[len - 1] == 0) {
          len--;
        }
        if (unicode) {
          len = (len + 3) / 4 * 4;
          out.add(new String(item, 0, len, Charset.forName("UTF-32LE")));
        } else {
          out.add(new String(item, 0, len, StandardCharsets.UTF_8));
        }
      }
      return out;
    }
  }

  /** A .npy header: dtype descr, shape and element count (checked against the bytes that follow). */
  private record Header(String descr, long[] shape, int count) {}

  /** Bytes per element of the dtypes npid4j reads, or -1 for another dtype. */
  private static long itemSize(String descr, Path file) throws IOException {
    if (isStrings(descr)) {
      long width;
      try {
        width = Long.parseLong(descr.substring(2));
      } catch (NumberFormatException e) {
        throw new IOException(file + ": unreadable string dtype " + descr);
      }
      if (width < 1 || width > 1 << 20) {
        throw new IOException(file + ": string dtype " + descr + " is outside 1..1048576 characters");
      }
      return descr.startsWith("<U") ? 4 * width : width;
    }
    return switch (descr) {
      case "<f4", "<i4" -> 4;
      case "<f8", "<i8" -> 8;
      case "|u1" -> 1;
      default -> -1;
    };
  }

  /**
   * Reads the magic and header, leaving {@code b} at the first data byte. The shape the header
   * declares must fit the bytes that follow it, so a crafted header cannot make the reader
   * allocate more than the file holds.
   */
  private static Header header(ByteBuffer b, Path file) throws IOException {
    byte[] magic = new byte[6];
    b.get(magic);
    if (magic[0] != (byte) 0x93 || !new String(magic, 1, 5, StandardCharsets.US_ASCII).equals("NUMPY")) {
      throw new IOException(file + " is not a .npy file");
    }
    int major = b.get();
    b.get();
    int headerLen = major == 1 ? (b.getShort() & 0xffff) : b.getInt();
    if (headerLen < 0 || headerLen > b.remaining()) {
      throw new IOException(file + ": the .npy header declares " + headerLen + " bytes but " + b.remaining() + " remain");
    }
    byte[] h = new byte[headerLen];
    b.get(h);
    String header = new String(h, StandardCharsets.US_ASCII);
    if (header.contains("'fortran_order': True")) {
      throw new IOException(file + " is in Fortran order");
    }
    Matcher d = DESCR.matcher(header);
    Matcher s = SHAPE.matcher(header);
    if (!d.find() || !s.find()) {
      throw new IOException(file + ": unreadable .npy header " + header.trim());
    }
    long[] shape;
    try {
      shape = Arrays.stream(s.group(1).split(",")).map(String::trim).filter(x -> !x.isEmpty()).mapToLong(Long::parseLong).toArray();
    } catch (NumberFormatException e) {
      throw new IOException(file + ": unreadable .npy shape (" + s.group(1) + ")");
    }
    long count = 1;
    for (long dim : shape) {
      if (dim < 0) {
        throw new IOException(file + ": negative .npy shape (" + s.group(1) + ")");
      }
      try {
        count = Math.multiplyExact(count, dim);
      } catch (ArithmeticException e) {
        count = Long.MAX_VALUE;
      }
    }
    long item = itemSize(d.group(1), file);
    if (item > 0 && (count > Integer.MAX_VALUE || count > b.remaining() / item)) {
      throw new IOException(file + ": the .npy header declares shape (" + s.group(1).trim() + ") of " + d.group(1) + " but only "
          + b.remaining() + " data bytes follow it");
    }
    return new Header(d.group(1), shape, (int) Math.min(count, Integer.MAX_VALUE));
  }

  /** Reads a float32/float64/uint8 (as float) or int64/int32 (as long) C-order .npy file. */
  public static Array read(Path file) throws IOException {
    try (FileChannel ch = FileChannel.open(file)) {
      ByteBuffer b = ch.map(FileChannel.MapMode.READ_ONLY, 0, ch.size()).order(ByteOrder.LITTLE_ENDIAN);
      Header hd = header(b, file);
      long[] shape = hd.shape();
      int n = hd.count();
      switch (hd.descr()) {
        case "<f4" -> {
          float[] f = new float[n];
          b.asFloatBuffer().get(f);
          return new Array(shape, f, null);
        }
        case "|u1" -> {
          float[] f = new float[n];
          for (int i = 0; i < n; i++) {
            f[i] = b.get() & 0xff;
          }
          return new Array(shape, f, null);
        }
        case "<f8" -> {
          float[] f = new float[n];
          for (int i = 0; i < n; i++) {
            f[i] = (float) b.getDouble();
          }
          return new Array(shape, f, null);
        }
        case "<i8" -> {
          long[] l = new long[n];
          b.asLongBuffer().get(l);
          return new Array(shape, null, l);
        }
        case "<i4" -> {
          long[] l = new long[n];
          for (int i = 0; i < n; i++) {
            l[i] = b.getInt();
          }
          return new Array(shape, null, l);
        }
        default -> throw new IOException(file + ": dtype " + hd.descr() + " is not supported (float32, float64, uint8, int64, int32)");
      }
    }
  }
}
