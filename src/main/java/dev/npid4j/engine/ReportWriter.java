package dev.npid4j.engine;

import dev.npid4j.config.RunConfig;
import java.io.IOException;
import java.io.PrintStream;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;

/**
 * report.html, rewritten after every epoch (rank 0): the run's facts, the curves of metrics.jsonl
 * and, when the kNN monitor runs, nearest neighbours and the embedding picture. A failure to draw
 * it is a warning, never the end of a run.
 */
final class ReportWriter implements TrainingListener {
  private final RunConfig cfg;
  private final KnnMonitor knn;
  private TrainingRun run;

  /** {@code knn}: the run's kNN monitor, or null when it has none. */
  ReportWriter(RunConfig cfg, KnnMonitor knn) {
    this.cfg = cfg;
    this.knn = knn;
  }

  @Override
  public void onStart(TrainingRun run) {
    this.run = run;
  }

  @Override
  public void onEpochEnd(EpochEnd e) {
    write(e.epoch() + 1, e.trainSeconds(), e.trainImages(), run.out());
  }

  private void write(int epochsDone, double trainSeconds, long trainImages, PrintStream out) {
    Path runDir = run.runDir();
    int epochs = run.epochs();
    try {
      List<String[]> facts = new ArrayList<>();
      facts.add(new String[] {"progress", epochsDone + " of " + epochs + " epochs" + (epochsDone == epochs ? " (finished)" : "")});
      facts.add(new String[] {"data", run.train().describe()});
      facts.add(new String[] {"model", TrainingSession.modelDescription(cfg)});
      facts.add(new String[] {"loss", TrainingSession.lossDescription(cfg)});
      facts.add(new String[] {"memory bank start", cfg.bank().initFromModel()
          ? "the model's embeddings before training (memory_params.init_from_model)" : "random unit rows (VISSL)"});
      facts.add(new String[] {"batch, epochs", cfg.train().batchSize() + " per step, " + epochs + " epochs"});
      facts.add(new String[] {"training time", String.format(Locale.ROOT, "%s, %.0f img/s", Progress.duration(trainSeconds),
          trainSeconds > 0 ? trainImages / trainSeconds : 0)});
      if (knn != null && knn.last() != null) {
        facts.add(new String[] {"kNN top-1 (latest)", String.format(Locale.ROOT, "%.2f%% (k=%d, sigma %s, memory bank)%s", knn.last().top1(),
            knn.last().k(), knn.last().sigma(), knn.raw() != null ? String.format(Locale.ROOT, "; raw pixels %.2f%%", knn.raw().top1()) : "")});
      }
      facts.add(new String[] {"run directory", runDir.toAbsolutePath().toString()});
      Report.write(runDir, new Report.Header("npid4j: " + cfg.experiment(), facts), knn != null ? knn.view() : null,
          knn != null ? knn.train() : null, knn != null ? knn.test() : null);
    } catch (IOException | RuntimeException ex) {
      out.println("[train] warning: report.html not written: " + ex);
    }
  }
}
