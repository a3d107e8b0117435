package dev.npid4j.engine;

import com.fasterxml.jackson.databind.JsonNode;
import dev.npid4j.UserError;
import dev.npid4j.config.ConfigComposer;
import dev.npid4j.config.RunConfig;
import dev.npid4j.data.Batch;
import dev.npid4j.data.BatchLoader;
import dev.npid4j.data.Dataset;
import dev.npid4j.data.Datasets;
import dev.npid4j.data.EpochSampler;
import dev.npid4j.data.transform.Transforms;
import dev.npid4j.dist.Communicator;
import dev.npid4j.dist.ModelSync;
import dev.npid4j.dist.SyncBatchNorm;
import dev.npid4j.eval.KnnResult;
import dev.npid4j.loss.LossOutput;
import dev.npid4j.loss.NceLossWithMemory;
import dev.npid4j.loss.RandomNegativeSampler;
import dev.npid4j.model.MlpHeadSpec;
import dev.npid4j.model.NpidModel;
import dev.npid4j.optim.LrSchedule;
import dev.npid4j.optim.ParamGroups;
import dev.npid4j.optim.Sgd;
import dev.npid4j.torch.Autocast;
import dev.npid4j.torch.Devices;
import dev.npid4j.torch.Layers;
import dev.npid4j.torch.StateDict;
import dev.npid4j.torch.Tensors;
import dev.npid4j.torch.Torch;
import java.io.IOException;
import java.io.PrintStream;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Arrays;
import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.zip.CRC32;
import org.bytedeco.javacpp.PointerScope;
import org.bytedeco.pytorch.BoolOptional;
import org.bytedeco.pytorch.Device;
import org.bytedeco.pytorch.NoGradGuard;
import org.bytedeco.pytorch.Scalar;
import org.bytedeco.pytorch.Tensor;
import org.bytedeco.pytorch.TensorArrayRefOptional;
import org.bytedeco.pytorch.global.torch.ScalarType;

/**
 * The NPID training loop on one process: per epoch, the DistributedSampler order, batches from
 * the background loader, forward, {@code nce_loss_with_memory} (which also updates the bank),
 * backward, SGD; per-epoch or per-step LR, progress lines, metrics.jsonl, kNN monitor and
 * checkpoints in the run directory ({@code CHECKPOINT.DIR}).
 *
 * <p>Every random stream is a function of (seed, rank, epoch, step or sample index), and a
 * checkpoint holds the position inside the epoch, so a run resumed from any checkpoint ends
 * with the same weights and memory bank, bit for bit, as an uninterrupted one.
 */
public final class Trainer {
  private final RunConfig cfg;
  private final PrintStream out;
  private final Communicator comm;
  /** Where the model, the batches and the memory bank live (MACHINE.DEVICE). */
  private Device device = Devices.CPU;
  private final int localProcesses;
  /** Rank 0 alone writes the run directory (checkpoints, metrics, report, kNN); every rank trains. */
  private final boolean lead;
  private ModelSync sync;
  /** Unreadable images already announced (the list is announced again only when it grows). */
  private int reportedUnreadable;
  /** Several ranks: the stop request every rank agreed on at the last step (null: go on); one rank reads StopSignal directly. */
  private String agreedStop;
  private StepListener listener = (epoch, step, loss) -> {};

  /** Called after every optimizer step (for tests and tools that watch a run). */
  public interface StepListener {
    void onStep(int epoch, long globalStep, double loss);
  }

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
    this.cfg = cfg;
    this.out = out;
    this.comm = comm;
    this.localProcesses = localProcesses;
    this.lead = comm.rank() == 0;
  }

  public Trainer onStep(StepListener l) {
    this.listener = l;
    return this;
  }

  public TrainSummary run() {
    try {
      return train();
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }

  /** "ResNet-18 (cifar stem, width 16) + mlp [[128, 128]]": for the log and the report. */
  private String modelDescription() {
    var m = cfg.model();
    String amp = m.bf16Autocast() ? ", forward under bfloat16 autocast"
        : m.ampOffWithoutNativeBf16() ? ", float32 (USE_AMP off: this CPU has no AVX512-BF16 / AMX, see AMP_PARAMS.NATIVE_BF16_ONLY)" : "";
    if (m.trunkName().equals("alexnet_bvlc")) {
      return "AlexNet (BVLC, VISSL's alexnet_bvlc) + mlp " + m.heads().stream().map(MlpHeadSpec::dims).toList() + amp;
    }
    return String.format(Locale.ROOT, "ResNet-%d (%s stem, width %d) + mlp %s%s", m.trunk().depth(), m.trunk().stem(),
        m.trunk().baseWidth() * m.trunk().widthMultiplier(), m.heads().stream().map(MlpHeadSpec::dims).toList(), amp);
  }

  /** "nce_loss_with_memory: cross_entropy, K=4096 per sample, T=0.07, momentum 0.5": for the log and the report. */
  private String lossDescription() {
    return String.format(Locale.ROOT, "nce_loss_with_memory: %s, K=%d %s, T=%s, momentum %s",
        cfg.loss().lossType().name().toLowerCase(Locale.ROOT), cfg.loss().numNegatives(),
        cfg.loss().sharedNegatives() ? "shared by the batch" : "per sample", cfg.loss().temperature(), cfg.loss().momentum());
  }

  /** report.html; a failure to draw it is a warning, never the end of a run. */
  private void writeReport(Path runDir, KnnMonitor knn, Dataset train, int epochsDone, int epochs, double trainSeconds, long trainImages) {
    try {
      List<String[]> facts = new java.util.ArrayList<>();
      facts.add(new String[] {"progress", epochsDone + " of " + epochs + " epochs" + (epochsDone == epochs ? " (finished)" : "")});
      facts.add(new String[] {"data", train.describe()});
      facts.add(new String[] {"model", modelDescription()});
      facts.add(new String[] {"loss", lossDescription()});
      facts.add(new String[] {"memory bank start", cfg.tree().getBool(INIT_FROM_MODEL_KEY)
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
    } catch (IOException | RuntimeException e) {
      out.println("[train] warning: report.html not written: " + e);
    }
  }

  /** Per-epoch running sums, kept in checkpoints so a resumed epoch reports the same averages. */
  private static final class EpochTotals {
    double lossSum;
    int lossCount;
    long images;
    double seconds;
  }

  private TrainSummary train() throws IOException {
    device = Devices.forMachine(cfg.machine().device(), comm.localRank());
    ScalarType bankType = bankType();
    Path runDir = Path.of(cfg.checkpoint().dir());
    var finished = Checkpoints.finalCheckpoint(runDir);
    if (finished.isPresent() && !cfg.checkpoint().overwriteExisting()) {
      out.println("[train] " + runDir + " already holds a finished run (" + finished.get().getFileName()
          + "); nothing to do. Set config.CHECKPOINT.OVERWRITE_EXISTING=true to train again.");
      return new TrainSummary(runDir, 0, 0, 0, 0, Double.NaN, null, null, true, false);
    }
    Torch.load();
    int threads = cfg.machine().intraOpThreads(localProcesses);
    Torch.setThreads(threads);

    int channels = cfg.model().trunk().inputChannels();
    Dataset train = Datasets.open(cfg.train(), channels, cfg.seed());
    Transforms trainTransform = Transforms.fromConfig(cfg.train().transforms(), "config.DATA.TRAIN.TRANSFORMS");
    boolean knnEnabled = cfg.knnMonitor().frequency() >= 0 && !cfg.test().isEmpty() && train.numClasses() > 0;
    Dataset test = knnEnabled ? Datasets.open(cfg.test(), channels, cfg.seed()) : null;
    Transforms testTransform = knnEnabled ? Transforms.fromConfig(cfg.test().transforms(), "config.DATA.TEST.TRANSFORMS") : null;
    long n = train.size();
    cfg.fillNumTrainSamples(n);
    int epochs = cfg.optimizer().numEpochs();
    LrSchedule schedule = LrSchedule.fromConfig(cfg.optimizer().lrSchedule(), "config.OPTIMIZER.param_schedulers.lr", epochs);
    LrSchedule.Interval interval = LrSchedule.interval(cfg.optimizer().lrSchedule(), "config.OPTIMIZER.param_schedulers.lr");
    if (cfg.loss().embeddingDim() != cfg.model().embeddingDim()) {
      throw new UserError("config.LOSS.nce_loss_with_memory.memory_params.embedding_dim is " + cfg.loss().embeddingDim()
          + " but the model outputs " + cfg.model().embeddingDim() + "-d embeddings (last MODEL.HEAD.PARAMS dim)");
    }
    String fingerprint = fingerprint(train);
    int rank = comm.rank();
    EpochSampler sampler = new EpochSampler(train.size(), cfg.seed(), rank, comm.worldSize(), true);
    int stepsPerEpoch = BatchLoader.batchesPerEpoch(sampler.samplesPerRank(), cfg.train().batchSize(), cfg.train().dropLast());
    List<Path> resumeCandidates = resumeCandidates(runDir, stepsPerEpoch);
    // every rank has chosen its checkpoint before rank 0 tidies the directory
    comm.barrier(Duration.ofSeconds(cfg.distributed().timeoutSeconds()));

    Files.createDirectories(runDir);
    if (lead) {
      Checkpoints.removeTempFiles(runDir);
      if (resumeCandidates.isEmpty()) {
        clearPreviousRun(runDir, stepsPerEpoch);
      }
      AtomicFiles.writeString(runDir.resolve("train_config.yaml"), ConfigComposer.toYaml(cfg.tree()));
    }

    out.println("[train] run directory " + runDir.toAbsolutePath());
    out.println("[train] data " + train.describe() + "; " + threads + " libtorch threads, " + cfg.numWorkers() + " loader threads"
        + (comm.worldSize() > 1 ? String.format(Locale.ROOT, "; rank %d of %d (c10d Gloo), %d images per rank per step, %d globally",
            rank, comm.worldSize(), cfg.train().batchSize(), cfg.train().batchSize() * comm.worldSize()) : ""));
    if (cfg.distributed().syncBn() && comm.worldSize() > 1) {
      out.println("[train] SyncBatchNorm (CONVERT_BN_TO_SYNC_BN): BatchNorm statistics over the global batch of all "
          + comm.worldSize() + " ranks");
    }
    if (comm.worldSize() > 1 && !cfg.distributed().backend().equals("gloo")) {
      out.println("[train] note: config.DISTRIBUTED.BACKEND=" + cfg.distributed().backend() + " is for GPUs; on the CPU the ranks"
          + " talk through c10d's gloo backend (set BACKEND=gloo to silence this note)");
    }
    if (cfg.model().trunkName().equals("resnet") && (long) cfg.model().trunk().baseWidth() * cfg.model().trunk().widthMultiplier() < 16) {
      out.println("[train] warning: convolutions with fewer than 16 channels: oneDNN has computed wrong input gradients"
          + " (even NaN) for such shapes on some CPUs; prefer MODEL.TRUNK.RESNETS.BASE_WIDTH >= 16");
    }
    Torch.manualSeed(cfg.seed());
    NpidModel model = new NpidModel(cfg.model().trunkName(), cfg.model().trunk(), cfg.model().heads());
    scaleHeads(model, cfg.model().headParamsMultiplier());
    model.to(device, false); // initialised on the CPU from the seed, as a CPU run, then moved
    model.train(true);
    out.println(String.format(Locale.ROOT, "[train] model %s: %,d parameters", modelDescription(), StateDict.parameterCount(model)));

    RandomNegativeSampler negatives = new RandomNegativeSampler(0);
    KnnMonitor knn = knnEnabled && lead
        ? new KnnMonitor(cfg.knnMonitor(), train, test, testTransform, cfg.test().batchSize(), cfg.numWorkers(), runDir, out) : null;
    double finalLoss = Double.NaN;
    long start = System.nanoTime();
    long totalSteps = (long) epochs * stepsPerEpoch;
    Path metricsFile = runDir.resolve("metrics.jsonl");
    StopSignal.install();

    // VISSL seeds each rank's bank with (SEED_VALUE + rank) x num_epochs and averages them on the first forward
    long bankSeed = (long) (cfg.seed() + (cfg.tree().getBool(SAME_INIT_KEY) ? 0 : rank)) * epochs;
    try (NceLossWithMemory loss = NceLossWithMemory.create(cfg.loss().withMemorySize(n), ScalarType.Float, bankSeed, negatives, comm,
            device, bankType);
        Sgd sgd = new Sgd(ParamGroups.of(model, cfg.optimizer().regularizeBn(), cfg.optimizer().regularizeBias()),
            cfg.optimizer().momentum(), cfg.optimizer().weightDecay(), cfg.optimizer().nesterov());
        BatchLoader loader = new BatchLoader(train, trainTransform, cfg.train().batchSize(), cfg.train().dropLast(),
            cfg.numWorkers(), (long) cfg.seed() * 31);
        ModelSync modelSync = comm.worldSize() > 1 ? new ModelSync(model, comm) : null;
        Layers.Installed syncBn = cfg.distributed().syncBn() && comm.worldSize() > 1
            ? Layers.overrideBatchNorm(new SyncBatchNorm(comm)) : null) {
      this.sync = modelSync;
      Checkpoints.Position pos = new Checkpoints.Position(0, 0, 0);
      double trainSeconds = 0;
      long trainImages = 0;
      EpochTotals totals = new EpochTotals();
      Path resumeFrom = null;
      Checkpoints.Restored r = null;
      for (Path candidate : resumeCandidates) {
        try {
          r = Checkpoints.load(candidate, model, loss, sgd);
          resumeFrom = candidate;
          break;
        } catch (Checkpoints.Unreadable e) {
          out.println("[train] warning: " + e.getMessage() + "; trying an older checkpoint");
        }
      }
      if (!resumeCandidates.isEmpty() && r == null) {
        throw new UserError("no checkpoint in " + runDir + " can be read (see the warnings above): move them away to start"
            + " over, or set config.CHECKPOINT.OVERWRITE_EXISTING=true");
      }
      var init = dev.npid4j.config.EvalSettings.from(cfg.tree()).weightsInit();
      if (r == null && !init.paramsFile().isEmpty()) {
        // VISSL: the initial weights apply only to a run that does not resume from a checkpoint
        Path file = Path.of(init.paramsFile());
        var report = dev.npid4j.interop.Weights.loadInto(model, dev.npid4j.interop.Weights.read(file, init), init.skipLayers(), true,
            "config.MODEL.WEIGHTS_INIT.PARAMS_FILE=" + file);
        out.println("[train] initial weights from " + file + ": " + report.loaded() + " tensors"
            + (report.missingHeads().isEmpty() ? "" : "; the head keeps its fresh init"));
      }
      if (r != null) {
        JsonNode meta = r.meta();
        if (!meta.path("data_fingerprint").asText().equals(fingerprint)) {
          throw new UserError(resumeFrom + " was trained on other data (" + meta.path("data").asText() + "); this run reads "
              + train.describe() + ". Use another config.CHECKPOINT.DIR, or config.CHECKPOINT.OVERWRITE_EXISTING=true");
        }
        pos = r.position();
        trainSeconds = meta.path("train_seconds").asDouble();
        trainImages = meta.path("train_images").asLong();
        totals.lossSum = meta.path("epoch_loss_sum").asDouble();
        totals.lossCount = meta.path("epoch_loss_count").asInt();
        totals.images = meta.path("epoch_images").asLong();
        totals.seconds = meta.path("epoch_seconds").asDouble();
        if (lead) {
          MetricsLog.truncate(metricsFile, meta.path("metrics_bytes").asLong());
        }
        if (knn != null) {
          knn.restore(meta.get("knn"));
        }
        out.println(String.format(Locale.ROOT, "[train] resumed from %s: epoch %d, step %d/%d (global step %d)",
            resumeFrom.getFileName(), pos.epoch() + 1, pos.stepInEpoch(), stepsPerEpoch, pos.globalStep()));
      }
      model.to(device, false); // a checkpoint or initial weights are read into CPU tensors
      if (sync != null) {
        checkSameStart(pos, resumeFrom);
        sync.broadcastFromRankZero();
      }
      out.println(String.format(Locale.ROOT, "[train] loss %s, memory bank %d x %d", lossDescription(), n, cfg.loss().embeddingDim()));
      if (r == null && cfg.tree().getBool(INIT_FROM_MODEL_KEY)) {
        // the images as the eval sees them when there is a test split (the kNN compares them with the bank)
        boolean clean = !cfg.test().isEmpty();
        Transforms initTransform = !clean ? trainTransform
            : testTransform != null ? testTransform : Transforms.fromConfig(cfg.test().transforms(), "config.DATA.TEST.TRANSFORMS");
        double s = BankWarmStart.fill(model, train, initTransform, cfg.train().batchSize() * comm.worldSize(), cfg.numWorkers(), loss,
            comm, cfg.model().bf16Autocast());
        out.println(String.format(Locale.ROOT, "[train] memory bank filled with the model's embeddings before training (%s; %.1fs)",
            clean ? "DATA.TEST.TRANSFORMS" : "DATA.TRAIN.TRANSFORMS", s));
      }
      if (knn != null && cfg.knnMonitor().rawPixelBaseline() && knn.raw() == null) {
        knn.rawPixelBaseline();
      }

      try (MetricsLog metrics = lead ? new MetricsLog(metricsFile) : MetricsLog.discarding()) {
        Progress progress = new Progress(out, epochs, stepsPerEpoch);
        long globalStep = pos.globalStep();
        for (int epoch = pos.epoch(); epoch < epochs; epoch++) {
          int firstBatch = epoch == pos.epoch() ? pos.stepInEpoch() : 0;
          if (firstBatch == 0) {
            totals = new EpochTotals();
          }
          long epochStart = System.nanoTime();
          Iterator<Batch> batches = loader.epoch(epoch, sampler.indices(epoch), firstBatch);
          int step = firstBatch;
          double lr = Double.NaN;
          double windowLoss = 0;
          int windowCount = 0;
          while (batches.hasNext()) {
            Batch batch = batches.next();
            double where = interval == LrSchedule.Interval.EPOCH ? (double) epoch / epochs : (double) globalStep / totalSteps;
            lr = schedule.at(where);
            if (batch.size() >= 2) {
              sgd.setLr(lr);
              // per sample, not per rank: W ranks draw the negatives one rank would draw
              negatives.reseed(mixSeed(cfg.seed(), globalStep), batch.indices());
              double lossValue = step(model, loss, sgd, batch, epoch, step, globalStep, runDir);
              totals.lossSum += lossValue;
              totals.lossCount++;
              windowLoss += lossValue;
              windowCount++;
              // images of the global batch: every rank's batch has this size (DistributedSampler padding)
              totals.images += (long) batch.size() * comm.worldSize();
              progress.stepDone(batch.size() * comm.worldSize());
              finalLoss = lossValue;
            } else {
              agreedStop = agreeStop();
              // BatchNorm cannot train on one sample (PyTorch raises); a short last batch of 1 is skipped.
              out.println("[train] note: skipped a last batch of 1 image (BatchNorm needs 2); config.DATA.TRAIN.DROP_LAST=true drops short batches");
            }
            step++;
            globalStep++;
            listener.onStep(epoch, globalStep, finalLoss);
            if (windowCount > 0 && (step % cfg.logFrequency() == 0 || step == stepsPerEpoch)) {
              double ips = progress.report(epoch, step, windowLoss / windowCount, lr);
              Map<String, Object> rec = new LinkedHashMap<>();
              rec.put("type", "step");
              rec.put("epoch", epoch + 1);
              rec.put("step", step);
              rec.put("global_step", globalStep);
              rec.put("loss", windowLoss / windowCount);
              rec.put("lr", lr);
              rec.put("img_per_s", ips);
              rec.put("time", trainSeconds + totals.seconds + (System.nanoTime() - epochStart) / 1e9);
              metrics.write(rec);
              windowLoss = 0;
              windowCount = 0;
            }
            boolean iterCheckpoint = cfg.checkpoint().iterFrequency() > 0 && globalStep % cfg.checkpoint().iterFrequency() == 0
                && step < stepsPerEpoch;
            // one rank: the signal as of now; several: what all ranks agreed on in this step's all-reduce
            String stop = comm.worldSize() == 1 ? StopSignal.requested() : agreedStop;
            if (iterCheckpoint || (stop != null && step < stepsPerEpoch)) {
              double secondsSoFar = totals.seconds + (System.nanoTime() - epochStart) / 1e9;
              Path ck = save(runDir.resolve("model_iteration" + globalStep + ".torch"), new Checkpoints.Position(epoch, step, globalStep),
                  model, loss, sgd, metrics, metricsFile, knn, fingerprint, train, trainSeconds, trainImages, totals, secondsSoFar,
                  stepsPerEpoch);
              if (stop != null) {
                return stopped(stop, ck, runDir, epochs, globalStep, start, trainSeconds, trainImages, finalLoss, knn);
              }
            }
          }
          totals.seconds += (System.nanoTime() - epochStart) / 1e9;
          double commSeconds = sync != null ? sync.takeCommSeconds() : 0;
          trainSeconds += totals.seconds;
          trainImages += totals.images;
          long extraStart = System.nanoTime();
          Map<String, Object> rec = new LinkedHashMap<>();
          rec.put("type", "epoch");
          rec.put("epoch", epoch + 1);
          rec.put("loss", totals.lossSum / Math.max(1, totals.lossCount));
          rec.put("lr", lr);
          rec.put("img_per_s", totals.images / Math.max(1e-9, totals.seconds));
          rec.put("seconds", totals.seconds);
          rec.put("Z", loss.z());
          if (sync != null) {
            // gradient all-reduce and buffer broadcast, as a share of this epoch's training time
            rec.put("world_size", comm.worldSize());
            rec.put("allreduce_seconds", commSeconds);
            rec.put("allreduce_share", commSeconds / Math.max(1e-9, totals.seconds));
          }
          boolean last = epoch == epochs - 1;
          if (knn != null && knn.due(epoch, epochs)) {
            knn.evaluate(epoch + 1, model, Devices.cpu(loss.memory()).to(ScalarType.Float), rec);
          }
          List<String> bad = train.unreadable();
          if (!bad.isEmpty() && lead) {
            rec.put("unreadable_images", bad.size());
            AtomicFiles.writeString(runDir.resolve("unreadable_images.txt"), String.join("\n", bad) + "\n");
          }
          if (bad.size() > reportedUnreadable && lead) {
            reportedUnreadable = bad.size();
            out.println("[train] " + bad.size() + " image(s) could not be decoded and were replaced by gray images (VISSL's rule);"
                + " listed in " + runDir.resolve("unreadable_images.txt"));
          }
          metrics.write(rec);
          if (lead) {
            writeReport(runDir, knn, train, epoch + 1, epochs, trainSeconds, trainImages);
          }
          String stop = agreeStop();
          if (last || epoch % cfg.checkpoint().frequency() == 0 || stop != null) {
            Path target = runDir.resolve((last ? Checkpoints.FINAL_PREFIX : "model_phase") + epoch + ".torch");
            Path ck = save(target, new Checkpoints.Position(epoch + 1, 0, globalStep), model, loss, sgd, metrics, metricsFile, knn,
                fingerprint, train, trainSeconds, trainImages, new EpochTotals(), 0, stepsPerEpoch);
            if (stop != null && !last) {
              return stopped(stop, ck, runDir, epochs, globalStep, start, trainSeconds, trainImages, finalLoss, knn);
            }
          }
          // the other ranks wait here while rank 0 evaluates and writes
          comm.barrier(Duration.ofSeconds(cfg.distributed().timeoutSeconds()));
          progress.setExtraSecondsPerEpoch((System.nanoTime() - extraStart) / 1e9);
        }
        double seconds = (System.nanoTime() - start) / 1e9;
        double ips = trainSeconds > 0 ? trainImages / trainSeconds : 0;
        out.println(String.format(Locale.ROOT, "[train] done: %d epochs, %d steps in %s (training %.0f img/s)",
            epochs, globalStep, Progress.duration(seconds), ips));
        KnnResult lastKnn = knn != null ? knn.last() : null;
        KnnResult rawKnn = knn != null ? knn.raw() : null;
        if (lastKnn != null) {
          out.println(String.format(Locale.ROOT, "[knn] final kNN top-1 %.2f%%%s -> %s", lastKnn.top1(),
              rawKnn != null ? String.format(Locale.ROOT, " (raw pixels %.2f%%)", rawKnn.top1()) : "", runDir.resolve("knn.json")));
        }
        return new TrainSummary(runDir, epochs, globalStep, seconds, ips, finalLoss, lastKnn, rawKnn, false, false);
      }
    }
  }

  /**
   * The embeddings of a batch as a training step computes them: the model's current mode, under
   * bfloat16 autocast when the run uses it. Shared with the bank fill, which must see the model as
   * the steps do.
   */
  static Tensor trainingForward(NpidModel model, Batch batch, Device device, boolean bf16Autocast) {
    Tensor images = Devices.to(Tensors.fromFloats(batch.images(), batch.shape()), device);
    try (Autocast amp = bf16Autocast ? Autocast.bfloat16(device) : null) {
      return model.forward(images);
    }
  }

  /** One optimizer step; returns the loss (its mean over ranks) and sets {@link #agreedStop}. */
  private double step(NpidModel model, NceLossWithMemory loss, Sgd sgd, Batch batch, int epoch, int step, long globalStep, Path runDir)
      throws IOException {
    try (PointerScope scope = new PointerScope()) {
      if (sync != null && cfg.distributed().broadcastBuffers()) {
        sync.broadcastBuffers();
      }
      Tensor embedding = trainingForward(model, batch, device, cfg.model().bf16Autocast());
      LossOutput lo = loss.forward(List.of(embedding), batch.indices());
      double lossValue = lo.loss();
      if (comm.worldSize() > 1) {
        // one all-reduce carries the logged loss (DDP logs the mean over ranks) and whether any rank was asked to stop
        Tensor t = Tensors.fromDoubles(new double[] {lossValue, StopSignal.requested() != null ? 1 : 0}, 2);
        comm.allReduceMean(t);
        double[] v = Tensors.toDoubles(t);
        lossValue = v[0];
        agreedStop = v[1] > 0 ? stopReason() : null;
      }
      if (cfg.checkNan() && !Double.isFinite(lossValue)) {
        Path link = runDir.resolve("checkpoint.torch");
        throw new TrainingFailure(String.format(Locale.ROOT,
            "loss is %s at epoch %d step %d (global step %d); batch sample indices start %s. Lower the LR or"
                + " check the data; the last good checkpoint is %s", lossValue, epoch + 1, step + 1, globalStep + 1,
            Arrays.toString(Arrays.copyOf(batch.indices(), Math.min(8, batch.indices().length))),
            Files.exists(link) ? link.toRealPath() : "(none yet)"));
      }
      sgd.zeroGrad();
      if (sync != null) {
        sync.beginBackward();
      }
      embedding.backward(lo.gradients().get(0), new BoolOptional(), false, new TensorArrayRefOptional());
      if (sync != null) {
        sync.averageGradients();
      }
      sgd.step();
      return lossValue;
    }
  }

  private Path save(Path target, Checkpoints.Position next, NpidModel model, NceLossWithMemory loss, Sgd sgd, MetricsLog metrics,
      Path metricsFile, KnnMonitor knn, String fingerprint, Dataset train, double trainSeconds, long trainImages,
      EpochTotals totals, double epochSeconds, int stepsPerEpoch) throws IOException {
    if (!lead) {
      return target; // every rank holds the same state; rank 0 writes it
    }
    Map<String, Object> meta = new LinkedHashMap<>();
    meta.put("format", Checkpoints.FORMAT);
    meta.put("npid4j_version", version());
    meta.put("npid4j_commit", System.getProperty("npid4j.commit", "unknown"));
    meta.put("libtorch_version", Torch.LIBTORCH_VERSION);
    meta.put("data", train.describe());
    meta.put("data_fingerprint", fingerprint);
    meta.put("experiment", cfg.experiment());
    meta.put("config_yaml", ConfigComposer.toYaml(cfg.tree()));
    meta.put("train_seconds", trainSeconds);
    meta.put("train_images", trainImages);
    meta.put("epoch_loss_sum", totals.lossSum);
    meta.put("epoch_loss_count", totals.lossCount);
    meta.put("epoch_images", totals.images);
    meta.put("epoch_seconds", epochSeconds);
    meta.put("metrics_bytes", metrics.size(metricsFile));
    if (knn != null) {
      meta.put("knn", knn.state());
    }
    Path previous = Files.isSymbolicLink(target.resolveSibling("checkpoint.torch"))
        ? target.resolveSibling("checkpoint.torch").toRealPath() : null;
    try {
      Checkpoints.save(target, next, model, loss, sgd, MetricsLog.JSON.writeValueAsString(meta));
    } catch (IOException e) {
      throw new TrainingFailure("cannot write checkpoint " + target + " (" + e.getMessage() + "; is the disk full?); "
          + (previous != null ? "the previous checkpoint " + previous + " is intact and running the same command again resumes from it"
              : "no checkpoint was written yet, so running the same command again starts over"));
    }
    Checkpoints.prune(target.getParent(), cfg.checkpoint().keepLastN(), stepsPerEpoch);
    out.println("[train] checkpoint " + target.getFileName());
    return target;
  }

  private TrainSummary stopped(String signal, Path checkpoint, Path runDir, int epochs, long globalStep, long start,
      double trainSeconds, long trainImages, double finalLoss, KnnMonitor knn) {
    out.println("[train] " + signal + ": stopped at global step " + globalStep + " after writing " + checkpoint.getFileName()
        + "; run the same command again to resume");
    double seconds = (System.nanoTime() - start) / 1e9;
    return new TrainSummary(runDir, epochs, globalStep, seconds, trainSeconds > 0 ? trainImages / trainSeconds : 0, finalLoss,
        knn != null ? knn.last() : null, knn != null ? knn.raw() : null, false, true);
  }

  /** Whether any rank was asked to stop (SIGTERM / SIGINT): all ranks must stop at the same step. */
  private String agreeStop() {
    if (comm.worldSize() == 1) {
      return StopSignal.requested();
    }
    try (PointerScope s = new PointerScope()) {
      Tensor t = Tensors.fromDoubles(new double[] {StopSignal.requested() != null ? 1 : 0}, 1);
      comm.allReduceMax(t);
      return Tensors.toDoubles(t)[0] > 0 ? stopReason() : null;
    }
  }

  private static String stopReason() {
    String local = StopSignal.requested();
    return local != null ? local : "stop requested on another rank";
  }

  /** Every rank must resume from the same point: a run directory that is not shared between nodes would split them. */
  private void checkSameStart(Checkpoints.Position pos, Path resumeFrom) {
    try (PointerScope s = new PointerScope()) {
      Tensor mine = Tensors.fromDoubles(new double[] {pos.globalStep()}, 1);
      Tensor rankZero = mine.clone();
      comm.broadcast(rankZero, 0);
      long zero = (long) Tensors.toDoubles(rankZero)[0];
      if (zero != pos.globalStep()) {
        throw new UserError(String.format(Locale.ROOT, "rank %d starts at global step %d (%s) but rank 0 at step %d: every rank must"
            + " see the same config.CHECKPOINT.DIR (a shared folder when the job spans machines)", comm.rank(), pos.globalStep(),
            resumeFrom != null ? "from " + resumeFrom : "no checkpoint", zero));
      }
    }
  }

  /**
   * VISSL's resume rules (spec section 6): the checkpoints to try, newest first (from the
   * LATEST_CHECKPOINT_RESUME_FILE_NUM-th newest on); empty means start from scratch.
   */
  private List<Path> resumeCandidates(Path runDir, int stepsPerEpoch) throws IOException {
    if (cfg.checkpoint().overwriteExisting()) {
      return List.of();
    }
    Path link = runDir.resolve("checkpoint.torch");
    if (cfg.checkpoint().useSymlinkForResume() && Files.exists(link)) {
      return List.of(link.toRealPath());
    }
    List<Checkpoints.Entry> all = Checkpoints.list(runDir, stepsPerEpoch);
    if (all.isEmpty()) {
      return List.of();
    }
    if (!cfg.checkpoint().autoResume()) {
      throw new UserError(runDir + " holds checkpoints of an earlier run but config.CHECKPOINT.AUTO_RESUME is false:"
          + " set it to true to continue that run, choose another config.CHECKPOINT.DIR, or set"
          + " config.CHECKPOINT.OVERWRITE_EXISTING=true to start again from scratch");
    }
    List<Path> newestFirst = new java.util.ArrayList<>();
    for (int i = all.size() - cfg.checkpoint().latestResumeFileNum(); i >= 0; i--) {
      newestFirst.add(all.get(i).path());
    }
    return newestFirst.isEmpty() ? List.of(all.get(0).path()) : newestFirst;
  }

  /** A fresh start in a used directory (OVERWRITE_EXISTING, or killed before its first checkpoint). */
  private static void clearPreviousRun(Path runDir, int stepsPerEpoch) throws IOException {
    for (Checkpoints.Entry e : Checkpoints.list(runDir, stepsPerEpoch)) {
      Files.deleteIfExists(e.path());
    }
    for (String f : new String[] {"checkpoint.torch", "metrics.jsonl", "knn.json", "unreadable_images.txt"}) {
      Files.deleteIfExists(runDir.resolve(f));
    }
  }

  /** Size, description and a CRC of a few decoded images: enough to notice that a run directory belongs to other data. */
  static String fingerprint(Dataset d) {
    CRC32 crc = new CRC32();
    int n = d.size();
    for (int i : new int[] {0, n / 3, (2 * n) / 3, n - 1}) {
      for (float v : d.image(i).pixels()) {
        crc.update(Float.floatToIntBits(v));
      }
      crc.update(d.label(i));
    }
    return n + ":" + Long.toHexString(crc.getValue());
  }

  private static String version() {
    String v = Trainer.class.getPackage().getImplementationVersion();
    return v != null ? v : "0.1.0-SNAPSHOT";
  }

  /** VISSL's HEAD.PARAMS_MULTIPLIER: scales every head Linear's weight and bias. */
  private static void scaleHeads(NpidModel model, double multiplier) {
    if (multiplier == 1.0) {
      return;
    }
    try (PointerScope s = new PointerScope(); NoGradGuard g = new NoGradGuard()) {
      for (Map.Entry<String, Tensor> e : StateDict.parameters(model).entrySet()) {
        if (e.getKey().startsWith("heads.")) {
          e.getValue().mul_(new Scalar(multiplier));
        }
      }
    }
  }

  static final String SAME_INIT_KEY = "config.LOSS.nce_loss_with_memory.memory_params.same_init_on_all_ranks";
  static final String INIT_FROM_MODEL_KEY = "config.LOSS.nce_loss_with_memory.memory_params.init_from_model";
  static final String BANK_DTYPE_KEY = "config.LOSS.nce_loss_with_memory.memory_params.dtype";

  /** npid4j's memory_params.dtype: how the bank is stored (computations stay float32). */
  private ScalarType bankType() {
    try {
      return Tensors.floatTypeNamed(cfg.tree().getString(BANK_DTYPE_KEY));
    } catch (IllegalArgumentException e) {
      throw new UserError(BANK_DTYPE_KEY + " " + e.getMessage());
    }
  }

  /**
   * Negative-sampling seed of one step: a function of (seed, step) only, the same on every rank,
   * so resume redraws the same negatives (each sample's stream then comes from its index).
   */
  static long mixSeed(long seed, long step) {
    long z = seed * 0x9E3779B97F4A7C15L + step * 0x94D049BB133111EBL;
    z = (z ^ (z >>> 30)) * 0xBF58476D1CE4E5B9L;
    return z ^ (z >>> 31);
  }
}
