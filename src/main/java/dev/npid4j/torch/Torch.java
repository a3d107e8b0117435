package dev.npid4j.torch;

import java.io.IOException;
import java.io.UncheckedIOException;
import org.bytedeco.javacpp.Loader;
import org.bytedeco.pytorch.global.torch;

/** Loads libtorch once per process and owns the process-wide native settings. */
public final class Torch {
  /** libtorch version of the org.bytedeco:pytorch preset this build links against. */
  public static final String LIBTORCH_VERSION = "2.10.0";

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
