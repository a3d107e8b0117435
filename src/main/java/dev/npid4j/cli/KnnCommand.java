package dev.npid4j.cli;

import dev.npid4j.UserError;
import dev.npid4j.data.Dataset;
import dev.npid4j.formats.AtomicFiles;
import dev.npid4j.engine.Features;
import dev.npid4j.engine.MetricsLog;
import dev.npid4j.eval.KnnResult;
import dev.npid4j.eval.WeightedKnn;
import dev.npid4j.torch.Ops;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.Callable;
import org.bytedeco.pytorch.Tensor;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;

@Command(name = "knn", mixinStandardHelpOptions = true,
    description = {"Weighted kNN classification of the test split, by two protocols:", "",
        "  vissl: VISSL's nearest_neighbor_test: train features re-extracted with the eval transforms,",
        "         config.NEAREST_NEIGHBOR.TOPK (one k or a list), SIGMA, L2_NORM_FEATS (default: raw dot products)",
        "  npid:  NPID's protocol: the memory bank of the checkpoint as train features, cosine similarity,",
        "         sigma config.KNN_MONITOR.SIGMA (0.07), for each k of TOPK", "",
        "Writes knn.json (top-1 and top-5 per protocol, feature set and k) to config.EXTRACT_FEATURES.OUTPUT_DIR,",
        "else <CHECKPOINT.DIR>/eval. Weights as for extract.", "",
        "Example:", "  npid4j knn config=quickstart/npid_fashion_mnist config.CHECKPOINT.DIR=runs/quickstart \\",
        "      config.NEAREST_NEIGHBOR.TOPK=[20,200] config.NEAREST_NEIGHBOR.L2_NORM_FEATS=true"})
final class KnnCommand implements Callable<Integer> {
  @Mixin
  ConfigArgs config;

  @Override
  public Integer call() throws Exception {
    EvalContext ctx = new EvalContext(config.args, true, System.out);
    Dataset test = ctx.split("test");
    Map<String, Object> json = new LinkedHashMap<>();
    json.put("weights", ctx.trained.source().toString());
    json.put("test_images", test.size());
    Map<String, Features> testFeats = ctx.features(test);
    Dataset train = ctx.split("train");
    int classes = Math.max(test.numClasses(), train.numClasses());
    KnnResult first = null;
    if (ctx.ev.knnProtocols().contains("vissl")) {
      long t0 = System.nanoTime();
      Map<String, Features> trainFeats = ctx.features(train);
      Map<String, Object> byLayer = new LinkedHashMap<>();
      for (String layer : testFeats.keySet()) {
        Tensor tr = trainFeats.get(layer).values();
        Tensor te = testFeats.get(layer).values();
        if (ctx.ev.knnL2Norm()) {
          tr = Ops.l2Normalize(tr);
          te = Ops.l2Normalize(te);
        }
        Map<String, Object> byK = new LinkedHashMap<>();
        for (int k : ctx.ev.knnTopk()) {
          KnnResult r = WeightedKnn.evaluate(tr, trainFeats.get(layer).labels(), te, testFeats.get(layer).labels(), k, ctx.ev.knnSigma(), classes);
          first = first == null ? r : first;
          byK.put(Integer.toString(r.k()), Map.of("top1", r.top1(), "top5", r.top5()));
          System.out.println(String.format(Locale.ROOT, "[knn] vissl protocol, %s features: k=%d top-1 %.2f%% top-5 %.2f%%"
              + " (train features re-extracted, sigma %s, %s)", layer, r.k(), r.top1(), r.top5(), ctx.ev.knnSigma(),
              ctx.ev.knnL2Norm() ? "cosine" : "dot product"));
        }
        byLayer.put(layer, byK);
      }
      trainFeats.values().forEach(Features::close);
      Map<String, Object> v = new LinkedHashMap<>();
      v.put("train_features", "re-extracted with the eval transforms");
      v.put("train_images", train.size());
      v.put("sigma", ctx.ev.knnSigma());
      v.put("l2_norm_feats", ctx.ev.knnL2Norm());
      v.put("results", byLayer);
      v.put("seconds", (System.nanoTime() - t0) / 1e9);
      json.put("vissl", v);
    }
    if (ctx.ev.knnProtocols().contains("npid")) {
      Tensor bank = ctx.trained.memoryBank();
      if (bank == null || !testFeats.containsKey("heads")) {
        System.out.println("[knn] npid protocol skipped: " + (bank == null ? "the weights file holds no memory bank" : "it needs the head output"));
      } else {
        long t0 = System.nanoTime();
        long[] trainLabels = train.labels();
        if (bank.size(0) != trainLabels.length) {
          throw new UserError("the memory bank has " + bank.size(0) + " rows but the train split has " + trainLabels.length
              + " images: evaluate with the data the model was trained on");
        }
        double sigma = ctx.cfg.knnMonitor().sigma();
        Tensor tr = Ops.l2Normalize(bank);
        Tensor te = Ops.l2Normalize(testFeats.get("heads").values());
        Map<String, Object> byK = new LinkedHashMap<>();
        for (int k : ctx.ev.knnTopk()) {
          KnnResult r = WeightedKnn.evaluate(tr, trainLabels, te, testFeats.get("heads").labels(), k, sigma, classes);
          first = first == null ? r : first;
          byK.put(Integer.toString(r.k()), Map.of("top1", r.top1(), "top5", r.top5()));
          System.out.println(String.format(Locale.ROOT, "[knn] npid protocol: k=%d top-1 %.2f%% top-5 %.2f%% (memory bank as train"
              + " features, cosine, sigma %s)", r.k(), r.top1(), r.top5(), sigma));
        }
        Map<String, Object> v = new LinkedHashMap<>();
        v.put("train_features", "memory bank");
        v.put("sigma", sigma);
        v.put("l2_norm_feats", true);
        v.put("results", Map.of("heads", byK));
        v.put("seconds", (System.nanoTime() - t0) / 1e9);
        json.put("npid", v);
      }
    }
    if (first != null) {
      json.put("top1", first.top1());
      json.put("top5", first.top5());
      json.put("k", first.k());
    }
    Path file = ctx.outDir.resolve("knn.json");
    AtomicFiles.writeString(file, MetricsLog.JSON.writerWithDefaultPrettyPrinter().writeValueAsString(json) + "\n");
    System.out.println("[knn] -> " + file);
    return 0;
  }
}
