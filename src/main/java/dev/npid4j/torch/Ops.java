package dev.npid4j.torch;

import org.bytedeco.pytorch.Scalar;
import org.bytedeco.pytorch.ScalarTypeOptional;
import org.bytedeco.pytorch.Tensor;
import org.bytedeco.pytorch.global.torch;

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

  /** The k largest values of each row and their column indices (torch.topk along dim 1, sorted). */
  public record TopK(Tensor values, Tensor indices) {}

  public static TopK topk(Tensor x, long k) {
    org.bytedeco.pytorch.T_TensorTensor_T t = x.topk(k, 1, true, true);
    return new TopK(t.get0(), t.get1());
  }

  /** The mean over rows, keeping the dimension (1 x C). */
  public static Tensor columnMean(Tensor x) {
    return x.mean(new long[] {0}, true, new org.bytedeco.pytorch.ScalarTypeOptional());
  }

  /** nn.AvgPool2d(kernel, stride, padding) with PyTorch's defaults (ceil_mode off, padding counted). */
  public static Tensor avgPool2d(Tensor x, int[] kernel, int stride, int padding) {
    return torch.avg_pool2d(x, new long[] {kernel[0], kernel[1]}, new long[] {stride, stride}, new long[] {padding, padding}, false,
        true, new org.bytedeco.pytorch.LongOptional());
  }
}
