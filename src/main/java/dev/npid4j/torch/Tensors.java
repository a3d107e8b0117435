package dev.npid4j.torch;

import org.bytedeco.javacpp.DoublePointer;
import org.bytedeco.javacpp.LongPointer;
import org.bytedeco.pytorch.Scalar;
import org.bytedeco.pytorch.ScalarTypeOptional;
import org.bytedeco.pytorch.Tensor;
import org.bytedeco.pytorch.TensorOptions;
import org.bytedeco.pytorch.global.torch;
import org.bytedeco.pytorch.global.torch.ScalarType;

/** Conversions between Java arrays and tensors, and dtype helpers. All copies, never views. */
public final class Tensors {
  private Tensors() {}

  /**
   * Lets a tensor created inside a {@code PointerScope} outlive it: the scope's close drops only
   * its own reference. ({@code scope.detach} would drop the last one and free the tensor.)
   * The caller owns the tensor afterwards and frees it with {@code close()}.
   */
  public static Tensor keep(Tensor t) {
    t.retainReference();
    return t;
  }

  public static Tensor fromFloats(float[] data, long... shape) {
    checkSize(data.length, shape);
    // one copy, straight into the new tensor's memory (a batch of 32 ImageNet crops is 19 MB)
    Tensor t = torch.empty(shape, options(ScalarType.Float), new org.bytedeco.pytorch.MemoryFormatOptional());
    t.data_ptr_float().put(data, 0, data.length);
    return t;
  }

  public static Tensor fromDoubles(double[] data, long... shape) {
    checkSize(data.length, shape);
    try (DoublePointer p = new DoublePointer(data)) {
      return torch.from_blob(p, shape, options(ScalarType.Double)).clone();
    }
  }

  public static Tensor fromLongs(long[] data, long... shape) {
    checkSize(data.length, shape);
    try (LongPointer p = new LongPointer(data)) {
      return torch.from_blob(p, shape, options(ScalarType.Long)).clone();
    }
  }

  /** Bytes as a uint8 tensor (for text such as JSON inside an archive). */
  public static Tensor fromBytes(byte[] data) {
    try (org.bytedeco.javacpp.BytePointer p = new org.bytedeco.javacpp.BytePointer(data)) {
      return torch.from_blob(p, new long[] {data.length}, options(ScalarType.Byte)).clone();
    }
  }

  public static byte[] toBytes(Tensor t) {
    Tensor c = t.contiguous();
    byte[] out = new byte[Math.toIntExact(c.numel())];
    c.data_ptr_byte().get(out);
    return out;
  }

  /** Copies a float tensor of any shape (made contiguous) into a new array. */
  public static float[] toFloats(Tensor t) {
    Tensor c = t.to(ScalarType.Float).contiguous();
    float[] out = new float[Math.toIntExact(c.numel())];
    c.data_ptr_float().get(out);
    return out;
  }

  public static double[] toDoubles(Tensor t) {
    Tensor c = t.to(ScalarType.Double).contiguous();
    double[] out = new double[Math.toIntExact(c.numel())];
    c.data_ptr_double().get(out);
    return out;
  }

  public static long[] toLongs(Tensor t) {
    Tensor c = t.to(ScalarType.Long).contiguous();
    long[] out = new long[Math.toIntExact(c.numel())];
    c.data_ptr_long().get(out);
    return out;
  }

  public static TensorOptions options(ScalarType type) {
    return new TensorOptions().dtype(new ScalarTypeOptional(type));
  }

  /** An uninitialised tensor of {@code shape} (contiguous). */
  public static Tensor empty(TensorOptions options, long... shape) {
    return torch.empty(shape, options, new org.bytedeco.pytorch.MemoryFormatOptional());
  }

  public static Tensor zeros(ScalarType type, long... shape) {
    return torch.zeros(shape, options(type));
  }

  public static Scalar scalar(double v) {
    return new Scalar(v);
  }

  /** Enums returned from native code are fresh instances: compare by value (docs/javacpp-notes.md, 3). */
  public static boolean isType(Tensor t, ScalarType type) {
    return t.scalar_type().value == type.value;
  }

  /** {@code t} as {@code type}: the tensor itself when it already is. */
  public static Tensor asType(Tensor t, ScalarType type) {
    return isType(t, type) ? t : t.to(type);
  }

  /**
   * The floating-point type of a config name: float32, bfloat16 or float16 (how npid4j names
   * storage types in configs and options); IllegalArgumentException for any other name.
   */
  public static ScalarType floatTypeNamed(String name) {
    return switch (name) {
      case "float32" -> ScalarType.Float;
      case "bfloat16" -> ScalarType.BFloat16;
      case "float16" -> ScalarType.Half;
      default -> throw new IllegalArgumentException("must be float32, bfloat16 or float16, got '" + name + "'");
    };
  }

  /**
   * A reused buffer of at least {@code rows} rows ({@code shape} gives the row count and the
   * rest): {@code buffer} itself when it is large enough, else a new one (the old one closed).
   * Returned whole; callers narrow it. Lives outside any PointerScope.
   */
  public static Tensor atLeast(Tensor buffer, long[] shape, TensorOptions options) {
    if (buffer != null && buffer.size(0) >= shape[0]) {
      return buffer;
    }
    if (buffer != null) {
      buffer.close();
    }
    return keep(empty(options, shape));
  }

  /** Back-propagates {@code grad} from {@code output} through its graph (freed afterwards), accumulating into the leaves' gradients. */
  public static void backward(Tensor output, Tensor grad) {
    output.backward(grad, new org.bytedeco.pytorch.BoolOptional(), false, new org.bytedeco.pytorch.TensorArrayRefOptional());
  }

  /** Options of a new tensor of {@code type} on {@code device}. */
  public static TensorOptions options(ScalarType type, org.bytedeco.pytorch.Device device) {
    return options(type).device(new org.bytedeco.pytorch.DeviceOptional(device));
  }

  /** Writes {@code values[0..count)} into the first {@code count} elements of a contiguous int64 CPU tensor. */
  public static void copyInto(Tensor out, long[] values, int count) {
    new LongPointer(out.data_ptr()).capacity(count).put(values, 0, count);
  }

  /** Reads {@code into.length} bytes of a contiguous CPU tensor starting {@code byteOffset} bytes into its data. */
  public static void readBytes(Tensor contiguous, long byteOffset, byte[] into, int length) {
    new org.bytedeco.javacpp.BytePointer(contiguous.data_ptr()).capacity(contiguous.nbytes()).position(byteOffset).get(into, 0, length);
  }

  /** Writes {@code length} bytes into a contiguous CPU tensor starting {@code byteOffset} bytes into its data. */
  public static void writeBytes(Tensor contiguous, long byteOffset, byte[] from, int length) {
    if (byteOffset < 0 || length < 0 || byteOffset + length > contiguous.nbytes()) {
      throw new IndexOutOfBoundsException(length + " bytes at " + byteOffset + " into a tensor of " + contiguous.nbytes());
    }
    new org.bytedeco.javacpp.BytePointer(contiguous.data_ptr()).capacity(contiguous.nbytes()).position(byteOffset).put(from, 0, length);
  }

  /** A 1-d tensor of {@code type} over a copy of raw little-endian {@code bytes} (a torch.save storage). */
  public static Tensor fromRawBytes(byte[] bytes, ScalarType type, long elements) {
    try (org.bytedeco.javacpp.BytePointer p = new org.bytedeco.javacpp.BytePointer(bytes)) {
      return torch.from_blob(p, new long[] {elements}, options(type)).clone();
    }
  }

  /** A copy of the view of {@code storage} with the given sizes, strides and offset (torch's as_strided). */
  public static Tensor stridedCopy(Tensor storage, long[] size, long[] stride, long offset) {
    return storage.as_strided(size, stride, new org.bytedeco.pytorch.LongOptional(offset)).clone();
  }

  /** A random permutation of 0..n-1 from a generator seeded with {@code seed} (torch.randperm). */
  public static long[] randperm(long n, long seed) {
    try (var s = Scopes.open()) {
      org.bytedeco.pytorch.Generator g = torch.make_generator_cpu(seed);
      return toLongs(torch.randperm(n, new org.bytedeco.pytorch.GeneratorOptional(g), options(ScalarType.Long)));
    }
  }

  /** The gradient of {@code outputs} with respect to {@code inputs} only, given the upstream gradients (torch.autograd.backward with inputs). */
  public static void backwardTo(Tensor output, Tensor upstream, Tensor input) {
    torch.backward(new org.bytedeco.pytorch.TensorVector(output), new org.bytedeco.pytorch.TensorVector(upstream),
        new org.bytedeco.pytorch.BoolOptional(false), false, new org.bytedeco.pytorch.TensorVector(input));
  }

  public static long[] shape(Tensor t) {
    long[] s = new long[(int) t.dim()];
    for (int i = 0; i < s.length; i++) {
      s[i] = t.size(i);
    }
    return s;
  }

  private static void checkSize(int length, long[] shape) {
    long n = 1;
    for (long s : shape) {
      n *= s;
    }
    if (n != length) {
      throw new IllegalArgumentException("array of " + length + " elements does not fit shape " + java.util.Arrays.toString(shape));
    }
  }
}
