package dev.npid4j.engine;

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
import dev.npid4j.eval.KnnResult;
import dev.npid4j.loss.LossOutput;
import dev.npid4j.loss.NceLossWithMemory;
import dev.npid4j.loss.RandomNegativeSampler;
import dev.npid4j.model.MlpHeadSpec;
import dev.npid4j.model.NpidModel;
import dev.npid4j.optim.LrSchedule;
import dev.npid4j.optim.ParamGroups;
import dev.npid4j.optim.Sgd;
import dev.npid4j.torch.StateDict;
import dev.npid4j.torch.Tensors;
import dev.npid4j.torch.Torch;
import java.io.IOException;
import java.io.PrintStream;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import org.bytedeco.javacpp.PointerScope;
import org.bytedeco.pytorch.BoolOptional;
import org.bytedeco.pytorch.NoGradGuard;
import org.bytedeco.pytorch.Scalar;
import org.bytedeco.pytorch.Tensor;
import org.bytedeco.pytorch.TensorArrayRefOptional;
import org.bytedeco.pytorch.global.torch.ScalarType;

/**
 * The NPID training loop on one process: per epoch, the DistributedSampler order, batches from
 * the background loader, forward, {@code nce_loss_with_memory} (which also updates the bank),
 * backward, SGD; per-epoch LR (or per-step), progress lines, metrics.jsonl, kNN monitor and
 * checkpoints in the run directory ({@code CHECKPOINT.DIR}).
 */
public final class Trainer {
  private final RunConfig cfg;
  private final PrintStream out;
  private final Communicator comm = Communicator.local();
  private StepListener listener = (epoch, step, loss) -> {};

  /** Called after every optimizer step (for tests and tools that watch a run). */
  public interface StepListener {
    void onStep(int epoch, long globalStep, double loss);
  }

  public Trainer(RunConfig cfg, PrintStream out) {
    this.cfg = cfg;
    this.out = out;
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

  private TrainSummary train() throws IOException {
    if (cfg.machine().device().equals("gpu")) {
      throw new UserError("config.MACHINE.DEVICE=gpu, but this build of npid4j runs libtorch on the CPU only:"
          + " add config.MACHINE.DEVICE=cpu");
    }
    if (cfg.worldSize() != 1) {
      throw new UserError("config.DISTRIBUTED asks for " + cfg.worldSize() + " processes (NUM_NODES x NUM_PROC_PER_NODE), but"
          + " this build trains in one process: add config.DISTRIBUTED.NUM_NODES=1 config.DISTRIBUTED.NUM_PROC_PER_NODE=1");
    }
    Path runDir = Path.of(cfg.checkpoint().dir());
    var finished = Checkpoints.finalCheckpoint(runDir);
    if (finished.isPresent() && !cfg.checkpoint().overwriteExisting()) {
      out.println("[train] " + runDir + " already holds a finished run (" + finished.get().getFileName()
          + "); nothing to do. Set config.CHECKPOINT.OVERWRITE_EXISTING=true to train again.");
      return new TrainSummary(runDir, 0, 0, 0, 0, Double.NaN, null, null, true);
    }
    if (finished.isEmpty() && Checkpoints.any(runDir) && !cfg.checkpoint().overwriteExisting()) {
      throw new UserError(runDir + " holds an unfinished run and npid4j cannot resume it yet: choose another"
          + " config.CHECKPOINT.DIR, or set config.CHECKPOINT.OVERWRITE_EXISTING=true to start it again from scratch");
    }
    Torch.load();
    int threads = cfg.machine().numThreads() > 0 ? cfg.machine().numThreads() : Runtime.getRuntime().availableProcessors();
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

    Files.createDirectories(runDir);
    AtomicFiles.writeString(runDir.resolve("train_config.yaml"), ConfigComposer.toYaml(cfg.tree()));
    Files.deleteIfExists(runDir.resolve("metrics.jsonl"));
    Files.deleteIfExists(runDir.resolve("knn.json"));

    out.println("[train] run directory " + runDir.toAbsolutePath());
    out.println("[train] data " + train.describe() + "; " + threads + " libtorch threads, " + cfg.numWorkers() + " loader threads");

    if ((long) cfg.model().trunk().baseWidth() * cfg.model().trunk().widthMultiplier() < 16) {
      out.println("[train] warning: convolutions with fewer than 16 channels: oneDNN has computed wrong input gradients"
          + " (even NaN) for such shapes on some CPUs; prefer MODEL.TRUNK.RESNETS.BASE_WIDTH >= 16");
    }
    Torch.manualSeed(cfg.seed());
    NpidModel model = new NpidModel(cfg.model().trunk(), cfg.model().heads());
    scaleHeads(model, cfg.model().headParamsMultiplier());
    model.train(true);
    out.println(String.format(Locale.ROOT, "[train] model ResNet-%d (%s stem, width %d) + mlp %s: %,d parameters",
        cfg.model().trunk().depth(), cfg.model().trunk().stem(), cfg.model().trunk().baseWidth() * cfg.model().trunk().widthMultiplier(),
        cfg.model().heads().stream().map(MlpHeadSpec::dims).toList(), StateDict.parameterCount(model)));

    int rank = comm.rank();
    RandomNegativeSampler negatives = new RandomNegativeSampler(0);
    KnnMonitor knn = knnEnabled
        ? new KnnMonitor(cfg.knnMonitor(), train, test, testTransform, cfg.test().batchSize(), cfg.numWorkers(), runDir, out) : null;
    double finalLoss = Double.NaN;
    long globalStep = 0;
    double trainSeconds = 0;
    long trainImages = 0;
    long start = System.nanoTime();

    try (NceLossWithMemory loss = NceLossWithMemory.create(cfg.loss().params(n), ScalarType.Float,
            (long) (cfg.seed() + rank) * epochs, negatives, comm);
        Sgd sgd = new Sgd(ParamGroups.of(model, cfg.optimizer().regularizeBn(), cfg.optimizer().regularizeBias()),
            cfg.optimizer().momentum(), cfg.optimizer().weightDecay(), cfg.optimizer().nesterov());
        BatchLoader loader = new BatchLoader(train, trainTransform, cfg.train().batchSize(), cfg.train().dropLast(),
            cfg.numWorkers(), (long) cfg.seed() * 31 + rank);
        MetricsLog metrics = new MetricsLog(runDir.resolve("metrics.jsonl"))) {
      out.println(String.format(Locale.ROOT, "[train] loss %s: %s, K=%d, T=%s, momentum %s, memory bank %d x %d",
          "nce_loss_with_memory", cfg.loss().lossType().name().toLowerCase(Locale.ROOT), cfg.loss().numNegatives(),
          cfg.loss().temperature(), cfg.loss().momentum(), n, cfg.loss().embeddingDim()));

      if (knn != null && cfg.knnMonitor().rawPixelBaseline()) {
        knn.rawPixelBaseline();
      }

      EpochSampler sampler = new EpochSampler(train.size(), cfg.seed(), rank, comm.worldSize(), true);
      int stepsPerEpoch = loader.batchesPerEpoch(sampler.samplesPerRank());
      Progress progress = new Progress(out, epochs, stepsPerEpoch);
      long totalSteps = (long) epochs * stepsPerEpoch;

      for (int epoch = 0; epoch < epochs; epoch++) {
        long epochStart = System.nanoTime();
        double lossSum = 0;
        int lossCount = 0;
        int imagesThisEpoch = 0;
        Iterator<Batch> batches = loader.epoch(epoch, sampler.indices(epoch), 0);
        int step = 0;
        double lr = Double.NaN;
        double windowLoss = 0;
        int windowCount = 0;
        while (batches.hasNext()) {
          Batch batch = batches.next();
          if (batch.size() < 2) {
            // BatchNorm cannot train on one sample (PyTorch raises); a short last batch of 1 is skipped.
            out.println("[train] note: skipping a last batch of 1 image (BatchNorm needs 2); set config.DATA.TRAIN.DROP_LAST=true to drop short batches");
            continue;
          }
          double where = interval == LrSchedule.Interval.EPOCH ? (double) epoch / epochs : (double) globalStep / totalSteps;
          lr = schedule.at(where);
          sgd.setLr(lr);
          negatives.reseed(mixSeed(cfg.seed(), rank, globalStep));
          double lossValue;
          try (PointerScope scope = new PointerScope()) {
            Tensor images = Tensors.fromFloats(batch.images(), batch.shape());
            Tensor embedding = model.forward(images);
            LossOutput lo = loss.forward(List.of(embedding), batch.indices());
            lossValue = lo.loss();
            if (cfg.checkNan() && !Double.isFinite(lossValue)) {
              throw new TrainingFailure(String.format(Locale.ROOT,
                  "loss is %s at epoch %d step %d (global step %d); batch sample indices start %s. Lower the LR or"
                      + " check the data; the last good checkpoint is %s", lossValue, epoch + 1, step + 1, globalStep + 1,
                  Arrays.toString(Arrays.copyOf(batch.indices(), Math.min(8, batch.indices().length))),
                  Files.exists(runDir.resolve("checkpoint.torch")) ? runDir.resolve("checkpoint.torch").toRealPath() : "(none yet)"));
            }
            sgd.zeroGrad();
            embedding.backward(lo.gradients().get(0), new BoolOptional(), false, new TensorArrayRefOptional());
            sgd.step();
          }
          step++;
          globalStep++;
          lossSum += lossValue;
          lossCount++;
          windowLoss += lossValue;
          windowCount++;
          imagesThisEpoch += batch.size();
          progress.stepDone(batch.size());
          finalLoss = lossValue;
          listener.onStep(epoch, globalStep, lossValue);
          if (step % cfg.logFrequency() == 0 || step == stepsPerEpoch) {
            double ips = progress.report(epoch, step, windowLoss / windowCount, lr);
            Map<String, Object> rec = new LinkedHashMap<>();
            rec.put("type", "step");
            rec.put("epoch", epoch + 1);
            rec.put("step", step);
            rec.put("global_step", globalStep);
            rec.put("loss", windowLoss / windowCount);
            rec.put("lr", lr);
            rec.put("img_per_s", ips);
            rec.put("time", (System.nanoTime() - start) / 1e9);
            metrics.write(rec);
            windowLoss = 0;
            windowCount = 0;
          }
        }
        double epochSeconds = (System.nanoTime() - epochStart) / 1e9;
        trainSeconds += epochSeconds;
        trainImages += imagesThisEpoch;
        long extraStart = System.nanoTime();
        Map<String, Object> rec = new LinkedHashMap<>();
        rec.put("type", "epoch");
        rec.put("epoch", epoch + 1);
        rec.put("loss", lossSum / Math.max(1, lossCount));
        rec.put("lr", lr);
        rec.put("img_per_s", imagesThisEpoch / epochSeconds);
        rec.put("seconds", epochSeconds);
        rec.put("Z", loss.z());

        boolean last = epoch == epochs - 1;
        if (knn != null && knn.due(epoch, epochs)) {
          knn.evaluate(epoch + 1, model, loss.memory(), rec);
        }
        if (last || epoch % cfg.checkpoint().frequency() == 0) {
          Path ck = Checkpoints.save(runDir, epoch, last, globalStep, model, loss, sgd);
          out.println("[train] checkpoint " + ck.getFileName());
        }
        metrics.write(rec);
        progress.setExtraSecondsPerEpoch((System.nanoTime() - extraStart) / 1e9);
      }
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
    return new TrainSummary(runDir, epochs, globalStep, seconds, ips, finalLoss, lastKnn, rawKnn, false);
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

  /** Negative-sampling seed of one step: a function of (seed, rank, step) only, so resume redraws the same negatives. */
  static long mixSeed(long seed, int rank, long step) {
    long z = seed * 0x9E3779B97F4A7C15L + rank * 0xBF58476D1CE4E5B9L + step * 0x94D049BB133111EBL;
    z = (z ^ (z >>> 30)) * 0xBF58476D1CE4E5B9L;
    return z ^ (z >>> 31);
  }
}
