package dev.npid4j.api;

import dev.npid4j.config.RunConfig;
import dev.npid4j.engine.TrainSummary;
import dev.npid4j.engine.Trainer;
import dev.npid4j.engine.TrainingFailure;
import dev.npid4j.engine.TrainingListener;
import java.io.OutputStream;
import java.io.PrintStream;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;

/**
 * A training run in this process, configured as {@code npid4j train} is: a bundled config name or
 * a YAML file, and VISSL-style overrides. It writes the same run directory (checkpoints,
 * metrics.jsonl, report.html) and resumes the same way, but prints nothing unless asked
 * ({@link #log}) and never exits the JVM: a problem with the input is an
 * {@link Npid4jException}, a run that fails on the way (a NaN loss) a {@link TrainingFailure}.
 *
 * <pre>{@code
 * TrainSummary s = Training.of("quickstart/npid_fashion_mnist", "config.CHECKPOINT.DIR=/tmp/run", "config.OPTIMIZER.num_epochs=2")
 *     .listener(TrainingListener.onEachStep(step -> metrics.record(step.loss())))
 *     .run();
 * }</pre>
 *
 * <p>One rank only: a config with several processes or nodes is refused (the command line starts
 * and supervises ranks).
 */
public final class Training {
  private final RunConfig cfg;
  private final List<TrainingListener> listeners = new ArrayList<>();
  private PrintStream log = new PrintStream(OutputStream.nullOutputStream());

  private Training(RunConfig cfg) {
    this.cfg = cfg;
  }

  /**
   * A run of {@code config} with {@code overrides}, checked as the command line checks it (every
   * key, value and cross-check) before anything is read or written.
   *
   * @param config a bundled config name (e.g. {@code quickstart/npid_fashion_mnist}) or a YAML file
   * @param overrides VISSL-style overrides, e.g. {@code config.CHECKPOINT.DIR=/runs/a}
   * @return the run, not started
   * @throws Npid4jException for a config that is not valid, naming the key and the fix
   */
  public static Training of(String config, String... overrides) {
    return Npid4jException.wrap(() -> {
      List<String> args = new ArrayList<>();
      args.add("config=" + config);
      args.addAll(Arrays.asList(overrides));
      RunConfig cfg = RunConfig.fromArgs(args).checkedForTraining();
      if (cfg.distributed().worldSize() != 1) {
        throw new Npid4jException("config.DISTRIBUTED asks for " + cfg.distributed().worldSize() + " ranks; the library trains in"
            + " this process only: set config.DISTRIBUTED.NUM_NODES=1 NUM_PROC_PER_NODE=1, or start the ranks with bin/npid4j train");
      }
      return new Training(cfg);
    });
  }

  /**
   * Adds a listener: it sees every step, epoch, checkpoint and the end, and may keep state across a resume.
   *
   * @param listener the listener
   * @return this run
   */
  public Training listener(TrainingListener listener) {
    listeners.add(listener);
    return this;
  }

  /**
   * Where the progress lines go (the command line's stdout); by default nowhere.
   *
   * @param out the stream for progress lines
   * @return this run
   */
  public Training log(PrintStream out) {
    this.log = out;
    return this;
  }

  /**
   * Trains to the end (or resumes a run directory that holds a checkpoint) and returns what happened.
   *
   * @return the run's summary: epochs, steps, speed, the last loss and kNN
   * @throws Npid4jException for a problem with the input (data, run directory)
   * @throws TrainingFailure when training stops on the way (a NaN loss)
   */
  public TrainSummary run() {
    return Npid4jException.wrap(() -> {
      Trainer t = new Trainer(cfg, log);
      listeners.forEach(t::addListener);
      return t.run();
    });
  }
}
