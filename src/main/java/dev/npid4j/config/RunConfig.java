package dev.npid4j.config;

import dev.npid4j.loss.NceLossParams;
import java.util.List;
import java.util.Map;

/**
 * The typed, validated view of a composed configuration: every key the engine reads, parsed and
 * cross-checked once, after VISSL's post-composition inference (LR auto-scaling, LABEL_TYPE),
 * before any data is opened or any model built. Nothing outside this package reads the raw tree,
 * and nothing writes into it after this: the values resolved during a run (num_train_samples) go
 * to {@link #resolvedYaml}. Reading a config never loads native code.
 */
public final class RunConfig {
  private final ConfigTree tree;
  private final String lrScaling;
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


  private static final String C = "config.";
  private static final String NCE = C + "LOSS.nce_loss_with_memory.";

  /** Composes {@code args} (config=..., overrides) and builds the validated run config. */
  public static RunConfig fromArgs(List<String> args) {
    ConfigComposer.Composed c = ConfigComposer.compose(args);
    return from(c.tree(), c.experiment());
  }

  public static RunConfig from(ConfigTree tree, String experiment) {
    String lrNote = inferAfterComposition(tree);
    return new RunConfig(tree, experiment, lrNote);
  }

  private RunConfig(ConfigTree t, String experiment, String lrScaling) {
    this.tree = t;
    this.lrScaling = lrScaling;
    this.experiment = experiment;
    this.seed = t.getInt(C + "SEED_VALUE");
    this.logFrequency = Values.positive(t, C + "LOG_FREQUENCY");
    this.verbose = t.getBool(C + "VERBOSE");
    this.checkNan = t.getBool(C + "HOOKS.CHECK_NAN");
    this.numWorkers = Values.nonNegative(t, C + "DATA.NUM_DATALOADER_WORKERS");
    this.train = DataSplit.read(t, "TRAIN");
    this.test = DataSplit.read(t, "TEST");
    this.model = ModelConfig.read(t);
    this.loss = LossSection.read(t);
    this.bank = BankConfig.read(t);
    this.optimizer = OptimizerConfig.read(t);
    this.distributed = DistributedConfig.read(t);
    this.machine = MachineConfig.read(t);
    this.checkpoint = CheckpointConfig.read(t);
    this.knnMonitor = KnnMonitorConfig.read(t);
    this.eval = EvalSettings.from(t, model.trunkType());
  }

  /**
   * The cross-checks that only training needs (evaluation reads a headless trunk from the same
   * configs): the bank's rows are as wide as the model's embeddings. Returns this config.
   */
  public RunConfig checkedForTraining() {
    if (LossSection.LINEAR.equals(tree.getString(C + "LOSS.name"))) {
      throw new ConfigError(C + "LOSS.name is " + LossSection.LINEAR + ", the linear benchmark's loss: train NPID with"
          + " nce_loss_with_memory, or run this config with npid4j linear");
    }
    if (bank.embeddingDim() != model.embeddingDim()) {
      throw new ConfigError(NCE + "memory_params.embedding_dim is " + bank.embeddingDim() + " but the model outputs "
          + model.embeddingDim() + "-d embeddings (the last dim of MODEL.HEAD.PARAMS)");
    }
    return this;
  }

  /** VISSL's infer_and_assert_hydra_config steps that apply to NPID, in its order; returns LR auto-scaling's log line or null. */
  static String inferAfterComposition(ConfigTree tree) {
    String lrNote = LrAutoScaling.apply(tree, tree.experimentBatch());
    String train = C + "DATA.TRAIN.";
    if (tree.getList(train + "LABEL_SOURCES").isEmpty() && !"zero".equals(tree.getString(train + "LABEL_TYPE"))) {
      tree.set(train + "LABEL_TYPE", "sample_index", false, "inference");
    }
    return lrNote;
  }

  /** The composed config as YAML, with the loss's num_train_samples resolved to the training set's size (VISSL's auto-fill). */
  public String resolvedYaml(long numTrainSamples) {
    ConfigTree copy = tree.copy();
    copy.set(NCE + "num_train_samples", numTrainSamples, false, "auto-fill");
    StringBuilder notes = new StringBuilder();
    for (String spelling : tree.spellings()) {
      notes.append("# VISSL spelling given: ").append(spelling).append('\n');
    }
    return notes + ConfigComposer.toYaml(copy);
  }

  /**
   * The composed config as YAML, before any data is read (num_train_samples as given): what
   * {@code npid4j config} prints, as Hydra's {@code --cfg job} does for VISSL. With {@code key},
   * only that sub-tree or value.
   */
  public String composedYaml(String key) {
    StringBuilder notes = new StringBuilder();
    for (String spelling : tree.spellings()) {
      notes.append("# VISSL spelling given: ").append(spelling).append('\n');
    }
    if (lrScaling != null && !lrScaling.isEmpty()) {
      notes.append("# ").append(lrScaling.replace("\n", "\n# ")).append('\n');
    }
    if (key == null || key.isEmpty()) {
      return notes + ConfigComposer.toYaml(tree);
    }
    if (!tree.has(key)) {
      throw new ConfigError(key + " is not a key of this config (keys start with config., e.g. config.LOSS)");
    }
    Map<String, Object> one = new java.util.LinkedHashMap<>();
    one.put(key, YamlValues.deepCopyValue(tree.get(key)));
    return notes + ConfigComposer.toYaml(new ConfigTree(one));
  }

  /** The composed tree (this package's tests). */
  ConfigTree tree() {
    return tree;
  }

  /** What LR auto-scaling did (or a warning that it is off while the batch changed), for the log; null when there is nothing to say. */
  /**
   * One line for each VISSL hook the config asks for that npid4j does not run (TensorBoard, model
   * complexity, perf stats, memory dumps), saying what npid4j writes instead; empty when none is.
   */
  public List<String> hookNotes() {
    List<String> notes = new java.util.ArrayList<>();
    String h = C + "HOOKS.";
    if (tree.getBool(h + "TENSORBOARD_SETUP.USE_TENSORBOARD")) {
      notes.add(h + "TENSORBOARD_SETUP.USE_TENSORBOARD=true: npid4j writes no TensorBoard events; the same scalars (loss, lr,"
          + " img/s, ETA, kNN) are in metrics.jsonl, one JSON object per line, and their curves in report.html");
    }
    if (tree.getBool(h + "MODEL_COMPLEXITY.COMPUTE_COMPLEXITY")) {
      notes.add(h + "MODEL_COMPLEXITY.COMPUTE_COMPLEXITY=true: npid4j counts parameters (the model line above), not FLOPs");
    }
    if (tree.getBool(h + "PERF_STATS.MONITOR_PERF_STATS")) {
      notes.add(h + "PERF_STATS.MONITOR_PERF_STATS=true: npid4j logs img/s per LOG_FREQUENCY steps in metrics.jsonl;"
          + " 'npid4j bench train' times steps in detail");
    }
    if (tree.getBool(h + "MEMORY_SUMMARY.DUMP_MEMORY_ON_EXCEPTION")) {
      notes.add(h + "MEMORY_SUMMARY.DUMP_MEMORY_ON_EXCEPTION=true: npid4j writes no memory dump; a failure is one line and"
          + " the last checkpoint stays");
    }
    return notes;
  }

  public String lrScalingNote() {
    return lrScaling;
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

}
