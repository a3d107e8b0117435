package dev.npid4j.engine;

import dev.npid4j.eval.KnnResult;
import java.nio.file.Path;

/** What a finished training run reports. */
public record TrainSummary(Path runDir, int epochs, long steps, double seconds, double trainImagesPerSecond,
    double finalLoss, KnnResult knn, KnnResult rawPixelKnn, boolean alreadyFinished, boolean stoppedBySignal) {
  /** The same summary with the kNN monitor's latest and raw-pixel results. */
  TrainSummary withKnn(KnnResult latest, KnnResult rawPixels) {
    return new TrainSummary(runDir, epochs, steps, seconds, trainImagesPerSecond, finalLoss, latest, rawPixels, alreadyFinished,
        stoppedBySignal);
  }

  /**
   * The exit code of a run stopped by SIGTERM (or SIGINT) after writing its checkpoint: 128 plus
   * the signal's number, 143 (130), what a shell reports for a process the signal ended, so that a
   * Kubernetes Job or a SLURM requeue script sees an unfinished run, not a success.
   */
  public int stoppedExitCode() {
    return "SIGINT".equals(StopSignal.requested()) ? EXIT_INTERRUPTED : EXIT_TERMINATED;
  }

  /** Exit code of a run stopped by SIGTERM after its checkpoint. */
  public static final int EXIT_TERMINATED = 143;
  /** Exit code of a run stopped by SIGINT (Ctrl-C) after its checkpoint. */
  public static final int EXIT_INTERRUPTED = 130;
}
