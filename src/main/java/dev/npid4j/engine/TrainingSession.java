package dev.npid4j.engine;

import dev.npid4j.config.RunConfig;
import dev.npid4j.data.BatchLoader;
import dev.npid4j.data.Dataset;
import dev.npid4j.data.Datasets;
import dev.npid4j.data.EpochSampler;
import dev.npid4j.distributed.Communicator;
import dev.npid4j.distributed.ModelSync;
import dev.npid4j.distributed.SyncBatchNorm;
import dev.npid4j.loss.NceLossWithMemory;
import dev.npid4j.loss.RandomNegativeSampler;
import dev.npid4j.model.MlpHeadSpec;
import dev.npid4j.model.NpidModel;
import dev.npid4j.model.TrunkType;
import dev.npid4j.optim.ParamGroups;
import dev.npid4j.optim.Sgd;
import dev.npid4j.torch.Devices;
import dev.npid4j.torch.StateDict;
import dev.npid4j.torch.Tensors;
import dev.npid4j.torch.Torch;
import java.io.PrintStream;
import java.nio.file.Path;
import java.util.Locale;
import java.util.zip.CRC32;
import org.bytedeco.pytorch.Device;
import org.bytedeco.pytorch.global.torch.ScalarType;

/**
 * A training run's parts, built from a validated config in the order that fixes every random
 * stream: the data, the model (seeded init), the loss with its bank (seeded per rank), the
 * optimizer, the background loader and, with several ranks, the gradient sync and SyncBatchNorm.
 * Closing it frees the native parts.
 */
final class TrainingSession implements AutoCloseable {
  final RunConfig cfg;
  final Communicator comm;
  final Path runDir;
  final Device device;
  final Dataset train;
  /** The test split when the kNN monitor runs, else null. */
  final Dataset test;
  final EpochSampler sampler;
  final int stepsPerEpoch;
  final NpidModel model;
  final RandomNegativeSampler negatives;
  final NceLossWithMemory loss;
  final Sgd sgd;
  final BatchLoader loader;
  /** Gradient all-reduce and buffer broadcast with several ranks, else null. */
  final ModelSync sync;
  /** Size, description and a CRC of a few decoded images: enough to notice that a run directory belongs to other data. */
  final String fingerprint;
  /** train_config.yaml's text, also every checkpoint's provenance: the config with num_train_samples resolved. */
  final String configYaml;

  TrainingSession(RunConfig cfg, Communicator comm, int localProcesses, PrintStream out) {
    this.cfg = cfg;
    this.comm = comm;
    this.runDir = Path.of(cfg.checkpoint().dir());
    Torch.load();
    int threads = cfg.machine().intraOpThreads(localProcesses);
    Torch.setThreads(threads);
    device = Devices.forMachine(cfg.machine().device(), comm.localRank());
    int channels = cfg.model().trunk().inputChannels();
    train = Datasets.open(cfg.train(), channels, cfg.seed());
    boolean knn = cfg.knnMonitor().frequency() >= 0 && !cfg.test().isEmpty() && train.numClasses() > 0;
    test = knn ? Datasets.open(cfg.test(), channels, cfg.seed()) : null;
    fingerprint = fingerprint(train);
    configYaml = cfg.resolvedYaml(train.size());
    sampler = new EpochSampler(train.size(), cfg.seed(), comm.rank(), comm.worldSize(), true);
    stepsPerEpoch = BatchLoader.batchesPerEpoch(sampler.samplesPerRank(), cfg.train().batchSize(), cfg.train().dropLast());
    int batch = cfg.train().batchSize();
    out.println("[train] run directory " + runDir.toAbsolutePath());
    out.println("[train] data " + train.describe() + "; " + threads + " libtorch threads, " + cfg.numWorkers() + " loader threads"
        + (comm.worldSize() > 1 ? String.format(Locale.ROOT, "; rank %d of %d (c10d Gloo), %d images per rank per step, %d globally",
            comm.rank(), comm.worldSize(), batch, batch * comm.worldSize()) : ""));
    for (String note : cfg.hookNotes()) {
      out.println("[train] note: " + note);
    }
    if (cfg.lrScalingNote() != null) {
      out.println("[train] " + cfg.lrScalingNote());
    }
    boolean distributed = comm.worldSize() > 1;
    if (cfg.distributed().syncBn() && distributed) {
      out.println("[train] SyncBatchNorm (CONVERT_BN_TO_SYNC_BN): BatchNorm statistics over the global batch of all "
          + comm.worldSize() + " ranks");
    }
    if (distributed && !cfg.distributed().backend().equals("gloo")) {
      out.println("[train] note: config.DISTRIBUTED.BACKEND=" + cfg.distributed().backend() + " is for GPUs; on the CPU the ranks"
          + " talk through c10d's gloo backend (set BACKEND=gloo to silence this note)");
    }
    var m = cfg.model();
    if (m.trunkType() == TrunkType.RESNET && (long) m.trunk().baseWidth() * m.trunk().widthMultiplier() < 16) {
      out.println("[train] warning: convolutions with fewer than 16 channels: oneDNN has computed wrong input gradients"
          + " (even NaN) for such shapes on some CPUs; prefer MODEL.TRUNK.RESNETS.BASE_WIDTH >= 16");
    }
    Torch.manualSeed(cfg.seed());
    model = new NpidModel(m.trunkType(), m.trunk(), m.heads());
    StateDict.scaleParameters(model, "heads.", m.headParamsMultiplier()); // VISSL's HEAD.PARAMS_MULTIPLIER
    model.to(device, false); // initialised on the CPU from the seed, as a CPU run, then moved
    model.train(true);
    out.println(String.format(Locale.ROOT, "[train] model %s: %,d parameters", modelDescription(cfg), StateDict.parameterCount(model)));

    negatives = new RandomNegativeSampler(0);
    int epochs = cfg.optimizer().numEpochs();
    // VISSL seeds each rank's bank with (SEED_VALUE + rank) x num_epochs and averages them on the first forward
    long bankSeed = (long) (cfg.seed() + (cfg.bank().sameInitOnAllRanks() ? 0 : comm.rank())) * epochs;
    loss = NceLossWithMemory.create(cfg.loss(), cfg.bank().forSize(train.size()), ScalarType.Float, bankSeed, negatives, comm, device,
        Tensors.floatTypeNamed(cfg.bank().storage()));
    var o = cfg.optimizer();
    sgd = new Sgd(ParamGroups.of(model, o.regularizeBn(), o.regularizeBias()), o.momentum(), o.weightDecay(), o.nesterov());
    loader = new BatchLoader(train, cfg.train().transforms(), batch, cfg.train().dropLast(), cfg.numWorkers(), (long) cfg.seed() * 31);
    sync = distributed ? new ModelSync(model, comm) : null;
    if (cfg.distributed().syncBn() && distributed) {
      SyncBatchNorm.convert(model.norms(), comm); // VISSL's CONVERT_BN_TO_SYNC_BN
    }
  }

  /** "ResNet-18 (cifar stem, width 16) + mlp [[128, 128]]": for the log and the report. */
  static String modelDescription(RunConfig cfg) {
    var m = cfg.model();
    String amp = m.bf16Autocast() ? ", forward under bfloat16 autocast"
        : m.ampOffWithoutNativeBf16() ? ", float32 (USE_AMP off: this CPU has no AVX512-BF16 / AMX, see AMP_PARAMS.NATIVE_BF16_ONLY)" : "";
    String heads = m.heads().stream().map(MlpHeadSpec::dims).toList().toString();
    if (m.trunkType() == TrunkType.ALEXNET_BVLC) {
      return "AlexNet (BVLC, VISSL's alexnet_bvlc) + mlp " + heads + amp;
    }
    return String.format(Locale.ROOT, "ResNet-%d (%s stem, width %d) + mlp %s%s", m.trunk().depth(), m.trunk().stem(),
        m.trunk().baseWidth() * m.trunk().widthMultiplier(), heads, amp);
  }

  /** "nce_loss_with_memory: cross_entropy, K=4096 per sample, T=0.07, momentum 0.5": for the log and the report. */
  static String lossDescription(RunConfig cfg) {
    return String.format(Locale.ROOT, "nce_loss_with_memory: %s, K=%d %s, T=%s, momentum %s",
        cfg.loss().lossType().name().toLowerCase(Locale.ROOT), cfg.loss().numNegatives(),
        cfg.loss().sharedNegatives() ? "shared by the batch" : "per sample", cfg.loss().temperature(), cfg.bank().momentum());
  }

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

  @Override
  public void close() {
    if (sync != null) {
      sync.close();
    }
    loader.close();
    sgd.close();
    loss.close();
  }
}
