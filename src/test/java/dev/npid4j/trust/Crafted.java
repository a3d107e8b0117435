package dev.npid4j.trust;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.zip.CRC32;
import java.util.zip.ZipEntry;
import java.util.zip.ZipOutputStream;

/** Small hostile files, byte by byte: pickles, torch.save zips (honest and not), .npy headers, images. */
final class Crafted {
  private Crafted() {}

  /** A pickle written opcode by opcode (protocol 2). */
  static final class Pickle {
    private final ByteArrayOutputStream out = new ByteArrayOutputStream();

    Pickle() {
      op(0x80).op(2);
    }

    Pickle op(int b) {
      out.write(b);
      return this;
    }

    Pickle raw(byte[] b) {
      out.writeBytes(b);
      return this;
    }

    Pickle le32(long v) {
      return raw(ByteBuffer.allocate(4).order(ByteOrder.LITTLE_ENDIAN).putInt((int) v).array());
    }

    Pickle le64(long v) {
      return raw(ByteBuffer.allocate(8).order(ByteOrder.LITTLE_ENDIAN).putLong(v).array());
    }

    /** BINUNICODE with an honest length. */
    Pickle str(String s) {
      byte[] b = s.getBytes(StandardCharsets.UTF_8);
      return op('X').le32(b.length).raw(b);
    }

    /** An int as LONG1 (any size up to 8 bytes). */
    Pickle num(long v) {
      byte[] b = ByteBuffer.allocate(8).order(ByteOrder.LITTLE_ENDIAN).putLong(v).array();
      return op(0x8a).op(8).raw(b);
    }

    Pickle global(String module, String name) {
      return op('c').raw((module + "\n" + name + "\n").getBytes(StandardCharsets.US_ASCII));
    }

    Pickle mark() {
      return op('(');
    }

    Pickle tuple() {
      return op('t');
    }

    /** A tensor as torch.save writes it: _rebuild_tensor_v2(storage, offset, size, stride, False, OrderedDict()). */
    Pickle tensor(String key, long storageNumel, long offset, long[] size, long[] stride) {
      global("torch._utils", "_rebuild_tensor_v2").mark();
      mark().str("storage").global("torch", "FloatStorage").str(key).str("cpu").num(storageNumel).tuple().op('Q');
      num(offset);
      mark();
      for (long s : size) {
        num(s);
      }
      tuple().mark();
      for (long s : stride) {
        num(s);
      }
      tuple().op(0x89).global("collections", "OrderedDict").op(')').op('R');
      return tuple().op('R');
    }

    byte[] stop() {
      out.write('.');
      return out.toByteArray();
    }
  }

  /** {"w": tensor} */
  static byte[] stateDict(String key, long storageNumel, long offset, long[] size, long[] stride) {
    return new Pickle().op('}').str("w").tensor(key, storageNumel, offset, size, stride).op('s').stop();
  }

  /** A torch.save-style zip: archive/data.pkl, the given records, archive/version; all stored. */
  static Path torchZip(Path file, byte[] pickle, Map<String, byte[]> records) throws IOException {
    Map<String, byte[]> all = new LinkedHashMap<>();
    all.put("archive/data.pkl", pickle);
    all.putAll(records);
    all.put("archive/version", "3\n".getBytes(StandardCharsets.US_ASCII));
    try (ZipOutputStream zip = new ZipOutputStream(Files.newOutputStream(file))) {
      for (Map.Entry<String, byte[]> e : all.entrySet()) {
        stored(zip, e.getKey(), e.getValue());
      }
    }
    return file;
  }

  static void stored(ZipOutputStream zip, String name, byte[] data) throws IOException {
    ZipEntry e = new ZipEntry(name);
    e.setMethod(ZipEntry.STORED);
    e.setSize(data.length);
    e.setCompressedSize(data.length);
    CRC32 crc = new CRC32();
    crc.update(data);
    e.setCrc(crc.getValue());
    zip.putNextEntry(e);
    zip.write(data);
    zip.closeEntry();
  }

  static void deflated(ZipOutputStream zip, String name, byte[] data) throws IOException {
    ZipEntry e = new ZipEntry(name);
    e.setMethod(ZipEntry.DEFLATED);
    zip.putNextEntry(e);
    zip.write(data);
    zip.closeEntry();
  }

  /**
   * A zip whose central directory names {@code copies} records that all point at one stored
   * record of {@code bytes} bytes: a small file that a naive reader expands {@code copies} times.
   */
  static Path overlappingZip(Path file, byte[] pickle, int copies, int bytes) throws IOException {
    ByteArrayOutputStream out = new ByteArrayOutputStream();
    List<byte[]> central = new ArrayList<>();
    int pklOffset = out.size();
    local(out, "archive/data.pkl", pickle);
    central.add(centralEntry("archive/data.pkl", pickle, pklOffset));
    byte[] data = new byte[bytes];
    int dataOffset = out.size();
    local(out, "archive/data/0", data);
    for (int i = 0; i < copies; i++) {
      central.add(centralEntry("archive/data/" + i, data, dataOffset));
    }
    int cdOffset = out.size();
    for (byte[] c : central) {
      out.writeBytes(c);
    }
    int cdSize = out.size() - cdOffset;
    ByteBuffer end = ByteBuffer.allocate(22).order(ByteOrder.LITTLE_ENDIAN);
    end.putInt(0x06054b50).putShort((short) 0).putShort((short) 0).putShort((short) central.size()).putShort((short) central.size())
        .putInt(cdSize).putInt(cdOffset).putShort((short) 0);
    out.writeBytes(end.array());
    Files.write(file, out.toByteArray());
    return file;
  }

  private static void local(ByteArrayOutputStream out, String name, byte[] data) {
    byte[] n = name.getBytes(StandardCharsets.US_ASCII);
    ByteBuffer h = ByteBuffer.allocate(30).order(ByteOrder.LITTLE_ENDIAN);
    h.putInt(0x04034b50).putShort((short) 20).putShort((short) 0).putShort((short) 0).putShort((short) 0).putShort((short) 0)
        .putInt((int) crc(data)).putInt(data.length).putInt(data.length).putShort((short) n.length).putShort((short) 0);
    out.writeBytes(h.array());
    out.writeBytes(n);
    out.writeBytes(data);
  }

  private static byte[] centralEntry(String name, byte[] data, int offset) {
    byte[] n = name.getBytes(StandardCharsets.US_ASCII);
    ByteBuffer c = ByteBuffer.allocate(46 + n.length).order(ByteOrder.LITTLE_ENDIAN);
    c.putInt(0x02014b50).putShort((short) 20).putShort((short) 20).putShort((short) 0).putShort((short) 0).putShort((short) 0)
        .putShort((short) 0).putInt((int) crc(data)).putInt(data.length).putInt(data.length).putShort((short) n.length)
        .putShort((short) 0).putShort((short) 0).putShort((short) 0).putShort((short) 0).putInt(0).putInt(offset).put(n);
    return c.array();
  }

  private static long crc(byte[] data) {
    CRC32 crc = new CRC32();
    crc.update(data);
    return crc.getValue();
  }

  /** A .npy file: the given header dict, padded, then {@code body}. */
  static Path npy(Path file, String header, byte[] body) throws IOException {
    String h = header;
    int total = 10 + h.length() + 1;
    h = h + " ".repeat((64 - total % 64) % 64) + "\n";
    ByteArrayOutputStream out = new ByteArrayOutputStream();
    out.writeBytes(new byte[] {(byte) 0x93, 'N', 'U', 'M', 'P', 'Y', 1, 0, (byte) (h.length() & 0xff), (byte) (h.length() >>> 8)});
    out.writeBytes(h.getBytes(StandardCharsets.US_ASCII));
    out.writeBytes(body);
    Files.write(file, out.toByteArray());
    return file;
  }

  /** A PNG whose header declares {@code width} x {@code height} (and holds one tiny, wrong, data chunk). */
  static Path pngHeader(Path file, int width, int height) throws IOException {
    ByteArrayOutputStream out = new ByteArrayOutputStream();
    out.writeBytes(new byte[] {(byte) 0x89, 'P', 'N', 'G', '\r', '\n', 0x1a, '\n'});
    ByteBuffer ihdr = ByteBuffer.allocate(13).putInt(width).putInt(height).put((byte) 8).put((byte) 2).put((byte) 0).put((byte) 0)
        .put((byte) 0);
    chunk(out, "IHDR", ihdr.array());
    chunk(out, "IDAT", deflate(new byte[4096]));
    chunk(out, "IEND", new byte[0]);
    Files.write(file, out.toByteArray());
    return file;
  }

  private static byte[] deflate(byte[] data) {
    java.util.zip.Deflater d = new java.util.zip.Deflater();
    d.setInput(data);
    d.finish();
    byte[] buf = new byte[data.length + 64];
    int n = d.deflate(buf);
    d.end();
    return java.util.Arrays.copyOf(buf, n);
  }

  private static void chunk(ByteArrayOutputStream out, String type, byte[] data) {
    out.writeBytes(ByteBuffer.allocate(4).putInt(data.length).array());
    byte[] t = type.getBytes(StandardCharsets.US_ASCII);
    out.writeBytes(t);
    out.writeBytes(data);
    CRC32 crc = new CRC32();
    crc.update(t);
    crc.update(data);
    out.writeBytes(ByteBuffer.allocate(4).putInt((int) crc.getValue()).array());
  }

  /** A complete baseline JPEG (SOI ... EOI) whose frame header declares {@code width} x {@code height}. */
  static Path jpegHeader(Path file, int width, int height) throws IOException {
    ByteArrayOutputStream out = new ByteArrayOutputStream();
    out.writeBytes(new byte[] {(byte) 0xFF, (byte) 0xD8});
    out.writeBytes(new byte[] {(byte) 0xFF, (byte) 0xE0, 0, 16, 'J', 'F', 'I', 'F', 0, 1, 1, 0, 0, 1, 0, 1, 0, 0});
    out.writeBytes(new byte[] {(byte) 0xFF, (byte) 0xC0, 0, 11, 8, (byte) (height >> 8), (byte) height, (byte) (width >> 8), (byte) width,
        1, 1, 0x11, 0});
    out.writeBytes(new byte[64]);
    out.writeBytes(new byte[] {(byte) 0xFF, (byte) 0xD9});
    Files.write(file, out.toByteArray());
    return file;
  }
}
