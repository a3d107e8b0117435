package dev.npid4j.torch;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.util.Map;
import org.bytedeco.javacpp.Loader;
import org.bytedeco.pytorch.global.torch;

/** Loads libtorch once per process and owns the process-wide native settings. */
public final class Torch {
  /** libtorch version of the org.bytedeco:pytorch preset this build links against. */
  public static final String LIBTORCH_VERSION = "2.10.0";

  /**
   * Environment the native libraries read once, when they load, so a JVM cannot set it for itself:
   * bin/npid4j, the test JVM and the local launcher's ranks get it. libgomp and OpenBLAS both keep
   * idle threads spinning after each parallel call (OpenBLAS for about 2^28 cycles), and on a small
   * machine a spinning thread takes the core that libtorch's other OpenMP thread needs: with
   * OpenBLAS's default the quickstart's backward took 265-309 ms a step instead of 138-143. A
   * short libgomp spin (GOMP_SPINCOUNT, which overrides the passive policy's 0) saves a futex
   * wake-up per parallel region: 12-15% on the float32 quickstart step, 10% on the NCE step.
   */
  public static final Map<String, String> NATIVE_ENV = Map.of("OMP_WAIT_POLICY", "PASSIVE", "OPENBLAS_THREAD_TIMEOUT", "4",
      "GOMP_SPINCOUNT", "20000");

  private static volatile boolean loaded;

  private Torch() {}

  /**
   * Extracts every native library before the first load. Without this, a fresh JavaCPP cache
   * loads the libtorch.so stub before libtorch_cpu.so is extracted and ld.so can pick up a
   * system libtorch (Debian's python3-torch), which crashes the JVM (bytedeco-notes pitfall 1).
   */
  public static synchronized void load() {
    if (loaded) {
      return;
    }
    try {
      Loader.cacheResources("/org/bytedeco/pytorch/" + Loader.getPlatform() + "/");
    } catch (IOException e) {
      throw new UncheckedIOException("cannot extract libtorch natives to the JavaCPP cache", e);
    }
    Loader.load(torch.class);
    loaded = true;
    NATIVE_ENV.forEach((name, value) -> {
      if (System.getenv(name) == null) {
        System.err.printf("npid4j: note: %s is not set; %s=%s (as bin/npid4j sets it) is how idle native threads"
            + " should wait on the cores libtorch computes on (see Torch.NATIVE_ENV)%n", name, name, value);
      }
    });
  }

  /** Intra-op threads for libtorch; 0 or less means one per available core. */
  public static void setThreads(int threads) {
    load();
    int n = threads > 0 ? threads : Runtime.getRuntime().availableProcessors();
    torch.set_num_threads(n);
  }

  public static int threads() {
    load();
    return torch.get_num_threads();
  }

  public static void manualSeed(long seed) {
    load();
    torch.manual_seed(seed);
  }
}
