package dev.npid4j.loss;

import java.util.List;

/**
 * The parameters of VISSL's {@code nce_loss_with_memory} besides its bank
 * ({@link MemoryBankParams}). Build with {@link #npid()} and the {@code with...} methods; the
 * record's own constructor is for the config reader.
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
  }

  /** NPID's defaults (VISSL's npid_8gpu_resnet): nce, T 0.07, Z estimated, K 4096 per sample. */
  public static NceLossParams npid() {
    return new NceLossParams(LossType.NCE, true, 0.07, List.of(1.0), -1, -100, -1, 4096, "random", true);
  }

  public NceLossParams withLossType(LossType type) {
    return new NceLossParams(type, normEmbedding, temperature, lossWeights, normConstant, updateMemWithEmbIndex, ignoreIndex,
        numNegatives, negativeSamplingType, updateMemOnForward);
  }

  public NceLossParams withTemperature(double t) {
    return new NceLossParams(lossType, normEmbedding, t, lossWeights, normConstant, updateMemWithEmbIndex, ignoreIndex,
        numNegatives, negativeSamplingType, updateMemOnForward);
  }

  public NceLossParams withNegatives(int k) {
    return new NceLossParams(lossType, normEmbedding, temperature, lossWeights, normConstant, updateMemWithEmbIndex, ignoreIndex,
        k, negativeSamplingType, updateMemOnForward);
  }

  /** {@code random} (VISSL) or {@link #SHARED}. */
  public NceLossParams withSampling(String type) {
    return new NceLossParams(lossType, normEmbedding, temperature, lossWeights, normConstant, updateMemWithEmbIndex, ignoreIndex,
        numNegatives, type, updateMemOnForward);
  }
}
