package dev.npid4j.cli;

import dev.npid4j.config.LinearBenchmarkConfig;
import dev.npid4j.config.ConfigError;
import dev.npid4j.config.EvalSettings.PooledLayer;
import dev.npid4j.config.RunConfig;
import dev.npid4j.data.Dataset;
import dev.npid4j.data.transform.Transforms;
import dev.npid4j.formats.AtomicFiles;
import dev.npid4j.engine.MetricsLog;
import dev.npid4j.eval.LinearEval;
import dev.npid4j.optim.LrSchedule;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;

@Command(name = "linear", mixinStandardHelpOptions = true,
    description = {"Linear classification on the frozen trunk, as VISSL's linear_image_classification benchmark:", "",
        "one head per layer of config.MODEL.FEATURE_EVAL_SETTINGS.LINEAR_EVAL_FEAT_POOL_OPS_MAP, given by",
        "config.MODEL.HEAD.PARAMS (eval_mlp: BatchNorm2d + Linear; mlp: Linear), trained together with SGD",
        "(config.OPTIMIZER: nesterov, multistep LR, ...) on the train split's class labels, tested after every",
        "epoch (top-1 / top-5 per head). Writes linear.json to config.EXTRACT_FEATURES.OUTPUT_DIR, else",
        "<CHECKPOINT.DIR>/eval. Weights as for extract (PARAMS_FILE, else CHECKPOINT.DIR's newest checkpoint).", "",
        "Example (a few minutes on 2 cores):",
        "  npid4j linear config=benchmark/linear_image_classification/fashion_mnist/eval_resnet_linear \\",
        "      config.MODEL.WEIGHTS_INIT.PARAMS_FILE=runs/quickstart/checkpoint.torch"})
final class LinearCommand implements Callable<Integer> {
  @Mixin
  ConfigArgs config;

  @Override
  public Integer call() throws Exception {
    LinearBenchmarkConfig benchmark = LinearBenchmarkConfig.fromArgs(config.args);
    List<LinearEval.HeadSpec> specs = benchmark.heads();
    RunConfig cfg = benchmark.run();
    EvalContext ctx = new EvalContext(cfg, true, System.out);
    List<PooledLayer> layers = ctx.ev.layers();
    if (layers.isEmpty()) {
      throw new ConfigError("config.MODEL.FEATURE_EVAL_SETTINGS.LINEAR_EVAL_FEAT_POOL_OPS_MAP is empty: name the trunk layers to classify");
    }
    Dataset train = ctx.split("train");
    Dataset test = ctx.split("test");
    Transforms trainTransforms = cfg.train().transforms();
    LinearEval eval = new LinearEval(ctx.trained.model().trunk(), layers, specs, cfg.model().headBatchNormEps(),
        cfg.model().headBatchNormMomentum());
    int epochs = cfg.optimizer().numEpochs();
    LrSchedule schedule = cfg.optimizer().lrSchedule();
    List<String> names = new ArrayList<>();
    for (int h = 0; h < layers.size(); h++) {
      names.add(h + ":" + layers.get(h).layer() + ":" + specs.get(h).type());
    }
    System.out.println("[linear] heads " + names + " on " + train.describe() + "; test " + test.describe());
    Path file = ctx.outDir.resolve("linear.json");
    List<Map<String, Object>> history = new ArrayList<>();
    long t0 = System.nanoTime();
    eval.run(train, trainTransforms, test, ctx.evalTransforms(), cfg.train().batchSize(), cfg.test().batchSize(), cfg.numWorkers(),
        cfg.seed(), epochs, schedule, cfg.optimizer().lrInterval(), cfg.optimizer().momentum(),
        cfg.optimizer().weightDecay(), cfg.optimizer().nesterov(), cfg.optimizer().regularizeBn(), cfg.optimizer().regularizeBias(),
        System.out::println, r -> {
          Map<String, Object> e = new LinkedHashMap<>();
          e.put("epoch", r.epoch());
          e.put("lr", r.lr());
          e.put("loss", r.loss());
          Map<String, Object> perHead = new LinkedHashMap<>();
          for (int h = 0; h < names.size(); h++) {
            perHead.put(names.get(h), Map.of("top1", r.top1Top5().get(h)[0], "top5", r.top1Top5().get(h)[1]));
            System.out.println(String.format(Locale.ROOT, "[linear] epoch %d test, head %s: top-1 %.2f%% top-5 %.2f%%",
                r.epoch(), names.get(h), r.top1Top5().get(h)[0], r.top1Top5().get(h)[1]));
          }
          e.put("heads", perHead);
          history.add(e);
          Map<String, Object> json = new LinkedHashMap<>();
          json.put("weights", ctx.trained.source().toString());
          json.put("epochs_done", r.epoch());
          json.put("epochs", epochs);
          json.put("final", perHead);
          String best = null;
          double bestTop1 = -1;
          for (int h = 0; h < names.size(); h++) {
            if (r.top1Top5().get(h)[0] > bestTop1) {
              bestTop1 = r.top1Top5().get(h)[0];
              best = names.get(h);
            }
          }
          json.put("best_head", best);
          json.put("top1", bestTop1);
          json.put("seconds", (System.nanoTime() - t0) / 1e9);
          json.put("history", history);
          try {
            AtomicFiles.writeString(file, MetricsLog.JSON.writerWithDefaultPrettyPrinter().writeValueAsString(json) + "\n");
          } catch (IOException ex) {
            throw new UncheckedIOException(ex);
          }
        });
    System.out.println(String.format(Locale.ROOT, "[linear] done in %.0fs -> %s", (System.nanoTime() - t0) / 1e9, file));
    return 0;
  }
}
