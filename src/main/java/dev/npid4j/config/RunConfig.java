package dev.npid4j.config;

import dev.npid4j.loss.NceLossParams;
import java.util.List;

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

  /** The composed tree (this package's tests). */
  ConfigTree tree() {
    return tree;
  }

  /** What LR auto-scaling did (or a warning that it is off while the batch changed), for the log; null when there is nothing to say. */
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
