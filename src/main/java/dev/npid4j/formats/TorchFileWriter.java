package dev.npid4j.formats;

import dev.npid4j.torch.Devices;
import dev.npid4j.torch.Tensors;
import java.io.BufferedOutputStream;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.zip.CRC32;
import java.util.zip.ZipEntry;
import java.util.zip.ZipOutputStream;
import org.bytedeco.pytorch.Tensor;
import org.bytedeco.pytorch.global.torch.ScalarType;

/**
 * torch.save's zip format, written from Java: the pickle names only what
 * {@code torch.load(weights_only=True)} allows (dicts, OrderedDicts, lists, tuples, scalars,
 * strings and {@code _rebuild_tensor_v2} over typed storages), and each storage streams from the
 * tensor's own memory into a stored record, so a checkpoint never holds a second copy on the heap.
 */
final class TorchFileWriter {
  private static final int CHUNK = 4 << 20;

  private TorchFileWriter() {}

  static void save(Path file, Object value) throws IOException {
    List<Tensor> storages = new ArrayList<>();
    PickleWriter writer = new PickleWriter(v -> {
      if (!(v instanceof Tensor t)) {
        return v;
      }
      Tensor c = Devices.cpu(t).contiguous();
      String key = Integer.toString(storages.size());
      storages.add(c);
      long[] size = Tensors.shape(c);
      long[] stride = new long[size.length];
      long s = 1;
      for (int i = size.length - 1; i >= 0; i--) {
        stride[i] = s;
        s *= size[i];
      }
      Py.Tuple id = new Py.Tuple(List.of("storage", new Py.Global("torch", storageName(c)), key, "cpu", c.numel()));
      return new Py.Reduce(new Py.Global("torch._utils", "_rebuild_tensor_v2"), new Py.Tuple(List.of(
          new Py.Persistent(id), 0L, boxed(size), boxed(stride), Boolean.FALSE, new Py.OrderedDict(Map.of()))));
    });
    byte[] pickle = writer.pickle(value);
    String name = "archive";
    AtomicFiles.write(file, os -> {
      try (ZipOutputStream zip = new ZipOutputStream(new BufferedOutputStream(os, 1 << 20))) {
        stored(zip, name + "/data.pkl", pickle);
        stored(zip, name + "/byteorder", "little".getBytes(StandardCharsets.US_ASCII));
        byte[] chunk = new byte[CHUNK];
        for (int i = 0; i < storages.size(); i++) {
          stored(zip, name + "/data/" + i, storages.get(i), chunk);
        }
        stored(zip, name + "/version", "3\n".getBytes(StandardCharsets.US_ASCII));
      }
    });
  }

  private static String storageName(Tensor t) {
    int v = t.scalar_type().value;
    for (Map.Entry<String, ScalarType> e : TorchFiles.STORAGE_TYPES.entrySet()) {
      if (e.getValue().value == v && !e.getKey().equals("UntypedStorage")) {
        return e.getKey();
      }
    }
    throw new IllegalArgumentException("cannot save a tensor of type " + t.scalar_type());
  }

  private static Py.Tuple boxed(long[] a) {
    return new Py.Tuple(Arrays.stream(a).boxed().toList());
  }

  /** torch's reader takes stored (uncompressed) records, as torch.save writes them. */
  private static void stored(ZipOutputStream zip, String name, byte[] data) throws IOException {
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

  /** A tensor's bytes as a stored record, in chunks: once for the CRC the header needs, once to write. */
  private static void stored(ZipOutputStream zip, String name, Tensor contiguous, byte[] chunk) throws IOException {
    long n = contiguous.nbytes();
    CRC32 crc = new CRC32();
    for (long off = 0; off < n; off += chunk.length) {
      int len = (int) Math.min(chunk.length, n - off);
      Tensors.readBytes(contiguous, off, chunk, len);
      crc.update(chunk, 0, len);
    }
    ZipEntry e = new ZipEntry(name);
    e.setMethod(ZipEntry.STORED);
    e.setSize(n);
    e.setCompressedSize(n);
    e.setCrc(crc.getValue());
    zip.putNextEntry(e);
    for (long off = 0; off < n; off += chunk.length) {
      int len = (int) Math.min(chunk.length, n - off);
      Tensors.readBytes(contiguous, off, chunk, len);
      zip.write(chunk, 0, len);
    }
    zip.closeEntry();
  }
}
