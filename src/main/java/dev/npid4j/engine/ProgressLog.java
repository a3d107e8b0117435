package dev.npid4j.engine;

import com.fasterxml.jackson.databind.JsonNode;
import java.io.Closeable;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.Locale;
import java.util.Map;

/**
 * The progress line every LOG_FREQUENCY steps and at each epoch's end, and metrics.jsonl (rank 0):
 * a "step" record per progress line, the "epoch" record the other listeners filled. Its state is
 * the file's length, so a resumed run drops the records it will write again.
 */
final class ProgressLog implements TrainingListener, Closeable {
  private final Path file;
  private MetricsLog metrics;
  private Progress progress;
  private TrainingRun run;
  private double windowLoss;
  private int windowCount;
  private long lastEpochEndNanos = -1;

  ProgressLog(Path runDir) {
    this.file = runDir.resolve("metrics.jsonl");
  }

  @Override
  public void onStart(TrainingRun run) {
    this.run = run;
    try {
      metrics = run.lead() ? new MetricsLog(file) : MetricsLog.discarding();
    } catch (IOException e) {
      throw new UncheckedIOException("cannot open " + file, e);
    }
    progress = new Progress(run.out(), run.epochs(), run.stepsPerEpoch());
  }

  @Override
  public void onEpochStart(int epoch) {
    windowLoss = 0;
    windowCount = 0;
    if (lastEpochEndNanos >= 0) {
      progress.setExtraSecondsPerEpoch((System.nanoTime() - lastEpochEndNanos) / 1e9); // kNN, report, checkpoint
    }
  }

  @Override
  public void onStep(Step s) {
    if (s.trained()) {
      windowLoss += s.loss();
      windowCount++;
      progress.stepDone(s.images());
    }
    if (windowCount > 0 && (s.stepInEpoch() % run.config().logFrequency() == 0 || s.stepInEpoch() == run.stepsPerEpoch())) {
      double ips = progress.report(s.epoch(), s.stepInEpoch(), windowLoss / windowCount, s.lr());
      Map<String, Object> rec = new LinkedHashMap<>();
      rec.put("type", "step");
      rec.put("epoch", s.epoch() + 1);
      rec.put("step", s.stepInEpoch());
      rec.put("global_step", s.globalStep());
      rec.put("loss", windowLoss / windowCount);
      rec.put("lr", s.lr());
      rec.put("img_per_s", ips);
      rec.put("time", s.trainSeconds());
      metrics.write(rec);
      windowLoss = 0;
      windowCount = 0;
    }
  }

  @Override
  public void onEpochEnd(EpochEnd e) {
    metrics.write(e.record());
    lastEpochEndNanos = e.stepsEndedNanos();
  }

  @Override
  public void onEnd(TrainSummary s) {
    if (!s.stoppedBySignal()) {
      run.out().println(String.format(Locale.ROOT, "[train] done: %d epochs, %d steps in %s (training %.0f img/s)",
          s.epochs(), s.steps(), Progress.duration(s.seconds()), s.trainImagesPerSecond()));
    }
  }

  @Override
  public String stateKey() {
    return "metrics_bytes";
  }

  @Override
  public Object saveState() {
    try {
      return metrics.size(file);
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }

  @Override
  public void restoreState(JsonNode state) {
    try {
      if (state != null && state.isNumber()) {
        MetricsLog.truncate(file, state.asLong());
      }
    } catch (IOException e) {
      throw new UncheckedIOException("cannot truncate " + file, e);
    }
  }

  @Override
  public void close() throws IOException {
    if (metrics != null) {
      metrics.close();
    }
  }
}
