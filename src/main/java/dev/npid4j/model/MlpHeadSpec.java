package dev.npid4j.model;

import java.util.List;

/**
 * VISSL's {@code mlp} head: Linear layers over {@code dims}, each optionally followed by BN,
 * ReLU and Dropout (skipped after the last Linear when {@code skipLastLayerReluBn}).
 */
public record MlpHeadSpec(
    List<Integer> dims,
    boolean useBn,
    boolean useRelu,
    boolean useDropout,
    boolean useBias,
    boolean skipLastLayerReluBn,
    double batchNormEps,
    double batchNormMomentum) {

  public MlpHeadSpec {
    dims = List.copyOf(dims);
    if (dims.size() < 2) {
      throw new IllegalArgumentException("mlp head needs at least two dims (input and output), got " + dims);
    }
    for (int d : dims) {
      if (d < 1) {
        throw new IllegalArgumentException("mlp head dims must be positive, got " + dims);
      }
    }
  }

  public static MlpHeadSpec linear(int in, int out) {
    return new MlpHeadSpec(List.of(in, out), false, false, false, true, true, 1e-5, 0.1);
  }

  public int inputDim() {
    return dims.get(0);
  }

  public int outputDim() {
    return dims.get(dims.size() - 1);
  }
}
