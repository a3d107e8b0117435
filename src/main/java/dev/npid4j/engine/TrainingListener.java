package dev.npid4j.engine;

import com.fasterxml.jackson.databind.JsonNode;
import java.nio.file.Path;
import java.util.Map;

/**
 * Watches a training run: the progress line and metrics.jsonl, the kNN monitor, the checkpoints,
 * the HTML report and the list of unreadable images are all listeners, and so can be anything a
 * user adds with {@link Trainer#addListener} (an EMA of the weights, another logger, a test).
 *
 * <p>Listeners are called in order: the built-in ones that add to the epoch's metrics record
 * first, then the user's, then the writers of metrics.jsonl and report.html, and the checkpoint
 * writer last, so that a checkpoint holds every listener's state as of the event. Each listener
 * may keep state across a resume: {@link #saveState} goes into every checkpoint under
 * {@link #stateKey}, and {@link #restoreState} gets it back before {@link #onStart}. In a run of
 * several ranks every rank calls its listeners; {@link TrainingRun#lead} says whether this is
 * rank 0, the one that writes files.
 */
public interface TrainingListener {
  /** Before the first step, after a resume has restored the model, the bank and the listeners' states. */
  default void onStart(TrainingRun run) {}

  /** Before the first step of an epoch, or of what remains of it after a resume (0-based epoch). */
  default void onEpochStart(int epoch) {}

  /** After every batch, trained or skipped. */
  default void onStep(Step step) {}

  /** After the last step of an epoch; listeners may add entries to the epoch's metrics record. */
  default void onEpochEnd(EpochEnd epoch) {}

  /** After a checkpoint has been written (rank 0) or would have been (other ranks). */
  default void onCheckpoint(Path file) {}

  /** After the last epoch, or after a stop request. */
  default void onEnd(TrainSummary summary) {}

  /** A listener that only watches steps (tests, benchmarks). */
  static TrainingListener onEachStep(java.util.function.Consumer<Step> action) {
    return new TrainingListener() {
      @Override
      public void onStep(Step step) {
        action.accept(step);
      }
    };
  }

  /** The name of this listener's state in checkpoints (stable across versions), or null when it keeps none. */
  default String stateKey() {
    return null;
  }

  /** This listener's state as JSON-serialisable values (maps, lists, numbers, strings). */
  default Object saveState() {
    return null;
  }

  /** The state {@link #saveState} returned, read back from a checkpoint (a missing state arrives as null). */
  default void restoreState(JsonNode state) {}

  /**
   * One batch done.
   *
   * @param epoch 0-based epoch
   * @param stepInEpoch batches done in this epoch, this one included
   * @param globalStep batches done in the run, this one included
   * @param trained false for a last batch of one image, skipped (BatchNorm needs two)
   * @param loss this batch's loss (mean over ranks), or the last trained one when skipped (NaN before any)
   * @param images images of the global batch (every rank's), 0 when skipped
   * @param trainSeconds training time so far, this epoch included (kNN, checkpoints and set-up excluded)
   */
  record Step(int epoch, int stepInEpoch, long globalStep, boolean trained, double loss, double lr, int images, double trainSeconds) {}

  /**
   * One epoch done.
   *
   * @param epoch 0-based epoch
   * @param last whether it was the run's last
   * @param record the epoch's metrics.jsonl record: loss, lr, img/s, seconds, Z; listeners add theirs
   * @param trainSeconds training time of the whole run so far
   * @param trainImages images trained on in the whole run so far
   * @param globalStep batches done in the run
   * @param stepsEndedNanos when the epoch's last step ended ({@link System#nanoTime}), for ETAs
   */
  record EpochEnd(int epoch, boolean last, Map<String, Object> record, double trainSeconds, long trainImages, long globalStep,
      long stepsEndedNanos) {}
}
