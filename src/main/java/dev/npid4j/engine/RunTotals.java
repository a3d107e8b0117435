package dev.npid4j.engine;

/**
 * The training time and images of a run, and the loss sums of the epoch under way: what the
 * metrics, the progress line and the report average over, kept in checkpoints
 * ({@link CheckpointState.Totals}) so a resumed run reports what an uninterrupted one would.
 * Time counts the steps only (kNN, checkpoints and set-up excluded).
 */
final class RunTotals {
  private double trainSeconds;
  private long trainImages;
  private double epochLossSum;
  private int epochLossCount;
  private long epochImages;
  private double epochSeconds;
  private long epochStartNanos = System.nanoTime();
  private boolean epochClosed;

  void restore(CheckpointState.Totals t) {
    trainSeconds = t.trainSeconds();
    trainImages = t.trainImages();
    epochLossSum = t.epochLossSum();
    epochLossCount = t.epochLossCount();
    epochImages = t.epochImages();
    epochSeconds = t.epochSeconds();
  }

  /** An epoch's steps begin; {@code fresh} unless a resumed run continues one. */
  void startEpoch(boolean fresh) {
    if (fresh) {
      epochLossSum = 0;
      epochLossCount = 0;
      epochImages = 0;
      epochSeconds = 0;
    }
    epochClosed = false;
    epochStartNanos = System.nanoTime();
  }

  void stepTrained(double loss, long images) {
    epochLossSum += loss;
    epochLossCount++;
    epochImages += images;
  }

  /** The steps of this epoch are done: its time and images join the run's. */
  void endEpoch() {
    epochSeconds += (System.nanoTime() - epochStartNanos) / 1e9;
    trainSeconds += epochSeconds;
    trainImages += epochImages;
    epochClosed = true;
  }

  double epochSeconds() {
    return epochClosed ? epochSeconds : epochSeconds + (System.nanoTime() - epochStartNanos) / 1e9;
  }

  double epochMeanLoss() {
    return epochLossSum / Math.max(1, epochLossCount);
  }

  long epochImages() {
    return epochImages;
  }

  /** Training seconds of the run, the epoch under way included. */
  double trainSeconds() {
    return epochClosed ? trainSeconds : trainSeconds + epochSeconds();
  }

  long trainImages() {
    return epochClosed ? trainImages : trainImages + epochImages;
  }

  /** Images per second over the finished epochs (the summary's figure). */
  double imagesPerSecond() {
    return trainSeconds > 0 ? trainImages / trainSeconds : 0;
  }

  /** For a checkpoint: mid-epoch, the epoch's sums so far; at an epoch's end, none (the next epoch starts fresh). */
  CheckpointState.Totals snapshot() {
    return epochClosed ? new CheckpointState.Totals(trainSeconds, trainImages, 0, 0, 0, 0)
        : new CheckpointState.Totals(trainSeconds, trainImages, epochLossSum, epochLossCount, epochImages, epochSeconds());
  }
}
