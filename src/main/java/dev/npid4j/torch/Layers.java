package dev.npid4j.torch;

import org.bytedeco.javacpp.LongPointer;
import org.bytedeco.pytorch.BatchNorm1dImpl;
import org.bytedeco.pytorch.BatchNorm2dImpl;
import org.bytedeco.pytorch.BatchNormOptions;
import org.bytedeco.pytorch.Conv2dImpl;
import org.bytedeco.pytorch.Conv2dOptions;
import org.bytedeco.pytorch.DoubleOptional;
import org.bytedeco.pytorch.GroupNormImpl;
import org.bytedeco.pytorch.Module;
import org.bytedeco.pytorch.LinearImpl;
import org.bytedeco.pytorch.LinearOptions;
import org.bytedeco.pytorch.LongOptional;
import org.bytedeco.pytorch.NoGradGuard;
import org.bytedeco.pytorch.T_TensorTensor_T;
import org.bytedeco.pytorch.Tensor;
import org.bytedeco.pytorch.global.torch;

/**
 * Builders for libtorch layers. The JavaCPP option setters are pointer accessors where
 * {@code put(a, b)} means {@code put(index, value)}; keeping every option write here keeps
 * that trap in one place (docs/javacpp-notes.md, 3).
 */
public final class Layers {
  private Layers() {}

  /** A square 2-D convolution with PyTorch's default init (kaiming-uniform a=sqrt(5)). */
  public static Conv2dImpl conv2d(long in, long out, long kernel, long stride, long padding, long groups, boolean bias) {
    Conv2dOptions o = new Conv2dOptions(in, out, new LongPointer(kernel, kernel));
    o.stride().put(new long[] {stride, stride});
    o.padding().put(new LongPointer(padding, padding));
    o.groups().put(groups);
    o.bias().put(bias);
    return new Conv2dImpl(o);
  }

  public static BatchNorm2dImpl batchNorm2d(long channels) {
    return batchNorm2d(channels, 1e-5, 0.1);
  }

  public static BatchNorm2dImpl batchNorm2d(long channels, double eps, double momentum) {
    return new BatchNorm2dImpl(batchNormOptions(channels, eps, momentum));
  }

  /** A 2-d normalisation layer: BatchNorm2d, or GroupNorm(groups, channels) (PyTorch's init: weight 1, bias 0). */
  public static Module norm2d(String kind, long channels, int groups) {
    return switch (kind) {
      case "BatchNorm" -> batchNorm2d(channels);
      case "GroupNorm" -> new GroupNormImpl(groups, channels);
      default -> throw new IllegalArgumentException("unknown norm " + kind);
    };
  }

  /**
   * The forward of a normalisation layer made here: BatchNorm2d, BatchNorm1d or GroupNorm (Java
   * cannot call a libtorch Module's forward generically), followed by an in-place ReLU when
   * {@code relu}. A BatchNorm2d in training mode on the CPU runs both in one
   * {@link FusedBatchNorm} pass where it applies.
   */
  public static Tensor forwardNorm(Module norm, Tensor x, boolean relu) {
    if (FusedBatchNorm.applies(norm, x)) {
      return FusedBatchNorm.forward((BatchNorm2dImpl) norm, x, relu);
    }
    Tensor out = ownForward(norm, x);
    return relu ? torch.relu_(out) : out;
  }

  /** {@link #forwardNorm(Module, Tensor, boolean)} without the ReLU. */
  public static Tensor forwardNorm(Module norm, Tensor x) {
    return forwardNorm(norm, x, false);
  }

  /** {@link #forwardNorm(Module, Tensor, boolean)} with the ReLU. */
  public static Tensor forwardNormRelu(Module norm, Tensor x) {
    return forwardNorm(norm, x, true);
  }

  /** Whether {@code m} is a BatchNorm layer (1-d or 2-d). */
  public static boolean isBatchNorm(Module m) {
    return m instanceof BatchNorm2dImpl || m instanceof BatchNorm1dImpl;
  }

  private static Tensor ownForward(Module norm, Tensor x) {
    if (norm instanceof BatchNorm2dImpl bn) {
      return bn.forward(x);
    }
    if (norm instanceof BatchNorm1dImpl bn) {
      return bn.forward(x);
    }
    return ((GroupNormImpl) norm).forward(x);
  }

  /** The norm layer's scale (gamma). */
  public static Tensor normWeight(Module norm) {
    return norm instanceof BatchNorm2dImpl bn ? bn.weight() : ((GroupNormImpl) norm).weight();
  }

  public static BatchNorm1dImpl batchNorm1d(long channels, double eps, double momentum) {
    return new BatchNorm1dImpl(batchNormOptions(channels, eps, momentum));
  }

  private static BatchNormOptions batchNormOptions(long channels, double eps, double momentum) {
    BatchNormOptions o = new BatchNormOptions(channels);
    o.eps().put(eps);
    o.momentum().put(new DoubleOptional(momentum));
    return o;
  }

  public static LinearImpl linear(long in, long out, boolean bias) {
    LinearOptions o = new LinearOptions(in, out);
    o.bias().put(bias);
    return new LinearImpl(o);
  }

  /**
   * {@code x[:, :, ::step, ::step]}. A strided 1x1 convolution equals a stride-1 1x1 convolution
   * on this subsampled input; using it avoids oneDNN's SIGFPE in the strided 1x1 backward on
   * these VMs (docs/javacpp-notes.md, 2) with the same weights and the same maths. (The cause is
   * oneDNN 3.7's brgemm blocking heuristic, not the VM: est_eff_1x1 divides by a block count that
   * is 0 on CPUs without AMX, for the input/output channel pairs it special-cases, 256/512/1024 to
   * 1024/512/2048, so channels-last 1x1 convolutions of those widths die the same way. The same
   * brgemm 1x1 kernel gives wrong results for some channels-last shapes that do run, such as
   * 128->512 at 12 px, which is why no convolution here runs channels-last: see the README.)
   */
  public static Tensor subsample(Tensor x, long step) {
    if (step == 1) {
      return x;
    }
    return x.slice(2, new LongOptional(0), new LongOptional(x.size(2)), step)
        .slice(3, new LongOptional(0), new LongOptional(x.size(3)), step);
  }

  /**
   * {@code max_pool2d(x, kernel, stride, padding)} (the ResNet stem's, AlexNet's) on a CPU tensor,
   * done faster with the same numbers. libtorch's NCHW kernel walks each window element by
   * element; its channels-last kernel vectorises over channels (ResNet-50, batch 32: 110-126 ms
   * against 20-27 ms). Both scan a window in the same order and keep the first maximum (NaN
   * wins), so they pick the same argmax. The argmax comes from the channels-last kernel, out of
   * the graph; the output is then a gather of x at those positions, whose backward scatter-adds
   * the gradient to them in x's own layout, as max-pool's backward does. Forward and backward
   * together: about 40 ms instead of 125-140 ms (and a channels-last output's backward would hand
   * the stem a channels-last gradient, slower in every layer below).
   */
  public static Tensor maxPool2d(Tensor x, long kernel, long stride, long padding) {
    long[] k = {kernel, kernel};
    long[] s = {stride, stride};
    long[] p = {padding, padding};
    long[] d = {1, 1};
    if (x.dim() != 4 || !x.device().is_cpu()) {
      return torch.max_pool2d(x, k, s, p, d, false);
    }
    Tensor indices;
    try (NoGradGuard g = new NoGradGuard()) {
      T_TensorTensor_T pooled = torch.max_pool2d_with_indices(x.contiguous(torch.MemoryFormat.ChannelsLast), k, s, p, d, false);
      if (!x.requires_grad()) {
        return pooled.get0().contiguous();
      }
      indices = pooled.get1().contiguous();
    }
    return x.flatten(2, 3).gather(2, indices.flatten(2, 3)).view(indices.sizes());
  }

  /** A BatchNorm's momentum option: null for None (a cumulative average). */
  public static Double momentum(org.bytedeco.pytorch.DoubleOptional momentum) {
    return momentum.has_value() ? momentum.get() : null;
  }
}
