package dev.npid4j.torch;

import org.bytedeco.pytorch.Scalar;
import org.bytedeco.pytorch.ScalarTypeOptional;
import org.bytedeco.pytorch.Tensor;

/** Small tensor idioms used across packages, written once so the JavaCPP overloads stay here. */
public final class Ops {
  private static final double NORMALIZE_EPS = 1e-12;

  private Ops() {}

  /** Row sums keeping the dim: N x D to N x 1. */
  public static Tensor rowSum(Tensor x) {
    return x.sum(new long[] {1}, true, new ScalarTypeOptional());
  }

  /** Row L2 norms clamped below at 1e-12, as {@code F.normalize}'s denominator: N x 1. */
  public static Tensor rowNorm(Tensor x) {
    return rowSum(x.mul(x)).sqrt().clamp_min(new Scalar(NORMALIZE_EPS));
  }

  /** {@code F.normalize(x, p=2, dim=1)}. */
  public static Tensor l2Normalize(Tensor x) {
    return x.div(rowNorm(x));
  }

  /** Float32-rounds a value when the tensors it meets are float32, as a float32 buffer would. */
  public static double roundToFloatIf(boolean float32, double v) {
    return float32 ? (double) (float) v : v;
  }
}
