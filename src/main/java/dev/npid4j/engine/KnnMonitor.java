package dev.npid4j.engine;

import dev.npid4j.formats.AtomicFiles;
import dev.npid4j.config.KnnMonitorConfig;
import dev.npid4j.data.Dataset;
import dev.npid4j.data.transform.Transform;
import dev.npid4j.eval.KnnResult;
import dev.npid4j.eval.WeightedKnn;
import dev.npid4j.model.NpidModel;
import java.io.IOException;
import java.io.PrintStream;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import dev.npid4j.torch.Devices;
import dev.npid4j.torch.Scopes;
import java.io.UncheckedIOException;
import org.bytedeco.pytorch.Tensor;
import org.bytedeco.pytorch.global.torch.ScalarType;

/**
 * NPID's kNN monitor during training: test images through the model in eval mode against the
 * memory bank as train features (cosine, weighted votes), every FREQUENCY epochs and after the
 * last; optionally the raw-pixel floor and VISSL's protocol with re-extracted train features.
 * Results are printed, added to the epoch's metrics record and written to {@code knn.json}; the
 * history is kept in checkpoints. Rank 0 alone runs it.
 */
final class KnnMonitor implements TrainingListener {
  private final KnnMonitorConfig cfg;
  private final Dataset train;
  private final Dataset test;
  private final Transform evalTransform;
  private final int batchSize;
  private final int workers;
  private final Path runDir;
  private final PrintStream out;
  private final long[] trainLabels;
  private final int numClasses;
  private final List<Map<String, Object>> history = new ArrayList<>();
  private KnnResult raw;
  private KnnResult last;
  private EmbeddingView view;

  KnnMonitor(KnnMonitorConfig cfg, Dataset train, Dataset test, Transform evalTransform, int batchSize, int workers,
      Path runDir, PrintStream out) {
    this.cfg = cfg;
    this.train = train;
    this.test = test;
    this.evalTransform = evalTransform;
    this.batchSize = batchSize;
    this.workers = workers;
    this.runDir = runDir;
    this.out = out;
    this.trainLabels = train.labels();
    this.numClasses = Math.max(train.numClasses(), test.numClasses());
  }

  private TrainingRun run;

  @Override
  public void onStart(TrainingRun run) {
    this.run = run;
    if (cfg.rawPixelBaseline() && raw == null) {
      rawPixelBaseline();
    }
  }

  @Override
  public void onEpochEnd(EpochEnd e) {
    if (due(e.epoch(), run.epochs())) {
      try (var scope = Scopes.open()) {
        evaluate(e.epoch() + 1, e.epoch() == run.epochs() - 1, run.model(), Devices.cpu(run.loss().memory()).to(ScalarType.Float),
            e.record());
      } catch (IOException ex) {
        throw new UncheckedIOException("cannot write " + runDir.resolve("knn.json"), ex);
      }
    }
  }

  @Override
  public void onEnd(TrainSummary s) {
    if (last != null && !s.stoppedBySignal()) {
      out.println(String.format(Locale.ROOT, "[knn] final kNN top-1 %.2f%%%s -> %s", last.top1(),
          raw != null ? String.format(Locale.ROOT, " (raw pixels %.2f%%)", raw.top1()) : "", runDir.resolve("knn.json")));
    }
  }

  @Override
  public String stateKey() {
    return "knn";
  }

  @Override
  public Object saveState() {
    return state();
  }

  @Override
  public void restoreState(com.fasterxml.jackson.databind.JsonNode state) {
    restore(state);
  }

  /** Whether to evaluate after epoch {@code epoch} (0-based) of {@code epochs}. */
  boolean due(int epoch, int epochs) {
    return epoch == epochs - 1 || (cfg.frequency() > 0 && (epoch + 1) % cfg.frequency() == 0);
  }

  /** kNN on the raw pixels (after the eval transforms): the floor a learned embedding must beat. */
  void rawPixelBaseline() {
    long t0 = System.nanoTime();
    try (Features tr = Features.pixels(train, evalTransform, 1000, workers, true);
        Features te = Features.pixels(test, evalTransform, 1000, workers, true)) {
      raw = WeightedKnn.evaluate(tr.values(), tr.labels(), te.values(), te.labels(), cfg.topk(), cfg.sigma(), numClasses);
    }
    out.println(String.format(Locale.ROOT, "[knn] raw pixels (the floor to beat): top-1 %.2f%% top-5 %.2f%% (k=%d, sigma=%s, cosine; %.1fs)",
        raw.top1(), raw.top5(), raw.k(), raw.sigma(), (System.nanoTime() - t0) / 1e9));
  }

  /** Evaluates after epoch {@code epoch} (1-based), adds the figures to {@code record} and rewrites knn.json. */
  KnnResult evaluate(int epoch, boolean finalEpoch, NpidModel model, Tensor bank, Map<String, Object> record) throws IOException {
    long t0 = System.nanoTime();
    KnnResult recomputed = null;
    try (Features te = Features.extract(model, test, evalTransform, batchSize, workers, true)) {
      last = WeightedKnn.evaluate(bank, trainLabels, te.values(), te.labels(), cfg.topk(), cfg.sigma(), numClasses);
      view = EmbeddingView.of(epoch, te.values(), te.labels(), bank, finalEpoch);
      if (cfg.recomputedFeatures()) {
        try (Features tr = Features.extract(model, train, evalTransform, batchSize, workers, true)) {
          recomputed = WeightedKnn.evaluate(tr.values(), tr.labels(), te.values(), te.labels(), cfg.topk(), cfg.sigma(), numClasses);
        }
      }
    }
    out.println(String.format(Locale.ROOT, "[knn] epoch %d: top-1 %.2f%% top-5 %.2f%% (k=%d, sigma=%s, cosine, memory bank as train features; %.1fs)",
        epoch, last.top1(), last.top5(), last.k(), last.sigma(), (System.nanoTime() - t0) / 1e9));
    record.put("knn_top1", last.top1());
    record.put("knn_top5", last.top5());
    if (recomputed != null) {
      out.println(String.format(Locale.ROOT, "[knn] epoch %d: top-1 %.2f%% top-5 %.2f%% with train features re-extracted in eval mode",
          epoch, recomputed.top1(), recomputed.top5()));
      record.put("knn_recomputed_top1", recomputed.top1());
      record.put("knn_recomputed_top5", recomputed.top5());
    }
    Map<String, Object> h = new LinkedHashMap<>();
    h.put("epoch", epoch);
    h.put("top1", last.top1());
    h.put("top5", last.top5());
    if (recomputed != null) {
      h.put("recomputed_top1", recomputed.top1());
    }
    history.add(h);
    writeJson(epoch);
    return last;
  }

  /** What a checkpoint keeps so a resumed run reports the same history. */
  Map<String, Object> state() {
    Map<String, Object> m = new LinkedHashMap<>();
    m.put("history", history);
    if (raw != null) {
      m.put("raw", result(raw));
    }
    if (last != null) {
      m.put("last", result(last));
    }
    return m;
  }

  void restore(com.fasterxml.jackson.databind.JsonNode state) {
    if (state == null || state.isNull()) {
      return;
    }
    history.clear();
    state.path("history").forEach(h -> history.add(MetricsLog.JSON.convertValue(h, MetricsLog.MAP)));
    raw = state.has("raw") ? MetricsLog.JSON.convertValue(state.get("raw"), KnnResult.class) : null;
    last = state.has("last") ? MetricsLog.JSON.convertValue(state.get("last"), KnnResult.class) : null;
  }

  private static Map<String, Object> result(KnnResult r) {
    return MetricsLog.JSON.convertValue(r, MetricsLog.MAP);
  }

  KnnResult last() {
    return last;
  }

  /** Retrieval and PCA of the latest evaluation, for the report (null before the first). */
  EmbeddingView view() {
    return view;
  }

  Dataset train() {
    return train;
  }

  Dataset test() {
    return test;
  }

  KnnResult raw() {
    return raw;
  }

  private void writeJson(int epoch) throws IOException {
    Map<String, Object> j = new LinkedHashMap<>();
    j.put("top1", last.top1());
    j.put("top5", last.top5());
    j.put("k", last.k());
    j.put("sigma", last.sigma());
    j.put("epoch", epoch);
    j.put("protocol", "npid: memory bank as train features, cosine similarity, weighted vote exp(sim/sigma)");
    j.put("test_images", last.queries());
    if (raw != null) {
      j.put("raw_pixel_top1", raw.top1());
      j.put("raw_pixel_top5", raw.top5());
    }
    j.put("history", history);
    AtomicFiles.writeString(runDir.resolve("knn.json"), MetricsLog.JSON.writerWithDefaultPrettyPrinter().writeValueAsString(j) + "\n");
  }
}
