package dev.npid4j.formats;

import dev.npid4j.UserError;
import dev.npid4j.torch.Tensors;
import java.io.IOException;
import java.io.InputStream;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.function.Function;
import org.bytedeco.pytorch.Tensor;
import org.bytedeco.pytorch.global.torch.ScalarType;

/**
 * Files that Python's {@code torch.save} writes and {@code torch.load(f, weights_only=True)}
 * reads, without Python and without running anything a file says: the zip format of PyTorch >=
 * 1.6 (pickle in {@code archive/data.pkl}, one record per storage under {@code archive/data/})
 * and the legacy pre-1.6 format (pickles followed by raw storages). Values are plain Java
 * ({@link LinkedHashMap}, lists, {@link Py.Tuple}, strings, numbers, null) with tensors as
 * libtorch {@link Tensor}s (CPU, contiguous, each a copy the caller owns).
 *
 * <p>The reader trusts nothing in the file: every declared length is checked against the bytes
 * that are there before anything is allocated, zip records may not expand more than
 * {@value #MAX_EXPANSION} times nor overlap, and the value tree is made into tensors by
 * {@link TensorTree} (views inside their storage, each object visited once). Every refusal is a
 * {@link UserError} naming the file.
 */
public final class TorchFiles {
  private TorchFiles() {}

  /** Largest pickle (data.pkl) read: a ResNet-101 state dict's is under 100 KB. */
  public static final int MAX_PICKLE_BYTES = 64 << 20;
  /** Most a compressed zip record may expand (torch.save stores records uncompressed). */
  public static final int MAX_EXPANSION = 100;
  /** Deepest nesting of containers in a file's value. */
  public static final int MAX_DEPTH = TensorTree.MAX_DEPTH;

  private static final java.math.BigInteger LEGACY_MAGIC = new java.math.BigInteger("1950a86a20f9469cfc6c", 16);

  /** Storage classes torch.save names, and their dtypes. */
  static final Map<String, ScalarType> STORAGE_TYPES = Map.ofEntries(
      Map.entry("FloatStorage", ScalarType.Float), Map.entry("DoubleStorage", ScalarType.Double),
      Map.entry("HalfStorage", ScalarType.Half), Map.entry("BFloat16Storage", ScalarType.BFloat16),
      Map.entry("LongStorage", ScalarType.Long), Map.entry("IntStorage", ScalarType.Int),
      Map.entry("ShortStorage", ScalarType.Short), Map.entry("CharStorage", ScalarType.Char),
      Map.entry("ByteStorage", ScalarType.Byte), Map.entry("BoolStorage", ScalarType.Bool),
      Map.entry("UntypedStorage", ScalarType.Byte));

  /**
   * What a file holds. {@code scripted}: the file is a TorchScript archive (it has {@code code/}
   * or {@code constants.pkl}); its data was read as data, its code ignored, and its script
   * modules became maps of their attributes.
   */
  public record Contents(Object value, boolean scripted) {}

  /** Whether {@code file} is a zip archive (torch.save's format, or a TorchScript archive). */
  public static boolean isZip(Path file) throws IOException {
    try (InputStream in = Files.newInputStream(file)) {
      byte[] b = in.readNBytes(4);
      return b.length == 4 && b[0] == 'P' && b[1] == 'K' && b[2] == 3 && b[3] == 4;
    }
  }

  /**
   * Reads what torch.save wrote. A TorchScript archive is refused: such files are programs
   * (PyTorch's own {@code weights_only=True} refuses them too).
   */
  public static Object load(Path file) {
    Contents c = read(file);
    if (c.scripted()) {
      throw scriptRefusal(file);
    }
    return c.value();
  }

  /** The one-line refusal of a TorchScript archive. */
  public static UserError scriptRefusal(Path file) {
    return new UserError(file + " is a TorchScript archive (it holds code/ or constants.pkl): TorchScript files are programs and"
        + " npid4j never runs code from a file; save the weights with torch.save(model.state_dict(), f) and give that file");
  }

  /** Reads a torch.save file or the data of a TorchScript archive, never its code. */
  public static Contents read(Path file) {
    try {
      return isZip(file) ? readZip(file) : new Contents(readLegacy(file), false);
    } catch (StackOverflowError e) {
      throw new UserError("cannot read " + file + " as a PyTorch file: its values are nested too deeply");
    } catch (UserError e) {
      throw e;
    } catch (IOException | RuntimeException e) {
      throw new UserError("cannot read " + file + " as a PyTorch file (torch.save): " + oneLine(e.getMessage()), e);
    }
  }

  private static Contents readZip(Path file) throws IOException {
    try (BoundedZip zip = new BoundedZip(file, MAX_EXPANSION)) {
      String pkl = zip.names().stream().filter(n -> n.endsWith("/data.pkl") && n.indexOf('/') == n.lastIndexOf('/'))
          .findFirst().orElseThrow(() -> new IOException("no data.pkl in the zip: not written by torch.save"));
      String prefix = pkl.substring(0, pkl.length() - "data.pkl".length());
      boolean scripted = zip.names().stream().anyMatch(n -> n.equals(prefix + "constants.pkl") || n.startsWith(prefix + "code/"));
      byte[] pickle = zip.read(pkl, -1, MAX_PICKLE_BYTES);
      Object root = pickle(ByteBuffer.wrap(pickle), TorchFiles::storageRef);
      Map<String, Tensor> storages = new HashMap<>();
      Object value = TensorTree.resolve(ref -> storages.computeIfAbsent(ref.key(), k -> {
        long bytes = Math.multiplyExact(ref.numel(), elementSize(ref.dtype()));
        // the record streams into the tensor's own memory, which is allocated only after the
        // record's header has shown that it holds these bytes
        Tensor[] t = new Tensor[1];
        try {
          zip.readInto(prefix + "data/" + k, bytes, (chunk, n, offset) -> {
            if (t[0] == null) {
              t[0] = Tensors.empty(Tensors.options(ref.dtype()), ref.numel());
            }
            Tensors.writeBytes(t[0], offset, chunk, n);
          });
        } catch (IOException ex) {
          throw new IllegalStateException(ex.getMessage(), ex);
        }
        return t[0] != null ? t[0] : Tensors.empty(Tensors.options(ref.dtype()), ref.numel());
      }), root);
      return new Contents(value, scripted);
    }
  }

  /** PyTorch < 1.6: magic, protocol, sys_info, the object, the storage keys, then each storage (int64 count + bytes). */
  private static Object readLegacy(Path file) throws IOException {
    try (FileChannel ch = FileChannel.open(file)) {
      ByteBuffer buf = ch.map(FileChannel.MapMode.READ_ONLY, 0, ch.size()).order(ByteOrder.LITTLE_ENDIAN);
      Object magic = pickle(buf, id -> null);
      if (!(magic instanceof java.math.BigInteger b) || !b.equals(LEGACY_MAGIC)) {
        throw new IOException("neither a zip archive nor a legacy torch.save file");
      }
      pickle(buf, id -> null); // protocol version
      pickle(buf, id -> null); // sys_info
      Object root = pickle(buf, TorchFiles::storageRef);
      Object keys = pickle(buf, id -> null);
      if (!(keys instanceof List<?> keyList)) {
        throw new IOException("the storage key list is a " + Py.typeName(keys));
      }
      Map<String, TensorTree.StorageRef> refs = new HashMap<>();
      TensorTree.collectStorages(root, refs);
      Map<String, Tensor> storages = new HashMap<>();
      for (Object k : keyList) {
        String key = String.valueOf(k);
        TensorTree.StorageRef ref = refs.get(key);
        long count = buf.getLong();
        ScalarType dtype = ref == null ? ScalarType.Byte : ref.dtype();
        long bytes = count < 0 ? -1 : Math.multiplyExact(count, elementSize(dtype));
        if (bytes < 0 || bytes > buf.remaining()) {
          throw new IOException("storage " + key + " declares " + count + " elements but only " + buf.remaining() + " bytes remain");
        }
        byte[] data = new byte[(int) bytes];
        buf.get(data);
        storages.put(key, storageTensor(data, dtype));
      }
      return TensorTree.resolve(ref -> {
        Tensor t = storages.get(ref.key());
        if (t == null) {
          throw new IllegalStateException("storage " + ref.key() + " is missing");
        }
        return t;
      }, root);
    }
  }

  private static Object pickle(ByteBuffer buf, Function<Py.Tuple, Object> persistent) throws IOException {
    return new PickleReader(buf, persistent, TorchFiles::reduce).load();
  }

  /** ('storage', storage_type, key, location, numel[, view_metadata]). */
  private static Object storageRef(Py.Tuple id) {
    if (id.size() < 5 || !"storage".equals(id.get(0))) {
      throw new IllegalStateException("a persistent id that is not a storage");
    }
    String type = id.get(1) instanceof Py.Global g ? g.name() : Py.typeName(id.get(1));
    ScalarType dtype = STORAGE_TYPES.get(type);
    if (dtype == null) {
      throw new IllegalStateException("unsupported storage type " + type);
    }
    if (!(id.get(2) instanceof String key) || !(id.get(4) instanceof Long numel) || numel < 0) {
      throw new IllegalStateException("a storage id without a string key and a non-negative size");
    }
    return new TensorTree.StorageRef(key, dtype, numel);
  }

  /** The calls torch.save's pickles make; anything else stays opaque. */
  private static Object reduce(Py.Global g, Py.Tuple args) {
    String f = g.toString();
    switch (f) {
      case "torch._utils._rebuild_tensor_v2", "torch._utils._rebuild_tensor" -> {
        if (args.size() < 4 || !(args.get(0) instanceof TensorTree.StorageRef s) || !(args.get(1) instanceof Long offset)) {
          throw new IllegalStateException(f + " called without a storage and an offset");
        }
        return new TensorTree.TensorRef(s, offset, longs(args.get(2)), longs(args.get(3)));
      }
      case "torch._utils._rebuild_parameter", "torch._utils._rebuild_parameter_with_state", "torch.nn.parameter.Parameter" -> {
        return args.size() > 0 ? args.get(0) : null;
      }
      default -> {
        return null;
      }
    }
  }

  private static long[] longs(Object tuple) {
    if (!(tuple instanceof Py.Tuple t) || t.size() > 64) {
      throw new IllegalStateException("a tensor's sizes or strides are not a tuple of at most 64 integers");
    }
    long[] out = new long[t.size()];
    for (int i = 0; i < out.length; i++) {
      if (!(t.get(i) instanceof Long v) || v < 0) {
        throw new IllegalStateException("a tensor's sizes or strides hold " + t.get(i));
      }
      out[i] = v;
    }
    return out;
  }

  private static Tensor storageTensor(byte[] bytes, ScalarType dtype) {
    long n = bytes.length / elementSize(dtype);
    return Tensors.fromRawBytes(bytes, dtype, n);
  }

  static long elementSize(ScalarType t) {
    return switch (t) {
      case Double, Long -> 8;
      case Float, Int -> 4;
      case Half, BFloat16, Short -> 2;
      default -> 1;
    };
  }

  private static String oneLine(String s) {
    return s == null ? "" : s.lines().findFirst().orElse("");
  }

  /**
   * Writes {@code value} as torch.save would (zip format, pickle protocol 2), so that PyTorch reads
   * it with {@code torch.load(f, weights_only=True)}: maps become dicts ({@link Py.OrderedDict}
   * for state dicts), tensors become CPU tensors with their own storage. The write is atomic.
   */
  public static void save(Path file, Object value) throws IOException {
    TorchFileWriter.save(file, value);
  }
}
