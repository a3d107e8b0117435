package dev.npid4j.engine;

import com.fasterxml.jackson.databind.JsonNode;
import dev.npid4j.torch.Torch;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.function.Supplier;

/**
 * Writes VISSL's checkpoints (rank 0; every rank holds the same state): {@code model_phase{p}}
 * every CHECKPOINT_FREQUENCY epochs, {@code model_iteration{i}} every CHECKPOINT_ITER_FREQUENCY
 * steps, {@code model_final_checkpoint_phase{p}} after the last epoch, and one wherever a stop
 * was asked for (SIGTERM, SIGINT), which then ends the run. Each holds the live objects' tensors
 * and a {@link CheckpointState} with every listener's state. Called after the other listeners.
 */
final class CheckpointWriter implements TrainingListener {
  private final TrainingSession s;
  private final RunTotals totals;
  private final List<TrainingListener> listeners;
  private final Supplier<String> stopRequest;
  private final boolean lead;
  private TrainingRun run;
  private Path stopCheckpoint;

  /**
   * @param listeners whose states each checkpoint holds, and who hear of it
   * @param stopRequest the stop every rank agreed on as of the current event, or null
   */
  CheckpointWriter(TrainingSession s, RunTotals totals, List<TrainingListener> listeners, Supplier<String> stopRequest, boolean lead) {
    this.s = s;
    this.totals = totals;
    this.listeners = listeners;
    this.stopRequest = stopRequest;
    this.lead = lead;
  }

  /** The checkpoint written because a stop was asked for, once it has been (the run then ends). */
  Path stopCheckpoint() {
    return stopCheckpoint;
  }

  @Override
  public void onStart(TrainingRun run) {
    this.run = run;
  }

  @Override
  public void onStep(Step st) {
    boolean midEpoch = st.stepInEpoch() < run.stepsPerEpoch();
    int every = s.cfg.checkpoint().iterFrequency();
    String stop = stopRequest.get();
    if (midEpoch && ((every > 0 && st.globalStep() % every == 0) || stop != null)) {
      Path ck = save("model_iteration" + st.globalStep(), new CheckpointState.Position(st.epoch(), st.stepInEpoch(), st.globalStep()));
      if (stop != null) {
        stopCheckpoint = ck;
      }
    }
  }

  @Override
  public void onEpochEnd(EpochEnd e) {
    String stop = stopRequest.get();
    if (e.last() || e.epoch() % s.cfg.checkpoint().frequency() == 0 || stop != null) {
      String name = (e.last() ? Checkpoints.FINAL_PREFIX : "model_phase") + e.epoch();
      Path ck = save(name, new CheckpointState.Position(e.epoch() + 1, 0, e.globalStep()));
      if (stop != null && !e.last()) {
        stopCheckpoint = ck;
      }
    }
  }

  private Path save(String name, CheckpointState.Position next) {
    Path target = s.runDir.resolve(name + ".torch");
    if (lead) {
      write(target, next);
    }
    for (TrainingListener l : listeners) {
      l.onCheckpoint(target);
    }
    return target;
  }

  private void write(Path target, CheckpointState.Position next) {
    Map<String, JsonNode> states = new LinkedHashMap<>();
    for (TrainingListener l : listeners) {
      if (l.stateKey() != null) {
        states.put(l.stateKey(), MetricsLog.JSON.valueToTree(l.saveState()));
      }
    }
    var provenance = new CheckpointState.Provenance(version(), System.getProperty("npid4j.commit", "unknown"), Torch.LIBTORCH_VERSION,
        s.train.describe(), s.fingerprint, s.cfg.experiment(), s.configYaml);
    Path link = target.resolveSibling("checkpoint.torch");
    try {
      Path previous = Files.isSymbolicLink(link) ? link.toRealPath() : null;
      try {
        Checkpoints.save(target, new CheckpointState(next, totals.snapshot(), provenance, states), s.model, s.loss, s.sgd);
      } catch (IOException e) {
        throw new TrainingFailure("cannot write checkpoint " + target + " (" + e.getMessage() + "; is the disk full?); "
            + (previous != null ? "the previous checkpoint " + previous + " is intact and running the same command again resumes from it"
                : "no checkpoint was written yet, so running the same command again starts over"));
      }
      Checkpoints.prune(target.getParent(), s.cfg.checkpoint().keepLastN(), s.stepsPerEpoch);
    } catch (IOException e) {
      throw new TrainingFailure("cannot manage the checkpoints of " + target.getParent() + ": " + e.getMessage());
    }
    run.out().println("[train] checkpoint " + target.getFileName());
  }

  private static String version() {
    String v = CheckpointWriter.class.getPackage().getImplementationVersion();
    return v != null ? v : "0.1.0-SNAPSHOT";
  }
}
