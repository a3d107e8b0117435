package dev.npid4j.engine;

import dev.npid4j.config.RunConfig;
import dev.npid4j.data.Batch;
import dev.npid4j.distributed.Communicator;
import dev.npid4j.optim.LrSchedule;
import dev.npid4j.torch.Scopes;
import dev.npid4j.torch.Tensors;
import java.io.Closeable;
import java.io.IOException;
import java.io.PrintStream;
import java.io.UncheckedIOException;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.bytedeco.pytorch.Tensor;

/**
 * The NPID training loop on one process: per epoch, the DistributedSampler order, batches from
 * the background loader, one {@link TrainingStep} per batch, and the listeners told of every step
 * and epoch: progress and metrics.jsonl, kNN monitor, unreadable images, report.html, checkpoints
 * (see {@link TrainingListener}). Set-up is {@link TrainingSession}'s, how a run starts is
 * {@link Resume}'s.
 *
 * <p>Every random stream is a function of (seed, rank, epoch, step or sample index), and a
 * checkpoint holds the position inside the epoch, so a run resumed from any checkpoint ends
 * with the same weights and memory bank, bit for bit, as an uninterrupted one.
 */
public final class Trainer {
  private final RunConfig cfg;
  private final PrintStream out;
  private final Communicator comm;
  private final int localProcesses;
  /** Rank 0 alone writes the run directory (checkpoints, metrics, report, kNN); every rank trains. */
  private final boolean lead;
  private final List<TrainingListener> userListeners = new ArrayList<>();
  /** Several ranks: the stop request every rank agreed on at the last collective (null: go on). */
  private String agreedStop;

  public Trainer(RunConfig cfg, PrintStream out) {
    this(cfg, out, Communicator.local(), 1);
  }

  /**
   * One rank of a data-parallel job: {@code comm} joins it to the others, {@code localProcesses}
   * is how many of the job's processes share this machine (they share its cores).
   */
  public Trainer(RunConfig cfg, PrintStream out, Communicator comm, int localProcesses) {
    if (comm.worldSize() != cfg.worldSize()) {
      throw new IllegalArgumentException("a world of " + comm.worldSize() + " ranks for a config of " + cfg.worldSize());
    }
    this.cfg = cfg.checkedForTraining();
    this.out = out;
    this.comm = comm;
    this.localProcesses = localProcesses;
    this.lead = comm.rank() == 0;
  }

  /** Adds a listener, called after the built-in ones that fill the metrics and before those that write files. */
  public Trainer addListener(TrainingListener listener) {
    userListeners.add(listener);
    return this;
  }

  public TrainSummary run() {
    Path runDir = Path.of(cfg.checkpoint().dir());
    try {
      var finished = Checkpoints.finalCheckpoint(runDir);
      if (finished.isPresent() && !cfg.checkpoint().overwriteExisting()) {
        out.println("[train] " + runDir + " already holds a finished run (" + finished.get().getFileName()
            + "); nothing to do. Set config.CHECKPOINT.OVERWRITE_EXISTING=true to train again.");
        return new TrainSummary(runDir, 0, 0, 0, 0, Double.NaN, null, null, true, false);
      }
      StopSignal.install();
      long start = System.nanoTime();
      try (TrainingSession s = new TrainingSession(cfg, comm, localProcesses, out)) {
        KnnMonitor knn = s.test != null && lead ? new KnnMonitor(cfg.knnMonitor(), s.train, s.test, cfg.test().transforms(),
            cfg.test().batchSize(), cfg.numWorkers(), runDir, out) : null;
        RunTotals totals = new RunTotals();
        List<TrainingListener> listeners = new ArrayList<>();
        if (knn != null) {
          listeners.add(knn);
        }
        if (lead) {
          listeners.add(new UnreadableImages(s.train, runDir));
        }
        listeners.addAll(userListeners);
        if (lead) {
          listeners.add(new ProgressLog(runDir));
          listeners.add(new ReportWriter(cfg, knn));
        }
        CheckpointWriter checkpoints = new CheckpointWriter(s, totals, listeners,
            () -> comm.worldSize() == 1 ? StopSignal.requested() : agreedStop, lead);
        listeners.add(checkpoints);
        CheckpointState resumed = Resume.begin(s, lead, out);
        if (resumed != null) {
          totals.restore(resumed.totals());
          listeners.forEach(l -> l.restoreState(l.stateKey() != null ? resumed.listenerStates().get(l.stateKey()) : null));
        }
        var from = resumed != null ? resumed.next() : new CheckpointState.Position(0, 0, 0);
        try {
          TrainSummary summary = loop(s, listeners, totals, checkpoints, from, start)
              .withKnn(knn != null ? knn.last() : null, knn != null ? knn.raw() : null);
          listeners.forEach(l -> l.onEnd(summary));
          return summary;
        } finally {
          for (TrainingListener l : listeners) {
            if (l instanceof Closeable c) {
              c.close();
            }
          }
        }
      }
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }

  private TrainSummary loop(TrainingSession s, List<TrainingListener> listeners, RunTotals totals, CheckpointWriter checkpoints,
      CheckpointState.Position from, long start) {
    int epochs = cfg.optimizer().numEpochs();
    long totalSteps = (long) epochs * s.stepsPerEpoch;
    int world = comm.worldSize();
    LrSchedule schedule = cfg.optimizer().lrSchedule();
    TrainingStep trainingStep = new TrainingStep(s);
    TrainingRun run = new TrainingRun(cfg, s.runDir, s.model, s.loss, s.train, s.test, epochs, s.stepsPerEpoch, comm.rank(), world, lead, out);
    listeners.forEach(l -> l.onStart(run));
    long globalStep = from.globalStep();
    double lastLoss = Double.NaN;
    for (int epoch = from.epoch(); epoch < epochs; epoch++) {
      int step = epoch == from.epoch() ? from.stepInEpoch() : 0;
      for (TrainingListener l : listeners) {
        l.onEpochStart(epoch);
      }
      totals.startEpoch(step == 0);
      Iterator<Batch> batches = s.loader.epoch(epoch, s.sampler.indices(epoch), step);
      double lr = Double.NaN;
      while (batches.hasNext()) {
        Batch batch = batches.next();
        lr = schedule.at(cfg.optimizer().lrInterval() == LrSchedule.Interval.EPOCH ? (double) epoch / epochs : (double) globalStep / totalSteps);
        boolean trained = batch.size() >= 2;
        if (trained) {
          s.sgd.setLr(lr);
          // per sample, not per rank: W ranks draw the negatives one rank would draw
          s.negatives.reseed(TrainingStep.mixSeed(cfg.seed(), globalStep), batch.indices());
          TrainingStep.Result r = trainingStep.run(batch, epoch, step, globalStep);
          lastLoss = r.loss();
          agreedStop = r.stopAsked() ? stopReason() : null;
          // images of the global batch: every rank's batch has this size (DistributedSampler padding)
          totals.stepTrained(lastLoss, (long) batch.size() * world);
        } else {
          agreedStop = agreeStop();
          // BatchNorm cannot train on one sample (PyTorch raises); a short last batch of 1 is skipped.
          out.println("[train] note: skipped a last batch of 1 image (BatchNorm needs 2); config.DATA.TRAIN.DROP_LAST=true drops short batches");
        }
        step++;
        globalStep++;
        var event = new TrainingListener.Step(epoch, step, globalStep, trained, lastLoss, lr, trained ? batch.size() * world : 0,
            totals.trainSeconds());
        listeners.forEach(l -> l.onStep(event));
        if (checkpoints.stopCheckpoint() != null) {
          return stopped(checkpoints.stopCheckpoint(), s.runDir, epochs, globalStep, start, totals, lastLoss);
        }
      }
      totals.endEpoch();
      long stepsEnded = System.nanoTime();
      Map<String, Object> rec = epochRecord(epoch, lr, totals, s);
      agreedStop = agreeStop();
      var event = new TrainingListener.EpochEnd(epoch, epoch == epochs - 1, rec, totals.trainSeconds(), totals.trainImages(), globalStep,
          stepsEnded);
      listeners.forEach(l -> l.onEpochEnd(event));
      if (checkpoints.stopCheckpoint() != null) {
        return stopped(checkpoints.stopCheckpoint(), s.runDir, epochs, globalStep, start, totals, lastLoss);
      }
      // the other ranks wait here while rank 0 evaluates and writes
      comm.barrier(Duration.ofSeconds(cfg.distributed().timeoutSeconds()));
    }
    return new TrainSummary(s.runDir, epochs, globalStep, (System.nanoTime() - start) / 1e9, totals.imagesPerSecond(), lastLoss,
        null, null, false, false);
  }

  /** The epoch's metrics.jsonl record as the loop knows it; the listeners add theirs. */
  private Map<String, Object> epochRecord(int epoch, double lr, RunTotals totals, TrainingSession s) {
    Map<String, Object> rec = new LinkedHashMap<>();
    rec.put("type", "epoch");
    rec.put("epoch", epoch + 1);
    rec.put("loss", totals.epochMeanLoss());
    rec.put("lr", lr);
    rec.put("img_per_s", totals.epochImages() / Math.max(1e-9, totals.epochSeconds()));
    rec.put("seconds", totals.epochSeconds());
    rec.put("Z", s.loss.z());
    if (s.sync != null) {
      // gradient all-reduce and buffer broadcast, as a share of this epoch's training time
      double commSeconds = s.sync.takeCommSeconds();
      rec.put("world_size", comm.worldSize());
      rec.put("allreduce_seconds", commSeconds);
      rec.put("allreduce_share", commSeconds / Math.max(1e-9, totals.epochSeconds()));
    }
    return rec;
  }

  private TrainSummary stopped(Path checkpoint, Path runDir, int epochs, long globalStep, long start, RunTotals totals, double lastLoss) {
    out.println("[train] " + stopReason() + ": stopped at global step " + globalStep + " after writing " + checkpoint.getFileName()
        + "; run the same command again to resume");
    return new TrainSummary(runDir, epochs, globalStep, (System.nanoTime() - start) / 1e9, totals.imagesPerSecond(), lastLoss, null, null,
        false, true);
  }

  /** Whether any rank was asked to stop (SIGTERM / SIGINT): all ranks must stop at the same step. */
  private String agreeStop() {
    if (comm.worldSize() == 1) {
      return StopSignal.requested();
    }
    try (var scope = Scopes.open()) {
      Tensor t = Tensors.fromDoubles(new double[] {StopSignal.requested() != null ? 1 : 0}, 1);
      comm.allReduceMax(t);
      return Tensors.toDoubles(t)[0] > 0 ? stopReason() : null;
    }
  }

  private static String stopReason() {
    String local = StopSignal.requested();
    return local != null ? local : "stop requested on another rank";
  }
}
