package dev.npid4j.formats;

import dev.npid4j.torch.Scopes;
import dev.npid4j.UserError;
import dev.npid4j.torch.Tensors;
import java.io.BufferedOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.channels.FileChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.function.Function;
import java.util.zip.CRC32;
import java.util.zip.ZipEntry;
import java.util.zip.ZipFile;
import java.util.zip.ZipOutputStream;
import org.bytedeco.pytorch.Tensor;
import org.bytedeco.pytorch.global.torch;
import org.bytedeco.pytorch.global.torch.ScalarType;

/**
 * Files that Python's {@code torch.save} writes and {@code torch.load} reads, without Python:
 * the zip format of PyTorch >= 1.6 (pickle in {@code archive/data.pkl}, one record per storage
 * under {@code archive/data/}) for reading and writing, and the legacy pre-1.6 format (pickles
 * followed by raw storages) for reading. Values are plain Java ({@link LinkedHashMap}, lists,
 * {@link Py.Tuple}, strings, numbers) with tensors as libtorch {@link Tensor}s (CPU, contiguous).
 */
public final class TorchFiles {
  private TorchFiles() {}

  private static final java.math.BigInteger LEGACY_MAGIC = new java.math.BigInteger("1950a86a20f9469cfc6c", 16);

  /** Storage classes torch.save names, and their dtypes. */
  private static final Map<String, ScalarType> STORAGE_TYPES = Map.ofEntries(
      Map.entry("FloatStorage", ScalarType.Float), Map.entry("DoubleStorage", ScalarType.Double),
      Map.entry("HalfStorage", ScalarType.Half), Map.entry("BFloat16Storage", ScalarType.BFloat16),
      Map.entry("LongStorage", ScalarType.Long), Map.entry("IntStorage", ScalarType.Int),
      Map.entry("ShortStorage", ScalarType.Short), Map.entry("CharStorage", ScalarType.Char),
      Map.entry("ByteStorage", ScalarType.Byte), Map.entry("BoolStorage", ScalarType.Bool),
      Map.entry("UntypedStorage", ScalarType.Byte));

  /** A storage named by a pickle, read once its bytes are reachable. */
  private record StorageRef(String key, ScalarType dtype, long numel) {}

  /** A tensor as the pickle describes it: a strided view of a storage. */
  private record TensorRef(StorageRef storage, long offset, long[] size, long[] stride) {}

  /** Whether {@code file} is a zip archive (torch.save's format, or a libtorch/TorchScript archive). */
  public static boolean isZip(Path file) throws IOException {
    try (InputStream in = Files.newInputStream(file)) {
      byte[] b = in.readNBytes(4);
      return b.length == 4 && b[0] == 'P' && b[1] == 'K' && b[2] == 3 && b[3] == 4;
    }
  }

  /** Whether {@code file} is a libtorch/TorchScript archive (npid4j checkpoints) rather than a torch.save pickle. */
  public static boolean isLibtorchArchive(Path file) throws IOException {
    if (!isZip(file)) {
      return false;
    }
    try (ZipFile zip = new ZipFile(file.toFile())) {
      return zip.stream().anyMatch(e -> e.getName().endsWith("/constants.pkl") || e.getName().contains("/code/"));
    }
  }

  /** Reads what torch.save wrote. Tensors come back on the CPU, contiguous; the caller closes them. */
  public static Object load(Path file) {
    try {
      return isZip(file) ? loadZip(file) : loadLegacy(file);
    } catch (IOException | RuntimeException e) {
      throw new UserError("cannot read " + file + " as a PyTorch file (torch.save): " + e.getMessage(), e);
    }
  }

  private static Object loadZip(Path file) throws IOException {
    try (ZipFile zip = new ZipFile(file.toFile())) {
      ZipEntry pkl = zip.stream().filter(e -> e.getName().endsWith("/data.pkl") && e.getName().indexOf('/') == e.getName().lastIndexOf('/'))
          .findFirst().orElseThrow(() -> new IOException("no data.pkl in the zip: not written by torch.save"));
      String prefix = pkl.getName().substring(0, pkl.getName().length() - "data.pkl".length());
      byte[] pickle;
      try (InputStream in = zip.getInputStream(pkl)) {
        pickle = in.readAllBytes();
      }
      Object root = read(ByteBuffer.wrap(pickle), TorchFiles::storageRef);
      Map<String, Tensor> storages = new HashMap<>();
      return resolve(root, ref -> storages.computeIfAbsent(ref.key(), k -> {
        ZipEntry e = zip.getEntry(prefix + "data/" + k);
        if (e == null) {
          throw new IllegalStateException("storage record data/" + k + " is missing");
        }
        try (InputStream in = zip.getInputStream(e)) {
          return storageTensor(in.readAllBytes(), ref.dtype());
        } catch (IOException ex) {
          throw new IllegalStateException(ex);
        }
      }));
    }
  }

  /** PyTorch < 1.6: magic, protocol, sys_info, the object, the storage keys, then each storage (int64 count + bytes). */
  private static Object loadLegacy(Path file) throws IOException {
    try (FileChannel ch = FileChannel.open(file)) {
      ByteBuffer buf = ch.map(FileChannel.MapMode.READ_ONLY, 0, ch.size()).order(ByteOrder.LITTLE_ENDIAN);
      Object magic = read(buf, id -> null);
      if (!(magic instanceof java.math.BigInteger b) || !b.equals(LEGACY_MAGIC)) {
        throw new IOException("neither a zip archive nor a legacy torch.save file");
      }
      read(buf, id -> null); // protocol version
      read(buf, id -> null); // sys_info
      Object root = read(buf, TorchFiles::storageRef);
      Object keys = read(buf, id -> null);
      Map<String, Tensor> storages = new HashMap<>();
      Map<String, ScalarType> types = new HashMap<>();
      collectStorageTypes(root, types);
      for (Object k : (List<?>) keys) {
        String key = (String) k;
        long count = buf.getLong();
        ScalarType dtype = types.getOrDefault(key, ScalarType.Byte);
        byte[] bytes = new byte[Math.toIntExact(count * elementSize(dtype))];
        buf.get(bytes);
        storages.put(key, storageTensor(bytes, dtype));
      }
      return resolve(root, ref -> storages.get(ref.key()));
    }
  }

  private static void collectStorageTypes(Object v, Map<String, ScalarType> out) {
    if (v instanceof TensorRef t) {
      out.put(t.storage().key(), t.storage().dtype());
    } else if (v instanceof Map<?, ?> m) {
      m.values().forEach(x -> collectStorageTypes(x, out));
    } else if (v instanceof List<?> l) {
      l.forEach(x -> collectStorageTypes(x, out));
    } else if (v instanceof Py.Tuple t) {
      t.items().forEach(x -> collectStorageTypes(x, out));
    }
  }

  private static Object read(ByteBuffer buf, Function<Py.Tuple, Object> persistent) throws IOException {
    return PickleReader.unwrapNone(new PickleReader(buf, persistent, TorchFiles::reduce).load());
  }

  /** ('storage', storage_type, key, location, numel[, view_metadata]). */
  private static Object storageRef(Py.Tuple id) {
    if (id.size() < 5 || !"storage".equals(id.get(0))) {
      throw new IllegalStateException("unknown persistent id " + id);
    }
    String type = id.get(1) instanceof Py.Global g ? g.name() : String.valueOf(id.get(1));
    ScalarType dtype = STORAGE_TYPES.get(type);
    if (dtype == null) {
      throw new IllegalStateException("unsupported storage type " + type);
    }
    return new StorageRef(String.valueOf(id.get(2)), dtype, ((Number) id.get(4)).longValue());
  }

  /** The calls torch.save's pickles make; anything else stays opaque. */
  private static Object reduce(Py.Global g, Py.Tuple args) {
    String f = g.toString();
    switch (f) {
      case "torch._utils._rebuild_tensor_v2", "torch._utils._rebuild_tensor" -> {
        return new TensorRef((StorageRef) args.get(0), ((Number) args.get(1)).longValue(), longs(args.get(2)), longs(args.get(3)));
      }
      case "torch._utils._rebuild_parameter", "torch._utils._rebuild_parameter_with_state", "torch.nn.parameter.Parameter" -> {
        return args.get(0);
      }
      default -> {
        return null;
      }
    }
  }

  private static long[] longs(Object tuple) {
    List<?> items = ((Py.Tuple) tuple).items();
    long[] out = new long[items.size()];
    for (int i = 0; i < out.length; i++) {
      out[i] = ((Number) items.get(i)).longValue();
    }
    return out;
  }

  private static Object resolve(Object v, Function<StorageRef, Tensor> storage) {
    if (v instanceof TensorRef t) {
      Tensor s = storage.apply(t.storage());
      try (var scope = Scopes.open()) {
        return Tensors.keep(Tensors.stridedCopy(s, t.size(), t.stride(), t.offset()));
      }
    }
    if (v instanceof Map<?, ?> m) {
      Map<Object, Object> out = new LinkedHashMap<>();
      m.forEach((k, x) -> out.put(k, resolve(x, storage)));
      return out;
    }
    if (v instanceof List<?> l) {
      List<Object> out = new ArrayList<>();
      l.forEach(x -> out.add(resolve(x, storage)));
      return out;
    }
    if (v instanceof Py.Tuple t) {
      List<Object> out = new ArrayList<>();
      t.items().forEach(x -> out.add(resolve(x, storage)));
      return new Py.Tuple(out);
    }
    return v;
  }

  private static Tensor storageTensor(byte[] bytes, ScalarType dtype) {
    long n = bytes.length / elementSize(dtype);
    return Tensors.fromRawBytes(bytes, dtype, n);
  }

  private static long elementSize(ScalarType t) {
    return switch (t) {
      case Double, Long -> 8;
      case Float, Int -> 4;
      case Half, BFloat16, Short -> 2;
      default -> 1;
    };
  }

  private static String storageName(Tensor t) {
    int v = t.scalar_type().value;
    for (Map.Entry<String, ScalarType> e : STORAGE_TYPES.entrySet()) {
      if (e.getValue().value == v && !e.getKey().equals("UntypedStorage")) {
        return e.getKey();
      }
    }
    throw new IllegalArgumentException("cannot save a tensor of type " + t.scalar_type());
  }

  /**
   * Writes {@code value} as torch.save would (zip format, pickle protocol 2): maps become dicts
   * ({@link Py.OrderedDict} for state dicts), tensors become CPU tensors with their own storage.
   * The write is atomic.
   */
  public static void save(Path file, Object value) throws IOException {
    List<byte[]> storages = new ArrayList<>();
    PickleWriter writer = new PickleWriter(v -> {
      if (!(v instanceof Tensor t)) {
        return v;
      }
      Tensor c = t.contiguous();
      byte[] bytes = new byte[Math.toIntExact(c.nbytes())];
      if (bytes.length > 0) {
        Tensors.readBytes(c, 0, bytes, bytes.length);
      }
      String key = Integer.toString(storages.size());
      storages.add(bytes);
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
    AtomicFiles.write(file, temp -> {
      try (OutputStream os = new BufferedOutputStream(Files.newOutputStream(temp), 1 << 20);
          ZipOutputStream zip = new ZipOutputStream(os)) {
        stored(zip, name + "/data.pkl", pickle);
        stored(zip, name + "/byteorder", "little".getBytes(StandardCharsets.US_ASCII));
        for (int i = 0; i < storages.size(); i++) {
          stored(zip, name + "/data/" + i, storages.get(i));
        }
        stored(zip, name + "/version", "3\n".getBytes(StandardCharsets.US_ASCII));
      }
    });
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
}
