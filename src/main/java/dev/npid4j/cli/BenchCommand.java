package dev.npid4j.cli;

import dev.npid4j.UserError;
import dev.npid4j.config.RunConfig;
import dev.npid4j.data.Batch;
import dev.npid4j.data.BatchLoader;
import dev.npid4j.data.Dataset;
import dev.npid4j.data.Datasets;
import dev.npid4j.data.EpochSampler;
import dev.npid4j.data.transform.Transforms;
import dev.npid4j.dist.Communicator;
import dev.npid4j.engine.MetricsLog;
import dev.npid4j.engine.Trainer;
import dev.npid4j.eval.WeightedKnn;
import dev.npid4j.loss.NceLossParams;
import dev.npid4j.loss.NceLossWithMemory;
import dev.npid4j.loss.RandomNegativeSampler;
import dev.npid4j.torch.FusedBatchNorm;
import dev.npid4j.torch.Layers;
import dev.npid4j.torch.NativeKernels;
import dev.npid4j.torch.Ops;
import dev.npid4j.torch.Tensors;
import dev.npid4j.torch.Torch;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.Callable;
import org.bytedeco.javacpp.PointerScope;
import org.bytedeco.pytorch.Tensor;
import org.bytedeco.pytorch.global.torch;
import org.bytedeco.pytorch.global.torch.ScalarType;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;

@Command(name = "bench", mixinStandardHelpOptions = true,
    description = {"Benchmarks that print one JSON object on stdout (figures plus threads, libtorch version, CPU, peak RSS);",
        "logs go to stderr. bench/compare.sh runs each next to its PyTorch reference in bench/."},
    subcommands = {BenchCommand.Train.class, BenchCommand.Loss.class, BenchCommand.Knn.class, BenchCommand.Data.class,
        BenchCommand.Norm.class})
final class BenchCommand implements Runnable {
  @Override
  public void run() {
    new picocli.CommandLine(this).usage(System.out);
  }

  abstract static class Base implements Callable<Integer> {
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
  }

  static String cpuModel() {
    try {
      return Files.readAllLines(Path.of("/proc/cpuinfo")).stream().filter(l -> l.startsWith("model name"))
          .map(l -> l.substring(l.indexOf(':') + 1).trim()).findFirst().orElse("unknown");
    } catch (IOException e) {
      return "unknown";
    }
  }

  /** VmHWM: the peak resident set of this process, native memory included. */
  static double peakRssMb() {
    try {
      for (String l : Files.readAllLines(Path.of("/proc/self/status"))) {
        if (l.startsWith("VmHWM:")) {
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

  @Command(name = "loss", mixinStandardHelpOptions = true,
      description = {"One nce_loss_with_memory step (forward, gradient, momentum update of the bank) on random embeddings.",
          "Example (NPID++ scale): npid4j bench loss --n 1281167 --dim 128 --batch 32 --negatives 32000 --iters 10"})
  static final class Loss extends Base {
    @Option(names = "--n", defaultValue = "1281167", description = "memory bank rows (default: ${DEFAULT-VALUE})")
    long n;
    @Option(names = "--dim", defaultValue = "128")
    int dim;
    @Option(names = "--batch", defaultValue = "256")
    int batch;
    @Option(names = "--negatives", defaultValue = "4096")
    int negatives;
    @Option(names = "--iters", defaultValue = "10")
    int iters;
    @Option(names = "--warmup", defaultValue = "2")
    int warmup;
    @Option(names = "--bank-dtype", defaultValue = "float32", description = "float32 | bfloat16 | float16: how the bank is stored")
    String bankDtype;

    @Option(names = "--loss-type", defaultValue = "nce", description = "nce | cross_entropy")
    String lossType;
    @Option(names = "--scores", defaultValue = "AUTO",
        description = "AUTO (training's choice) | DENSE (batch x whole bank, sampled scores picked out) | SAMPLED (a sampled matrix product"
            + " on the bank's rows in place) | GATHER (the sampled rows copied out, then multiplied)")
    NceLossWithMemory.Scores scores;
    @Option(names = "--sampling", defaultValue = "random",
        description = "random (VISSL: K rows per sample) | shared_random (npid4j fast mode: one set of K rows per step)")
    String sampling;

    @Override
    public Integer call() throws Exception {
      start();
      NceLossParams p = NceLossParams.npid(n);
      p = new NceLossParams(lossType.equals("nce") ? NceLossParams.LossType.NCE : NceLossParams.LossType.CROSS_ENTROPY, true,
          p.temperature(), p.lossWeights(), p.normConstant(), p.updateMemWithEmbIndex(), p.ignoreIndex(), negatives, sampling, n, dim,
          p.momentum(), true, true);
      Torch.manualSeed(0);
      List<Double> ms = new ArrayList<>();
      java.util.Random r = new java.util.Random(0);
      String scoresUsed;
      ScalarType bankType;
      try {
        bankType = Tensors.floatTypeNamed(bankDtype);
      } catch (IllegalArgumentException e) {
        throw new picocli.CommandLine.ParameterException(new picocli.CommandLine(this), "--bank-dtype " + e.getMessage());
      }
      try (NceLossWithMemory loss = NceLossWithMemory.create(p, ScalarType.Float, 0, new RandomNegativeSampler(0), Communicator.local(),
          dev.npid4j.torch.Devices.CPU, bankType).scores(scores)) {
        scoresUsed = p.sharedNegatives() ? "shared" : loss.scoresUsed().toString().toLowerCase(java.util.Locale.ROOT);
        for (int it = 0; it < warmup + iters; it++) {
          try (PointerScope s = new PointerScope()) {
            Tensor emb = torch.randn(batch, dim);
            long[] y = new long[batch];
            for (int i = 0; i < batch; i++) {
              y[i] = Math.floorMod(r.nextLong(), n);
            }
            long t0 = System.nanoTime();
            loss.forward(List.of(emb), y).loss();
            double dt = (System.nanoTime() - t0) / 1e6;
            if (it >= warmup) {
              ms.add(dt);
            }
          }
        }
      }
      Map<String, Object> f = new LinkedHashMap<>();
      f.put("bench", "loss");
      f.put("n", n);
      f.put("dim", dim);
      f.put("batch", batch);
      f.put("negatives", negatives);
      f.put("loss_type", lossType);
      f.put("sampling", sampling);
      f.put("bank_dtype", bankDtype);
      f.put("scores", scores.toString().toLowerCase(java.util.Locale.ROOT));
      f.put("scores_used", scoresUsed); // a 16-bit bank is always gathered; AUTO resolved
      f.put("iters", iters);
      f.put("ms_per_step", median(ms));
      f.put("ms_per_step_mean", ms.stream().mapToDouble(Double::doubleValue).average().orElse(0));
      return emit(f);
    }
  }

  @Command(name = "knn", mixinStandardHelpOptions = true,
      description = {"Weighted kNN (cosine, sigma 0.07) of random unit vectors: train N x D against test M x D.",
          "Example: npid4j bench knn --train 60000 --test 10000 --dim 128 --k 200"})
  static final class Knn extends Base {
    @Option(names = "--train", defaultValue = "60000")
    int train;
    @Option(names = "--test", defaultValue = "10000")
    int test;
    @Option(names = "--dim", defaultValue = "128")
    int dim;
    @Option(names = "--k", defaultValue = "200")
    int k;
    @Option(names = "--classes", defaultValue = "10")
    int classes;

    @Override
    public Integer call() throws Exception {
      start();
      Torch.manualSeed(0);
      double seconds;
      double top1;
      try (PointerScope s = new PointerScope()) {
        Tensor tr = Ops.l2Normalize(torch.randn(train, dim));
        Tensor te = Ops.l2Normalize(torch.randn(test, dim));
        long[] trl = Tensors.toLongs(torch.randint(classes, new long[] {train}));
        long[] tel = Tensors.toLongs(torch.randint(classes, new long[] {test}));
        long t0 = System.nanoTime();
        top1 = WeightedKnn.evaluate(tr, trl, te, tel, k, 0.07, classes).top1();
        seconds = (System.nanoTime() - t0) / 1e9;
      }
      Map<String, Object> f = new LinkedHashMap<>();
      f.put("bench", "knn");
      f.put("train", train);
      f.put("test", test);
      f.put("dim", dim);
      f.put("k", k);
      f.put("seconds", seconds);
      f.put("top1", top1);
      return emit(f);
    }
  }

  @Command(name = "norm", mixinStandardHelpOptions = true,
      description = {"A training-mode BatchNorm2d (+ ReLU) forward and backward on CPU: npid4j's native kernels and",
          "libtorch's BatchNorm2d + relu_, interleaved in one process. Keys ms_fused and ms_libtorch (median",
          "forward + backward), fwd_ms_fused and fwd_ms_libtorch (median forward), speedup."})
  static final class Norm extends Base {
    @Option(names = "--shape", defaultValue = "32,256,56,56", split = ",", description = "N,C,H,W (default: ${DEFAULT-VALUE})")
    long[] shape;
    @Option(names = "--relu", arity = "1", defaultValue = "true", description = "true | false: with the ReLU that follows it (default: ${DEFAULT-VALUE})")
    boolean relu;
    @Option(names = "--iters", defaultValue = "9")
    int iters;
    @Option(names = "--warmup", defaultValue = "2")
    int warmup;

    @Override
    public Integer call() throws Exception {
      start();
      if (shape.length != 4 || Arrays.stream(shape).anyMatch(d -> d < 1) || iters < 1 || warmup < 0) {
        throw new UserError("bench norm: --shape needs N,C,H,W (positive), --iters >= 1, --warmup >= 0");
      }
      if (!NativeKernels.available()) {
        throw new UserError("bench norm: the native kernels are off (" + NativeKernels.unavailableReason() + ")");
      }
      Torch.manualSeed(0);
      org.bytedeco.pytorch.BatchNorm2dImpl bn = Layers.batchNorm2d(shape[1]);
      List<List<Double>> total = List.of(new ArrayList<>(), new ArrayList<>());
      List<List<Double>> forward = List.of(new ArrayList<>(), new ArrayList<>());
      try (PointerScope s = new PointerScope()) {
        Tensor leaf = torch.randn(shape).requires_grad_(true);
        Tensor upstream = torch.randn(shape);
        for (int i = 0; i < warmup + iters; i++) {
          for (int fused = 0; fused < 2; fused++) {
            try (PointerScope step = new PointerScope()) {
              Tensor x = leaf.mul(new org.bytedeco.pytorch.Scalar(1.0)); // not a leaf, as a convolution's output
              long t0 = System.nanoTime();
              Tensor y;
              if (fused == 1) {
                y = FusedBatchNorm.forward(bn, x, relu);
              } else {
                y = relu ? torch.relu_(bn.forward(x)) : bn.forward(x);
              }
              long t1 = System.nanoTime();
              // the gradient of x only: x's own backward (the multiply) is not timed
              torch.backward(new org.bytedeco.pytorch.TensorVector(y), new org.bytedeco.pytorch.TensorVector(upstream),
                  new org.bytedeco.pytorch.BoolOptional(false), false, new org.bytedeco.pytorch.TensorVector(x));
              long t2 = System.nanoTime();
              if (i >= warmup) {
                forward.get(fused).add((t1 - t0) / 1e6);
                total.get(fused).add((t2 - t0) / 1e6);
              }
            }
          }
        }
      }
      Map<String, Object> f = new LinkedHashMap<>();
      f.put("bench", "norm");
      f.put("shape", shape);
      f.put("relu", relu);
      f.put("ms_fused", median(total.get(1)));
      f.put("ms_libtorch", median(total.get(0)));
      f.put("fwd_ms_fused", median(forward.get(1)));
      f.put("fwd_ms_libtorch", median(forward.get(0)));
      f.put("speedup", median(total.get(0)) / median(total.get(1)));
      return emit(f);
    }
  }

  @Command(name = "train", mixinStandardHelpOptions = true,
      description = {"Full training steps (data loading, forward, loss with memory bank, backward, SGD) for any config.",
          "The figure is taken between step --warmup and step --steps; no kNN, the run directory is a temp folder.",
          "Example: npid4j bench train config=pretrain/npid/npid_8gpu_resnet config.MACHINE.DEVICE=cpu \\",
          "    config.DISTRIBUTED.NUM_PROC_PER_NODE=1 config.DATA.TRAIN.DATA_SOURCES=[synthetic] \\",
          "    config.DATA.TRAIN.BATCHSIZE_PER_REPLICA=32 --steps 6"})
  static final class Train extends Base {
    @Parameters(arity = "1..*", paramLabel = "ARG", description = "config=NAME and overrides, as for train.")
    List<String> args;
    @Option(names = "--steps", defaultValue = "10")
    int steps;
    @Option(names = "--warmup", defaultValue = "2")
    int warmup;

    @Override
    public Integer call() throws Exception {
      if (steps <= warmup) {
        throw new UserError("--steps must be larger than --warmup (" + warmup + ")");
      }
      start();
      Path dir = Files.createTempDirectory("npid4j-bench-");
      List<String> a = new ArrayList<>(args);
      var probe = dev.npid4j.config.ConfigComposer.compose(args).tree(); // unvalidated: DATA_LIMIT may still be unset
      int batch = probe.getInt("config.DATA.TRAIN.BATCHSIZE_PER_REPLICA");
      long limit = probe.getLong("config.DATA.TRAIN.DATA_LIMIT");
      long needed = (long) steps * batch;
      if (limit < 0 || limit > needed) {
        a.add("config.DATA.TRAIN.DATA_LIMIT=" + needed); // one epoch of exactly --steps batches
      }
      a.addAll(List.of("config.OPTIMIZER.num_epochs=1", "config.KNN_MONITOR.FREQUENCY=-1", "config.CHECKPOINT.DIR=" + dir,
          "config.MACHINE.NUM_THREADS=" + threads, "config.LOG_FREQUENCY=1000000",
          // one short epoch: a constant LR instead of the config's schedule (which may need more epochs); speed is the same
          "config.OPTIMIZER.param_schedulers.lr.name=constant", "config.OPTIMIZER.param_schedulers.lr.value=0.01",
          // how the bank starts does not change what a step costs; filling it from the model is a pass over the data
          "config.LOSS.nce_loss_with_memory.memory_params.init_from_model=false"));
      RunConfig cfg = RunConfig.fromArgs(a);
      long[] marks = new long[2];
      try {
        new Trainer(cfg, System.err).onStep((epoch, globalStep, loss) -> {
          if (globalStep == warmup) {
            marks[0] = System.nanoTime();
          } else if (globalStep == steps) {
            marks[1] = System.nanoTime();
          }
        }).run();
      } finally {
        deleteTree(dir);
      }
      double seconds = (marks[1] - marks[0]) / 1e9;
      Map<String, Object> f = new LinkedHashMap<>();
      f.put("bench", "train");
      f.put("experiment", cfg.experiment());
      f.put("model", cfg.model().trunkName().equals("resnet") ? "resnet" + cfg.model().trunk().depth() : cfg.model().trunkName());
      f.put("batch", batch);
      f.put("steps_timed", steps - warmup);
      f.put("seconds_per_step", seconds / (steps - warmup));
      f.put("img_per_s", (double) (steps - warmup) * batch / seconds);
      return emit(f);
    }
  }

  @Command(name = "data", mixinStandardHelpOptions = true,
      description = {"Decoding and the training transforms of a config through the background loader (no model),",
          "with --threads loader threads (the config's NUM_DATALOADER_WORKERS is not used here).",
          "Example: npid4j bench data config=quickstart/npid_fashion_mnist --images 20000"})
  static final class Data extends Base {
    @Parameters(arity = "1..*", paramLabel = "ARG", description = "config=NAME and overrides, as for train.")
    List<String> args;
    @Option(names = "--images", defaultValue = "20000")
    int images;

    @Override
    public Integer call() throws Exception {
      start();
      RunConfig cfg = RunConfig.fromArgs(args);
      Dataset data = Datasets.open(cfg.train(), cfg.model().trunk().inputChannels(), cfg.seed());
      Transforms t = Transforms.fromConfig(cfg.train().transforms(), "config.DATA.TRAIN.TRANSFORMS");
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
