package dev.npid4j.bench;

import dev.npid4j.UserError;
import dev.npid4j.engine.MetricsLog;
import dev.npid4j.torch.NativeKernels;
import dev.npid4j.torch.Torch;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.Callable;
import picocli.CommandLine.Option;

/**
 * What every {@code npid4j bench} command shares: the thread count, loading libtorch, and the one
 * JSON object each prints on stdout with the environment's figures (threads, libtorch, CPU, peak RSS).
 */
public abstract class BenchBase implements Callable<Integer> {
  @Option(names = "--threads", defaultValue = "2", description = "libtorch intra-op threads (default: ${DEFAULT-VALUE})")
  int threads;

  @Option(names = "--verbose", description = "Print stack traces with errors.")
  boolean verbose;

  void start() {
    if (threads < 1) {
      throw new UserError("--threads must be >= 1, got " + threads);
    }
    Torch.load();
    Torch.setThreads(threads);
  }

  int emit(Map<String, Object> figures) throws IOException {
    Map<String, Object> out = new LinkedHashMap<>(figures);
    out.put("impl", "npid4j");
    out.put("threads", threads);
    out.put("libtorch", Torch.LIBTORCH_VERSION);
    out.put("java", System.getProperty("java.version"));
    out.put("cpu", cpuModel());
    out.put("native_kernels", NativeKernels.available());
    out.put("peak_rss_mb", peakRssMb());
    System.out.println(MetricsLog.JSON.writeValueAsString(out));
    return 0;
  }

  static String cpuModel() {
    try {
      return Files.readAllLines(Path.of("/proc/cpuinfo")).stream().filter(l -> l.startsWith("model name"))
          .map(l -> l.substring(l.indexOf(':') + 1).trim()).findFirst().orElse("unknown");
    } catch (IOException e) {
      return "unknown";
    }
  }

  /** VmRSS: the resident set of this process now, native memory included. */
  static double rssMb() {
    return statusMb("VmRSS:");
  }

  /** VmHWM: the peak resident set of this process, native memory included. */
  static double peakRssMb() {
    return statusMb("VmHWM:");
  }

  private static double statusMb(String key) {
    try {
      for (String l : Files.readAllLines(Path.of("/proc/self/status"))) {
        if (l.startsWith(key)) {
          return Long.parseLong(l.replaceAll("[^0-9]", "")) / 1024.0;
        }
      }
    } catch (IOException | NumberFormatException e) {
      // not Linux
    }
    return -1;
  }

  static double median(List<Double> v) {
    List<Double> s = new ArrayList<>(v);
    s.sort(null);
    return s.get(s.size() / 2);
  }

  static void deleteTree(Path dir) throws IOException {
    if (!Files.exists(dir)) {
      return;
    }
    try (var s = Files.walk(dir)) {
      for (Path p : s.sorted(java.util.Comparator.reverseOrder()).toList()) {
        Files.deleteIfExists(p);
      }
    }
  }
}
