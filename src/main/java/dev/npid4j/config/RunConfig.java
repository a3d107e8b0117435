package dev.npid4j.config;

import dev.npid4j.data.transform.Transforms;
import dev.npid4j.loss.MemoryBankParams;
import dev.npid4j.loss.NceLossParams;
import dev.npid4j.model.TrunkType;
import dev.npid4j.optim.LrSchedule;
import dev.npid4j.model.MlpHeadSpec;
import dev.npid4j.model.ResNetSpec;
import dev.npid4j.torch.CpuFeatures;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * The typed, validated view of a composed configuration: every key the engine reads, parsed and
 * cross-checked once, after VISSL's post-composition inference (LR auto-scaling, LABEL_TYPE),
 * before any data is opened or any model built. Nothing outside this package reads the raw tree,
 * and nothing writes into it after this: the values resolved during a run (num_train_samples) go
 * to {@link #resolvedYaml}. Reading a config never loads native code.
 */
public final class RunConfig {
  private final ConfigTree tree;
  private final String experiment;
  private final int seed;
  private final int logFrequency;
  private final boolean verbose;
  private final boolean checkNan;
  private final int numWorkers;
  private final DataSplit train;
  private final DataSplit test;
  private final ModelConfig model;
  private final NceLossParams loss;
  private final BankConfig bank;
  private final OptimizerConfig optimizer;
  private final DistributedConfig distributed;
  private final MachineConfig machine;
  private final CheckpointConfig checkpoint;
  private final KnnMonitorConfig knnMonitor;
  private final EvalSettings eval;

  /**
   * One split of DATA (TRAIN or TEST).
   *
   * @param transforms TRANSFORMS, parsed; {@code transformsGiven} says whether the config had any
   */
  public record DataSplit(
      String name,
      List<String> sources,
      List<String> datasetNames,
      List<String> dataPaths,
      List<String> labelSources,
      List<String> labelPaths,
      String labelType,
      int batchSize,
      Transforms transforms,
      boolean transformsGiven,
      long dataLimit,
      boolean dropLast,
      int syntheticImageSize,
      int syntheticClasses) {
    public boolean isEmpty() {
      return sources.isEmpty();
    }
  }

  /**
   * @param trunkType MODEL.TRUNK.NAME; for alexnet_bvlc, {@code trunk} carries only the input channels
   * @param bf16Autocast MODEL.AMP_PARAMS.USE_AMP: the training forward under CPU autocast to bfloat16
   * @param ampOffWithoutNativeBf16 USE_AMP was asked for, but MODEL.AMP_PARAMS.NATIVE_BF16_ONLY
   *     turned it off on this CPU (no AVX512-BF16 / AMX): training runs in float32
   * @param headBatchNormEps MODEL.HEAD.BATCHNORM_EPS (also the linear benchmark's heads)
   */
  public record ModelConfig(TrunkType trunkType, ResNetSpec trunk, List<MlpHeadSpec> heads, double headParamsMultiplier,
      boolean bf16Autocast, boolean ampOffWithoutNativeBf16, double headBatchNormEps, double headBatchNormMomentum) {
    public int embeddingDim() {
      return heads.isEmpty() ? trunk.outputDim() : heads.get(heads.size() - 1).outputDim();
    }
  }

  /**
   * VISSL's memory_params plus npid4j's own bank keys.
   *
   * @param storage memory_params.dtype: float32, or bfloat16 / float16 to halve the bank (computations stay float32)
   * @param initFromModel memory_params.init_from_model: fill the bank with the untrained model's embeddings
   * @param sameInitOnAllRanks memory_params.same_init_on_all_ranks: every rank draws the bank from SEED_VALUE
   */
  public record BankConfig(int embeddingDim, double momentum, boolean normInit, String storage, boolean initFromModel,
      boolean sameInitOnAllRanks) {
    /** The bank's parameters once the training set's size is known (VISSL forces memory_size to num_train_samples). */
    public MemoryBankParams forSize(long n) {
      return new MemoryBankParams(n, embeddingDim, momentum, normInit);
    }
  }

  public record OptimizerConfig(
      double momentum,
      boolean nesterov,
      double weightDecay,
      int numEpochs,
      boolean regularizeBn,
      boolean regularizeBias,
      LrSchedule lrSchedule,
      LrSchedule.Interval lrInterval) {}

  /**
   * @param timeoutSeconds npid4j: how long a collective or the rendezvous waits for a silent rank
   * @param broadcastBuffers DDP's broadcast_buffers: rank 0's BatchNorm statistics replace the others' before every forward
   * @param syncBn MODEL.SYNC_BN_CONFIG.CONVERT_BN_TO_SYNC_BN
   */
  public record DistributedConfig(String backend, int numNodes, int procPerNode, String initMethod, String runId, int nodeId,
      int timeoutSeconds, boolean broadcastBuffers, boolean syncBn) {
    public int worldSize() {
      return numNodes * procPerNode;
    }
  }

  public record MachineConfig(String device, int numThreads) {
    /** MACHINE.NUM_THREADS, or when it is 0 the cores shared out between the job's processes on this machine. */
    public int intraOpThreads(int localProcesses) {
      return numThreads > 0 ? numThreads : Math.max(1, Runtime.getRuntime().availableProcessors() / Math.max(1, localProcesses));
    }
  }

  public record CheckpointConfig(String dir, int frequency, int iterFrequency, boolean autoResume, boolean overwriteExisting,
      boolean useSymlinkForResume, int latestResumeFileNum, int keepLastN) {}

  public record KnnMonitorConfig(int frequency, int topk, double sigma, boolean rawPixelBaseline, boolean recomputedFeatures) {}

  private static final String C = "config.";
  private static final String NCE = C + "LOSS.nce_loss_with_memory.";

  /** Composes {@code args} (config=..., overrides) and builds the validated run config. */
  public static RunConfig fromArgs(List<String> args) {
    ConfigComposer.Composed c = ConfigComposer.compose(args);
    return from(c.tree(), c.experiment());
  }

  public static RunConfig from(ConfigTree tree, String experiment) {
    inferAfterComposition(tree);
    return new RunConfig(tree, experiment);
  }

  private RunConfig(ConfigTree t, String experiment) {
    this.tree = t;
    this.experiment = experiment;
    this.seed = t.getInt(C + "SEED_VALUE");
    this.logFrequency = positive(t, C + "LOG_FREQUENCY");
    this.verbose = t.getBool(C + "VERBOSE");
    this.checkNan = t.getBool(C + "HOOKS.CHECK_NAN");
    this.numWorkers = nonNegative(t, C + "DATA.NUM_DATALOADER_WORKERS");
    this.train = split(t, "TRAIN");
    this.test = split(t, "TEST");
    this.model = model(t);
    this.loss = loss(t);
    this.bank = bank(t);
    this.optimizer = optimizer(t);
    this.distributed = distributed(t);
    this.machine = machine(t);
    this.checkpoint = checkpoint(t);
    this.knnMonitor = knnMonitor(t);
    this.eval = EvalSettings.from(t, model.trunkType());
  }

  /**
   * The cross-checks that only training needs (evaluation reads a headless trunk from the same
   * configs): the bank's rows are as wide as the model's embeddings. Returns this config.
   */
  public RunConfig checkedForTraining() {
    if (bank.embeddingDim() != model.embeddingDim()) {
      throw new ConfigError(NCE + "memory_params.embedding_dim is " + bank.embeddingDim() + " but the model outputs "
          + model.embeddingDim() + "-d embeddings (the last dim of MODEL.HEAD.PARAMS)");
    }
    return this;
  }

  /** VISSL's infer_and_assert_hydra_config steps that apply to NPID, in its order. */
  static void inferAfterComposition(ConfigTree tree) {
    LrAutoScaling.apply(tree);
    String train = C + "DATA.TRAIN.";
    if (tree.getList(train + "LABEL_SOURCES").isEmpty() && !"zero".equals(tree.getString(train + "LABEL_TYPE"))) {
      tree.set(train + "LABEL_TYPE", "sample_index", false, "inference");
    }
  }

  /** The composed config as YAML, with the loss's num_train_samples resolved to the training set's size (VISSL's auto-fill). */
  public String resolvedYaml(long numTrainSamples) {
    ConfigTree copy = tree.copy();
    copy.set(NCE + "num_train_samples", numTrainSamples, false, "auto-fill");
    return ConfigComposer.toYaml(copy);
  }

  /** The composed tree (this package's tests). */
  ConfigTree tree() {
    return tree;
  }

  public String experiment() {
    return experiment;
  }

  public int seed() {
    return seed;
  }

  public int logFrequency() {
    return logFrequency;
  }

  public boolean verbose() {
    return verbose;
  }

  public boolean checkNan() {
    return checkNan;
  }

  public int numWorkers() {
    return numWorkers;
  }

  public DataSplit train() {
    return train;
  }

  public DataSplit test() {
    return test;
  }

  public ModelConfig model() {
    return model;
  }

  public NceLossParams loss() {
    return loss;
  }

  public BankConfig bank() {
    return bank;
  }

  public OptimizerConfig optimizer() {
    return optimizer;
  }

  public DistributedConfig distributed() {
    return distributed;
  }

  public MachineConfig machine() {
    return machine;
  }

  public CheckpointConfig checkpoint() {
    return checkpoint;
  }

  public KnnMonitorConfig knnMonitor() {
    return knnMonitor;
  }

  /** MODEL.WEIGHTS_INIT, FEATURE_EVAL_SETTINGS, NEAREST_NEIGHBOR and EXTRACT_FEATURES. */
  public EvalSettings eval() {
    return eval;
  }

  public int worldSize() {
    return distributed.worldSize();
  }

  private static DataSplit split(ConfigTree t, String name) {
    String p = C + "DATA." + name + ".";
    List<String> sources = strings(t, p + "DATA_SOURCES");
    Set<String> known = Set.of("fashion_mnist", "synthetic", "disk_folder", "disk_filelist");
    for (String s : sources) {
      if (!known.contains(s)) {
        String hint = Keys.closest(s, known);
        throw new ConfigError(p + "DATA_SOURCES: unknown data source '" + s + "'"
            + (hint != null ? "; did you mean '" + hint + "'?" : "") + " (available: fashion_mnist, disk_folder, disk_filelist, synthetic)");
      }
    }
    if (sources.size() > 1) {
      throw new ConfigError(p + "DATA_SOURCES: npid4j reads one data source per split, got " + sources);
    }
    String labelType = t.getString(p + "LABEL_TYPE");
    if (!Set.of("standard", "sample_index", "zero").contains(labelType)) {
      throw new ConfigError(p + "LABEL_TYPE must be standard, sample_index or zero, got '" + labelType + "'");
    }
    long limit = t.getLong(p + "DATA_LIMIT");
    if (sources.contains("synthetic") && limit <= 0) {
      throw new ConfigError(p + "DATA_LIMIT must be > 0 for the synthetic source (it is the number of images)");
    }
    return new DataSplit(name, sources, strings(t, p + "DATASET_NAMES"), strings(t, p + "DATA_PATHS"),
        strings(t, p + "LABEL_SOURCES"), strings(t, p + "LABEL_PATHS"), labelType, positive(t, p + "BATCHSIZE_PER_REPLICA"),
        Transforms.fromConfig(t.getList(p + "TRANSFORMS"), p + "TRANSFORMS"), !t.getList(p + "TRANSFORMS").isEmpty(), limit, t.getBool(p + "DROP_LAST"), positive(t, p + "DEFAULT_GRAY_IMG_SIZE"),
        nonNegative(t, p + "RANDOM_SYNTHETIC_LABELS"));
  }

  private static ModelConfig model(ConfigTree t) {
    String m = C + "MODEL.";
    String trunkName = t.getString(m + "TRUNK.NAME");
    TrunkType trunkType = TrunkType.named(trunkName);
    if (trunkType == null) {
      throw new ConfigError(m + "TRUNK.NAME: trunk '" + trunkName + "' is not available; npid4j builds " + TrunkType.names());
    }
    String r = m + "TRUNK.RESNETS.";
    String inputType = t.getString(m + "INPUT_TYPE");
    int channels = switch (inputType) {
      case "rgb" -> 3;
      case "gray" -> 1;
      default -> throw new ConfigError(m + "INPUT_TYPE must be rgb or gray, got '" + inputType + "'");
    };
    ResNetSpec trunk;
    try {
      trunk = new ResNetSpec(t.getInt(r + "DEPTH"), t.getString(r + "STEM"), channels, t.getInt(r + "BASE_WIDTH"),
          t.getInt(r + "WIDTH_MULTIPLIER"), t.getInt(r + "GROUPS"), t.getInt(r + "WIDTH_PER_GROUP"),
          t.getInt(r + "LAYER4_STRIDE"), t.getBool(r + "ZERO_INIT_RESIDUAL"), t.getString(r + "NORM"), t.getInt(r + "GROUPNORM_GROUPS"));
    } catch (IllegalArgumentException e) {
      throw new ConfigError(r + "*: " + e.getMessage());
    }
    boolean amp = t.getBool(m + "AMP_PARAMS.USE_AMP");
    if (amp) {
      String type = t.getString(m + "AMP_PARAMS.AMP_TYPE");
      if (!type.equals("pytorch")) {
        throw new ConfigError(m + "AMP_PARAMS.AMP_TYPE: '" + type + "' is not available; apex is NVIDIA's CUDA library,"
            + " npid4j uses libtorch's autocast: set config.MODEL.AMP_PARAMS.AMP_TYPE=pytorch");
      }
      String dtype = t.getString(m + "AMP_PARAMS.AMP_DTYPE");
      if (!dtype.equals("bfloat16")) {
        throw new ConfigError(m + "AMP_PARAMS.AMP_DTYPE: '" + dtype + "' is not available on CPU (float16 training needs a GPU"
            + " and a loss scaler); use bfloat16");
      }
    }
    // npid4j's NATIVE_BF16_ONLY: autocast only where the CPU computes bfloat16 natively; elsewhere
    // bfloat16 is emulated and slower than float32, so a config that asks for speed runs float32
    boolean ampOff = amp && t.getBool(m + "AMP_PARAMS.NATIVE_BF16_ONLY") && "cpu".equals(t.getString(C + "MACHINE.DEVICE"))
        && !CpuFeatures.nativeBf16();
    List<MlpHeadSpec> heads = heads(t, m + "HEAD.");
    if (trunkType == TrunkType.ALEXNET_BVLC && heads.isEmpty()) {
      throw new ConfigError(m + "HEAD.PARAMS: alexnet_bvlc needs a head (its feature width depends on the image size)");
    }
    int width = trunkType.outputDim(trunk);
    for (int i = 0; i < heads.size(); i++) {
      if (width >= 0 && heads.get(i).inputDim() != width) {
        throw new ConfigError(m + "HEAD.PARAMS[" + i + "] takes " + heads.get(i).inputDim() + "-d input but the "
            + (i == 0 ? "trunk (" + describe(trunkType, trunk) + ")" : "head before it") + " gives " + width
            + "-d features: set its dims[0] to " + width);
      }
      width = heads.get(i).outputDim();
    }
    return new ModelConfig(trunkType, trunk, heads, t.getDouble(m + "HEAD.PARAMS_MULTIPLIER"), amp && !ampOff, ampOff,
        t.getDouble(m + "HEAD.BATCHNORM_EPS"), t.getDouble(m + "HEAD.BATCHNORM_MOMENTUM"));
  }

  private static String describe(TrunkType type, ResNetSpec spec) {
    return type == TrunkType.RESNET ? "ResNet-" + spec.depth() + ", width multiplier " + spec.widthMultiplier() : type.configName();
  }

  private static final List<String> MLP_KEYS = List.of("dims", "use_bn", "use_relu", "use_dropout", "use_bias", "skip_last_layer_relu_bn");

  private static List<MlpHeadSpec> heads(ConfigTree t, String h) {
    List<MlpHeadSpec> out = new ArrayList<>();
    List<Object> params = t.getList(h + "PARAMS");
    for (int i = 0; i < params.size(); i++) {
      String at = h + "PARAMS[" + i + "]";
      if (!(params.get(i) instanceof List<?> entry) || entry.isEmpty() || !(entry.get(0) instanceof String name)) {
        throw new ConfigError(at + " must look like [\"mlp\", {\"dims\": [2048, 128]}], got " + params.get(i));
      }
      if (!name.equals("mlp")) {
        throw new ConfigError(at + ": head '" + name + "' is not available; npid4j builds 'mlp' heads");
      }
      Map<String, Object> p = entry.size() > 1 && entry.get(1) instanceof Map<?, ?> mp ? ConfigTree.asMap(mp) : Map.of();
      for (String k : p.keySet()) {
        if (!MLP_KEYS.contains(k)) {
          String hint = Keys.closest(k, MLP_KEYS);
          throw new ConfigError(at + ": unknown mlp parameter '" + k + "'" + (hint != null ? "; did you mean '" + hint + "'?" : ""));
        }
      }
      if (!(p.get("dims") instanceof List<?> dimsRaw)) {
        throw new ConfigError(at + ": mlp needs \"dims\", e.g. {\"dims\": [2048, 128]}");
      }
      List<Integer> dims = new ArrayList<>();
      for (Object d : dimsRaw) {
        if (!(d instanceof Long l)) {
          throw new ConfigError(at + ".dims must be integers, got " + dimsRaw);
        }
        dims.add(l.intValue());
      }
      try {
        out.add(new MlpHeadSpec(dims, flag(p, "use_bn", false, at), flag(p, "use_relu", false, at),
            flag(p, "use_dropout", false, at), flag(p, "use_bias", true, at), flag(p, "skip_last_layer_relu_bn", true, at),
            t.getDouble(h + "BATCHNORM_EPS"), t.getDouble(h + "BATCHNORM_MOMENTUM")));
      } catch (IllegalArgumentException e) {
        throw new ConfigError(at + ": " + e.getMessage());
      }
    }
    return out;
  }

  private static boolean flag(Map<String, Object> p, String key, boolean dflt, String at) {
    Object v = p.getOrDefault(key, dflt);
    if (!(v instanceof Boolean b)) {
      throw new ConfigError(at + "." + key + " expects true or false, got " + ConfigTree.describe(v));
    }
    return b;
  }

  /** The loss settings (the bank's are {@link #bank}). */
  private static NceLossParams loss(ConfigTree t) {
    String name = t.getString(C + "LOSS.name");
    if (!"nce_loss_with_memory".equals(name)) {
      throw new ConfigError(C + "LOSS.name: loss '" + name + "' is not available; npid4j trains with nce_loss_with_memory");
    }
    String l = C + "LOSS.nce_loss_with_memory.";
    String type = t.getString(l + "loss_type");
    NceLossParams.LossType lossType = switch (type) {
      case "nce" -> NceLossParams.LossType.NCE;
      case "cross_entropy" -> NceLossParams.LossType.CROSS_ENTROPY;
      default -> throw new ConfigError(l + "loss_type must be nce or cross_entropy, got '" + type + "'");
    };
    String sampling = t.getString(l + "negative_sampling_params.type");
    if (!"random".equals(sampling) && !NceLossParams.SHARED.equals(sampling)) {
      throw new ConfigError(l + "negative_sampling_params.type must be random (or npid4j's opt-in " + NceLossParams.SHARED + ")"
          + ("debug".equals(sampling) ? " (VISSL's debug sampler is CUDA-only and draws the same distribution)" : "")
          + ", got '" + sampling + "'");
    }
    List<Double> weights = new ArrayList<>();
    for (Object w : t.getList(l + "loss_weights")) {
      if (!(w instanceof Number n)) {
        throw new ConfigError(l + "loss_weights must be numbers, got " + t.get(l + "loss_weights"));
      }
      weights.add(n.doubleValue());
    }
    double temperature = t.getDouble(l + "temperature");
    if (!(temperature > 0)) {
      throw new ConfigError(l + "temperature must be > 0, got " + temperature);
    }
    if (weights.isEmpty()) {
      throw new ConfigError(l + "loss_weights needs one weight per model output, got []");
    }
    try {
      return new NceLossParams(lossType, t.getBool(l + "norm_embedding"), temperature, weights,
          t.getDouble(l + "norm_constant"), t.getInt(l + "update_mem_with_emb_index"), t.getLong(l + "ignore_index"),
          positive(t, l + "negative_sampling_params.num_negatives"), sampling, t.getBool(l + "memory_params.update_mem_on_forward"));
    } catch (IllegalArgumentException e) {
      throw new ConfigError(l + "*: " + e.getMessage());
    }
  }

  private static BankConfig bank(ConfigTree t) {
    String b = NCE + "memory_params.";
    double momentum = t.getDouble(b + "momentum");
    if (momentum < 0 || momentum > 1) {
      throw new ConfigError(b + "momentum must be in [0, 1], got " + momentum);
    }
    String storage = t.getString(b + "dtype");
    if (!List.of("float32", "bfloat16", "float16").contains(storage)) {
      throw new ConfigError(b + "dtype must be float32, bfloat16 or float16, got '" + storage + "'");
    }
    return new BankConfig(positive(t, b + "embedding_dim"), momentum, t.getBool(b + "norm_init"), storage,
        t.getBool(b + "init_from_model"), t.getBool(b + "same_init_on_all_ranks"));
  }

  private static OptimizerConfig optimizer(ConfigTree t) {
    String o = C + "OPTIMIZER.";
    String name = t.getString(o + "name");
    if (!"sgd".equals(name)) {
      throw new ConfigError(o + "name: optimizer '" + name + "' is not available; NPID trains with sgd");
    }
    if (t.getBool(o + "use_larc")) {
      throw new ConfigError(o + "use_larc: LARC is not available in npid4j; set it to false");
    }
    int epochs = positive(t, o + "num_epochs");
    String lr = o + "param_schedulers.lr";
    return new OptimizerConfig(t.getDouble(o + "momentum"), t.getBool(o + "nesterov"), t.getDouble(o + "weight_decay"),
        epochs, t.getBool(o + "regularize_bn"), t.getBool(o + "regularize_bias"),
        LrSchedule.fromConfig(t.getMap(lr), lr, epochs), LrSchedule.interval(t.getMap(lr), lr));
  }

  private static DistributedConfig distributed(ConfigTree t) {
    String d = C + "DISTRIBUTED.";
    int nodes = positive(t, d + "NUM_NODES");
    int nodeId = t.getInt("node_id");
    if (nodeId < 0 || nodeId >= nodes) {
      throw new ConfigError("node_id must be in [0, " + nodes + ") for DISTRIBUTED.NUM_NODES=" + nodes + ", got " + nodeId);
    }
    String init = t.getString(d + "INIT_METHOD");
    if (!Set.of("tcp", "file", "env").contains(init)) {
      throw new ConfigError(d + "INIT_METHOD must be tcp, file or env, got '" + init + "'");
    }
    return new DistributedConfig(t.getString(d + "BACKEND"), nodes, positive(t, d + "NUM_PROC_PER_NODE"), init,
        t.getString(d + "RUN_ID"), nodeId, positive(t, d + "TIMEOUT_SECONDS"), t.getBool(d + "BROADCAST_BUFFERS"),
        t.getBool(C + "MODEL.SYNC_BN_CONFIG.CONVERT_BN_TO_SYNC_BN"));
  }

  private static MachineConfig machine(ConfigTree t) {
    String device = t.getString(C + "MACHINE.DEVICE");
    if (!Set.of("cpu", "gpu").contains(device)) {
      throw new ConfigError(C + "MACHINE.DEVICE must be cpu or gpu, got '" + device + "'");
    }
    return new MachineConfig(device, nonNegative(t, C + "MACHINE.NUM_THREADS"));
  }

  private static CheckpointConfig checkpoint(ConfigTree t) {
    String c = C + "CHECKPOINT.";
    String dir = t.getString(c + "DIR");
    if (dir == null || dir.isBlank()) {
      throw new ConfigError(c + "DIR must name the run directory, e.g. config.CHECKPOINT.DIR=runs/quickstart");
    }
    return new CheckpointConfig(dir, positive(t, c + "CHECKPOINT_FREQUENCY"), t.getInt(c + "CHECKPOINT_ITER_FREQUENCY"),
        t.getBool(c + "AUTO_RESUME"), t.getBool(c + "OVERWRITE_EXISTING"), t.getBool(c + "USE_SYMLINK_CHECKPOINT_FOR_RESUME"),
        positive(t, c + "LATEST_CHECKPOINT_RESUME_FILE_NUM"), nonNegative(t, c + "KEEP_LAST_N"));
  }

  private static KnnMonitorConfig knnMonitor(ConfigTree t) {
    String k = C + "KNN_MONITOR.";
    Object topk = t.get(k + "TOPK");
    if (!(topk instanceof Long)) {
      throw new ConfigError(k + "TOPK expects one integer, got " + ConfigTree.describe(topk));
    }
    int frequency = t.getInt(k + "FREQUENCY");
    if (frequency < -1) {
      throw new ConfigError(k + "FREQUENCY must be -1 (never), 0 (after the last epoch) or N > 0 (every N epochs), got " + frequency);
    }
    double sigma = t.getDouble(k + "SIGMA");
    if (!(sigma > 0)) {
      throw new ConfigError(k + "SIGMA must be > 0, got " + sigma);
    }
    return new KnnMonitorConfig(frequency, positive(t, k + "TOPK"), sigma, t.getBool(k + "RAW_PIXEL_BASELINE"),
        t.getBool(k + "RECOMPUTED_FEATURES"));
  }

  private static List<String> strings(ConfigTree t, String path) {
    List<String> out = new ArrayList<>();
    for (Object o : t.getList(path)) {
      if (o == null || o instanceof Map || o instanceof List) {
        throw new ConfigError(path + " must be a list of strings, got " + t.get(path));
      }
      out.add(String.valueOf(o));
    }
    return out;
  }

  private static int positive(ConfigTree t, String path) {
    int v = t.getInt(path);
    if (v < 1) {
      throw new ConfigError(path + " must be >= 1, got " + v);
    }
    return v;
  }

  private static int nonNegative(ConfigTree t, String path) {
    int v = t.getInt(path);
    if (v < 0) {
      throw new ConfigError(path + " must be >= 0, got " + v);
    }
    return v;
  }
}
