package dev.npid4j.bench;

import dev.npid4j.UserError;
import dev.npid4j.api.Embedder;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.stream.Stream;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;

/** `npid4j bench embed`: see the command's description. */
@Command(name = "embed", mixinStandardHelpOptions = true,
    description = {"The library's Embedder (dev.npid4j.api) on a folder of images: images/s embedding the folder as one",
        "list (batches of 32) and one image per call, and the resident memory after 1,000 and after --calls",
        "single-image calls (native memory must not grow with calls).",
        "Example: npid4j bench embed --weights runs/quickstart/checkpoint.torch --folder /tmp/imgs --calls 100000 \\",
        "    config=quickstart/npid_fashion_mnist"})
public final class EmbedBench extends BenchBase {
  @Option(names = "--weights", required = true, paramLabel = "FILE", description = "npid4j / VISSL checkpoint or torchvision state dict")
  Path weights;
  @Option(names = "--folder", required = true, paramLabel = "DIR", description = "images (.png, .jpg) below this folder")
  Path folder;
  @Option(names = "--calls", defaultValue = "10000", description = "single-image embed calls (default: ${DEFAULT-VALUE})")
  int calls;
  @Parameters(arity = "1..*", paramLabel = "ARG", description = "config=NAME and overrides describing the model.")
  List<String> config;

  private static double heapMb() {
    return Runtime.getRuntime().totalMemory() / 1048576.0;
  }

  @Override
  public Integer call() throws Exception {
    start();
    List<Path> files;
    try (Stream<Path> walk = Files.walk(folder)) {
      files = walk.filter(f -> f.getFileName().toString().toLowerCase(Locale.ROOT).matches(".*\\.(png|jpe?g)")).sorted().toList();
    }
    if (files.isEmpty()) {
      throw new UserError("--folder " + folder + " holds no .png or .jpg images");
    }
    String name = config.get(0).startsWith("config=") ? config.get(0).substring("config=".length()) : config.get(0);
    Map<String, Object> f = new LinkedHashMap<>();
    try (Embedder e = Embedder.open(weights, name, config.subList(1, config.size()).toArray(String[]::new))) {
      e.embed(files.subList(0, Math.min(files.size(), 32))); // warm-up
      long t0 = System.nanoTime();
      e.embed(files);
      double listSeconds = (System.nanoTime() - t0) / 1e9;
      double rssAt1000 = -1;
      double heapAt1000 = -1;
      Map<String, Object> rssByCalls = new LinkedHashMap<>();
      long t1 = System.nanoTime();
      int timed = Math.min(calls, 1000);
      for (int i = 0; i < calls; i++) {
        e.embed(files.get(i % files.size()));
        if (i + 1 == timed) {
          f.put("single_img_per_s", timed / ((System.nanoTime() - t1) / 1e9));
        }
        if (i + 1 == 1000) {
          rssAt1000 = rssMb();
          heapAt1000 = heapMb();
        }
        if ((i + 1) % 10000 == 0 || i + 1 == 1000) {
          rssByCalls.put(Integer.toString(i + 1), Math.round(rssMb() * 10) / 10.0);
        }
      }
      f.put("bench", "embed");
      f.put("weights", weights.toString());
      f.put("embedding_dim", e.dimension());
      f.put("images", files.size());
      f.put("list_img_per_s", files.size() / listSeconds);
      f.put("calls", calls);
      f.put("rss_mb_after_1000_calls", rssAt1000);
      f.put("rss_mb_after_all_calls", rssMb());
      // the JVM's own heap grows as it likes; what grows besides it is native memory
      f.put("java_heap_committed_mb_after_1000_calls", heapAt1000);
      f.put("java_heap_committed_mb_after_all_calls", heapMb());
      f.put("rss_mb_by_calls", rssByCalls);
    }
    return emit(f);
  }
}
