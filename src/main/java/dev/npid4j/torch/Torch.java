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
   * src/main/resources/npid4j/native-env.properties, the one list bin/npid4j, the test JVM and the
   * launcher's ranks all get (why each value: docs/performance.md).
   */
  public static final Map<String, String> NATIVE_ENV = readNativeEnv();

  private static Map<String, String> readNativeEnv() {
    java.util.Properties p = new java.util.Properties();
    try (var in = Torch.class.getResourceAsStream("/npid4j/native-env.properties")) {
      if (in == null) {
        throw new IllegalStateException("npid4j/native-env.properties is missing from the class path");
      }
      p.load(in);
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
    Map<String, String> env = new java.util.TreeMap<>();
    p.forEach((k, v) -> env.put((String) k, (String) v));
    return java.util.Collections.unmodifiableMap(env);
  }

  private static volatile boolean loaded;

  private Torch() {}

  /**
   * Extracts every native library before the first load. Without this, a fresh JavaCPP cache
   * loads the libtorch.so stub before libtorch_cpu.so is extracted and ld.so can pick up a
   * system libtorch (Debian's python3-torch), which crashes the JVM (docs/javacpp-notes.md, 1).
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
      // the thread settings cost 2x where missing; the malloc ones are worth less, and a library user may have reasons
      if (System.getenv(name) == null && !name.startsWith("MALLOC_")) {
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

  /** A duration as the c10d options take it (std::chrono::milliseconds). */
  public static org.bytedeco.javacpp.chrono.Milliseconds milliseconds(java.time.Duration d) {
    return new org.bytedeco.javacpp.chrono.Milliseconds(d.toMillis());
  }

  /** A size_t value as the c10d options take it. */
  public static org.bytedeco.javacpp.SizeTPointer sizeT(long value) {
    return new org.bytedeco.javacpp.SizeTPointer(1).put(value);
  }
}
