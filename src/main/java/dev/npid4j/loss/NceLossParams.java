package dev.npid4j.loss;

import java.util.List;

/**
 * Every parameter of VISSL's {@code nce_loss_with_memory}, resolved: {@code memorySize} is
 * already forced to the number of training samples.
 */
public record NceLossParams(
    LossType lossType,
    boolean normEmbedding,
    double temperature,
    List<Double> lossWeights,
    double normConstant,
    int updateMemWithEmbIndex,
    long ignoreIndex,
    int numNegatives,
    String negativeSamplingType,
    long memorySize,
    int embeddingDim,
    double momentum,
    boolean normInit,
    boolean updateMemOnForward) {

  public enum LossType { NCE, CROSS_ENTROPY }

  /**
   * npid4j's opt-in fast mode: one draw of K bank rows per step, shared by every sample of the
   * batch (VISSL draws K per sample). Scores become one B x D x K matrix product instead of B
   * gathers of K rows; the maths changes (negatives are correlated within a step).
   */
  public static final String SHARED = "shared_random";

  public boolean sharedNegatives() {
    return SHARED.equals(negativeSamplingType);
  }

  public NceLossParams {
    lossWeights = List.copyOf(lossWeights);
    if (lossWeights.isEmpty()) {
      throw new IllegalArgumentException("loss_weights needs one weight per model output");
    }
    if (temperature <= 0) {
      throw new IllegalArgumentException("temperature must be > 0, got " + temperature);
    }
    if (numNegatives < 1) {
      throw new IllegalArgumentException("num_negatives must be >= 1, got " + numNegatives);
    }
    if (memorySize < 1) {
      throw new IllegalArgumentException("memory size (num_train_samples) must be >= 1, got " + memorySize);
    }
    if (embeddingDim < 1) {
      throw new IllegalArgumentException("embedding_dim must be >= 1, got " + embeddingDim);
    }
    if (momentum < 0 || momentum > 1) {
      throw new IllegalArgumentException("momentum must be in [0, 1], got " + momentum);
    }
  }

  /** The same settings for a bank of {@code n} rows (VISSL forces memory_size to num_train_samples). */
  public NceLossParams withMemorySize(long n) {
    return new NceLossParams(lossType, normEmbedding, temperature, lossWeights, normConstant, updateMemWithEmbIndex, ignoreIndex,
        numNegatives, negativeSamplingType, n, embeddingDim, momentum, normInit, updateMemOnForward);
  }

  /** NPID defaults (spec section 1) for a bank of {@code n} rows. */
  public static NceLossParams npid(long n) {
    return new NceLossParams(LossType.NCE, true, 0.07, List.of(1.0), -1, -100, -1, 4096, "random", n, 128, 0.5, true, true);
  }
}
