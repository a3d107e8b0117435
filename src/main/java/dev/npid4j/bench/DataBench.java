package dev.npid4j.bench;

import dev.npid4j.config.RunConfig;
import dev.npid4j.data.Batch;
import dev.npid4j.data.BatchLoader;
import dev.npid4j.data.Dataset;
import dev.npid4j.data.Datasets;
import dev.npid4j.data.EpochSampler;
import dev.npid4j.data.transform.Transforms;
import java.util.Arrays;
import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;

/** `npid4j bench data`: see the command's description. */
@Command(name = "data", mixinStandardHelpOptions = true,
    description = {"Decoding and the training transforms of a config through the background loader (no model),",
        "with --threads loader threads (the config's NUM_DATALOADER_WORKERS is not used here).",
        "Example: npid4j bench data config=quickstart/npid_fashion_mnist --images 20000"})
public final class DataBench extends BenchBase {
  @Parameters(arity = "1..*", paramLabel = "ARG", description = "config=NAME and overrides, as for train.")
  List<String> args;
  @Option(names = "--images", defaultValue = "20000")
  int images;

  @Override
  public Integer call() throws Exception {
    start();
    RunConfig cfg = RunConfig.fromArgs(args);
    Dataset data = Datasets.open(cfg.train(), cfg.model().trunk().inputChannels(), cfg.seed());
    Transforms t = cfg.train().transforms();
    // as many epochs as --images needs (the JIT warms up in the first one, as a real run's first epoch)
    EpochSampler sampler = new EpochSampler(data.size(), cfg.seed(), 0, 1, true);
    long t0 = System.nanoTime();
    long seen = 0;
    long allocated;
    long allocatedBefore = allocatedBytes();
    try (BatchLoader loader = new BatchLoader(data, t, cfg.train().batchSize(), false, threads, cfg.seed())) {
      for (int epoch = 0; seen < images; epoch++) {
        int[] order = sampler.indices(epoch);
        Iterator<Batch> it = loader.epoch(epoch, Arrays.copyOf(order, (int) Math.min(order.length, images - seen)), 0);
        while (it.hasNext()) {
          seen += it.next().size();
        }
      }
      allocated = allocatedBytes() - allocatedBefore; // while the loader threads are alive
    }
    double seconds = (System.nanoTime() - t0) / 1e9;
    Map<String, Object> f = new LinkedHashMap<>();
    f.put("bench", "data");
    f.put("experiment", cfg.experiment());
    f.put("images", seen);
    f.put("workers", threads);
    f.put("seconds", seconds);
    f.put("img_per_s", seen / seconds);
    f.put("alloc_bytes_per_image", allocated / Math.max(1, seen));
    return emit(f);
  }

  /** Java heap bytes allocated so far by the live threads (HotSpot's per-thread counters). */
  static long allocatedBytes() {
    com.sun.management.ThreadMXBean mx = (com.sun.management.ThreadMXBean) java.lang.management.ManagementFactory.getThreadMXBean();
    long sum = 0;
    for (long b : mx.getThreadAllocatedBytes(mx.getAllThreadIds())) {
      sum += Math.max(0, b);
    }
    return sum;
  }
}
