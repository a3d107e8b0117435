package dev.npid4j.torch;

import java.io.IOException;
import java.io.InputStream;
import java.net.URISyntaxException;
import java.net.URL;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;

/**
 * npid4j's own C kernels (src/main/c, built into {@value #LIBRARY} by scripts/build-kernels.sh),
 * for the few places where libtorch's CPU kernels leave most of the speed unused. Callers check
 * {@link #available()} and otherwise use libtorch's op for the same maths: the kernels are missing
 * where the build found no C compiler, and {@code NPID4J_NATIVE_KERNELS=0} switches them off.
 *
 * <p>The library is loaded after libtorch, so its OpenMP calls bind to the libgomp libtorch
 * brought (one thread pool, not two fighting over the cores).
 */
public final class NativeKernels {
  static final String LIBRARY = "libnpid4j_kernels.so";
  /** Environment switch: 0 runs libtorch's kernels even where the native ones are built. */
  public static final String SWITCH = "NPID4J_NATIVE_KERNELS";

  private static volatile Boolean available;
  private static String unavailableReason = "";

  private NativeKernels() {}

  /** Whether the native kernels are loaded (loading them on the first call). */
  public static boolean available() {
    Boolean a = available;
    if (a == null) {
      a = load();
    }
    return a;
  }

  /** Why {@link #available()} is false, for messages; empty when it is true. */
  public static String unavailableReason() {
    available();
    return unavailableReason;
  }

  private static synchronized boolean load() {
    if (available != null) {
      return available;
    }
    boolean ok = false;
    if ("0".equals(System.getenv(SWITCH))) {
      unavailableReason = SWITCH + "=0";
    } else {
      URL url = NativeKernels.class.getResource(LIBRARY);
      if (url == null) {
        unavailableReason = LIBRARY + " was not built (no C compiler when npid4j was built: apt-get install gcc, then rebuild)";
      } else {
        Torch.load();
        try {
          System.load(localPath(url).toString());
          ok = true;
        } catch (IOException | URISyntaxException | UnsatisfiedLinkError e) {
          unavailableReason = "cannot load " + url + ": " + e.getMessage();
        }
      }
    }
    if (!ok) {
      System.err.println("npid4j: note: native kernels off (" + unavailableReason + "); libtorch's BatchNorm runs instead, slower");
    }
    available = ok;
    return ok;
  }

  /** The library as a file: itself when the classes are a folder, else a copy out of the jar. */
  private static Path localPath(URL url) throws IOException, URISyntaxException {
    if ("file".equals(url.getProtocol())) {
      return Path.of(url.toURI());
    }
    Path tmp = Files.createTempFile("npid4j-kernels-", ".so");
    tmp.toFile().deleteOnExit();
    try (InputStream in = url.openStream()) {
      Files.copy(in, tmp, StandardCopyOption.REPLACE_EXISTING);
    }
    return tmp;
  }

  /**
   * Training-mode BatchNorm over a contiguous float32 N x C x HW tensor at {@code x}: writes y
   * (ReLU applied when {@code relu}) and the per-channel mean, biased variance and
   * 1/sqrt(var + eps), and updates the running mean and variance (float32, skipped when 0) and
   * num_batches_tracked (int64, may be 0) as torch.nn.BatchNorm does; {@code momentum} below 0
   * means a cumulative average (PyTorch's None). {@code w} and {@code b} may be 0 (no affine).
   * Addresses are data pointers.
   */
  static native void batchNormForward(long x, long y, long w, long b, long mean, long var, long invstd,
      long runningMean, long runningVar, long batches, double momentum, long n, long c, long hw, double eps,
      boolean relu, int threads);

  /**
   * The backward of {@link #batchNormForward}: dx (skipped when 0) and the gradients of w and b
   * (each skipped when 0) from dy, x and the forward's mean and invstd.
   */
  static native void batchNormBackward(long dy, long x, long dx, long w, long b, long mean, long invstd,
      long dw, long db, long n, long c, long hw, boolean relu, int threads);

  /**
   * For tests: runs the kernels' row loops in AVX-512 (2), AVX2+FMA (1) or plain code (0), or
   * the best the CPU has (-1). Returns the level now in use, or -1 when the CPU lacks it. The
   * three give the same bits (the same operations in the same order).
   */
  static native int useInstructionSet(int level);
}
