package dev.npid4j.torch;

import static org.assertj.core.api.Assertions.assertThat;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import java.util.concurrent.atomic.AtomicInteger;
import org.bytedeco.javacpp.PointerScope;
import org.bytedeco.pytorch.BatchNorm2dImpl;
import org.bytedeco.pytorch.NoGradGuard;
import org.bytedeco.pytorch.Scalar;
import org.bytedeco.pytorch.Tensor;
import org.bytedeco.pytorch.TensorBase;
import org.bytedeco.pytorch.TensorTensorHook;
import org.bytedeco.pytorch.global.torch;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

/**
 * npid4j's native BatchNorm(+ReLU) against libtorch's BatchNorm2d followed by torch.relu: output,
 * running statistics and the gradients of input, weight and bias, for shapes whose rows are
 * shorter than a vector, not a multiple of one, and longer than the kernels' summation block.
 * CI builds the kernels (NPID4J_REQUIRE_KERNELS=1): there a missing kernel library fails.
 */
class FusedBatchNormTest {
  @BeforeAll
  static void load() {
    Torch.load();
    boolean required = "1".equals(System.getenv("NPID4J_REQUIRE_KERNELS"));
    if (required) {
      assertThat(NativeKernels.available()).as("native kernels: %s", NativeKernels.unavailableReason()).isTrue();
    }
    assumeTrue(NativeKernels.available(), "native kernels not built: " + NativeKernels.unavailableReason());
  }

  @ParameterizedTest
  @CsvSource({"4,3,5,7,false", "4,3,5,7,true", "2,8,40,41,true", "3,16,1,1,false", "8,4,2,3,true"})
  void matchesLibtorch(int n, int c, int h, int w, boolean relu) {
    try (PointerScope s = new PointerScope()) {
      Torch.manualSeed(5);
      BatchNorm2dImpl ours = Layers.batchNorm2d(c);
      BatchNorm2dImpl ref = Layers.batchNorm2d(c);
      try (NoGradGuard g = new NoGradGuard()) {
        Tensor weight = torch.rand(c).add(new Scalar(0.5));
        Tensor bias = torch.randn(c);
        for (BatchNorm2dImpl bn : new BatchNorm2dImpl[] {ours, ref}) {
          bn.weight().copy_(weight);
          bn.bias().copy_(bias);
          bn.running_var().fill_(new Scalar(2.0));
        }
      }
      // channels with different means and scales, as conv outputs have
      Tensor input = torch.randn(n, c, h, w).mul(torch.rand(1, c, 1, 1).mul(new Scalar(3.0)))
          .add(torch.randn(1, c, 1, 1).mul(new Scalar(2.0)));
      Tensor upstream = torch.randn(n, c, h, w);
      Tensor[] oursOut = run(ours, input, upstream, relu, true);
      Tensor[] refOut = run(ref, input, upstream, relu, false);
      String[] what = {"output", "dx", "dweight", "dbias"};
      for (int i = 0; i < what.length; i++) {
        assertClose(what[i], oursOut[i], refOut[i], 2e-5);
      }
      assertClose("running_mean", ours.running_mean(), ref.running_mean(), 1e-6);
      assertClose("running_var", ours.running_var(), ref.running_var(), 1e-6);
      assertThat(ours.num_batches_tracked().item_long()).isEqualTo(1L);
    }
  }

  /** Runs the layer on a copy of input that needs a gradient; returns output, dx, dweight, dbias. */
  private static Tensor[] run(BatchNorm2dImpl bn, Tensor input, Tensor upstream, boolean relu, boolean fused) {
    Tensor leaf = input.clone().requires_grad_(true);
    Tensor x = leaf.mul(new Scalar(1.0)); // not a leaf, as a convolution's output
    Tensor y;
    if (fused) {
      assertThat(FusedBatchNorm.applies(bn, x)).isTrue();
      y = relu ? Layers.forwardNormRelu(bn, x) : Layers.forwardNorm(bn, x);
      assertThat(y.grad_fn().name().getString()).as("the fused path ran").isEqualTo("ViewBackward0");
    } else {
      y = bn.forward(x);
      y = relu ? torch.relu(y) : y;
    }
    y.mul(upstream).sum().backward();
    return new Tensor[] {y.detach(), leaf.grad(), bn.weight().grad(), bn.bias().grad()};
  }

  private static void assertClose(String what, Tensor actual, Tensor expected, double tol) {
    double scale = Math.max(1.0, expected.abs().max().item_double());
    double err = actual.sub(expected).abs().max().item_double();
    assertThat(err).as("%s: max |ours - libtorch| (scale %.3g)", what, scale).isLessThanOrEqualTo(tol * scale);
  }

  /**
   * The weight's and bias's gradients reach them through their accumulators, so gradient hooks on
   * the parameters (how data-parallel training buckets gradients) fire once per backward, and
   * gradients accumulate over two backwards as for any layer. Also without a PointerScope.
   */
  @Test
  void parameterHooksFireAndGradientsAccumulate() {
    Torch.manualSeed(3);
    BatchNorm2dImpl bn = Layers.batchNorm2d(4);
    AtomicInteger calls = new AtomicInteger();
    TensorTensorHook counter = new TensorTensorHook() {
      @Override
      public TensorBase call(TensorBase grad) {
        calls.incrementAndGet();
        return grad;
      }
    };
    bn.weight().register_hook(counter);
    Tensor leaf = torch.randn(2, 4, 3, 3).requires_grad_(true);
    Tensor up = torch.randn(2, 4, 3, 3);
    Layers.forwardNormRelu(bn, leaf.mul(new Scalar(2.0))).mul(up).sum().backward();
    Tensor once = bn.weight().grad().clone();
    Tensor dxOnce = leaf.grad().clone();
    Layers.forwardNormRelu(bn, leaf.mul(new Scalar(2.0))).mul(up).sum().backward();
    assertThat(calls.get()).isEqualTo(2);
    assertClose("accumulated dweight", bn.weight().grad(), once.mul(new Scalar(2.0)), 1e-6);
    assertClose("accumulated dx", leaf.grad(), dxOnce.mul(new Scalar(2.0)), 1e-6);
    assertThat(bn.num_batches_tracked().item_long()).isEqualTo(2L);
  }

  /**
   * The AVX-512, AVX2 and plain versions of the kernels' loops give the same bits: the output,
   * dx, dweight, dbias and the running statistics (ReLU fused, rows long enough to be streamed
   * and short ones, with ragged ends).
   */
  @Test
  void everyInstructionSetGivesTheSameBits() {
    int best = NativeKernels.useInstructionSet(-1);
    try (PointerScope s = new PointerScope()) {
      Torch.manualSeed(11);
      Tensor input = torch.randn(3, 6, 37, 41).mul(new Scalar(1.5)).add(new Scalar(0.3));
      Tensor upstream = torch.randn(3, 6, 37, 41);
      Tensor small = torch.randn(5, 7, 3, 5);
      Tensor smallUp = torch.randn(5, 7, 3, 5);
      Tensor[] reference = null;
      for (int level = best; level >= 0; level--) {
        assertThat(NativeKernels.useInstructionSet(level)).isEqualTo(level);
        Tensor[] big = runFresh(input, upstream);
        Tensor[] little = runFresh(small, smallUp);
        Tensor[] all = concat(big, little);
        if (reference == null) {
          reference = all;
        } else {
          for (int i = 0; i < all.length; i++) {
            assertThat(all[i].equal(reference[i])).as("level %d against %d, tensor %d", level, best, i).isTrue();
          }
        }
      }
    } finally {
      NativeKernels.useInstructionSet(-1);
    }
  }

  private static Tensor[] runFresh(Tensor input, Tensor upstream) {
    BatchNorm2dImpl bn = Layers.batchNorm2d(input.size(1));
    Tensor[] out = run(bn, input, upstream, true, true);
    return new Tensor[] {out[0], out[1], out[2], out[3], bn.running_mean().clone(), bn.running_var().clone()};
  }

  private static Tensor[] concat(Tensor[] a, Tensor[] b) {
    Tensor[] all = java.util.Arrays.copyOf(a, a.length + b.length);
    System.arraycopy(b, 0, all, a.length, b.length);
    return all;
  }

  /** momentum None: the running statistics are a cumulative average, as libtorch's (two steps). */
  @Test
  void cumulativeAverageWithoutMomentum() {
    try (PointerScope s = new PointerScope()) {
      Torch.manualSeed(6);
      BatchNorm2dImpl ours = Layers.batchNorm2d(5);
      BatchNorm2dImpl ref = Layers.batchNorm2d(5);
      for (BatchNorm2dImpl bn : new BatchNorm2dImpl[] {ours, ref}) {
        bn.options().momentum().put(new org.bytedeco.pytorch.DoubleOptional());
        assertThat(bn.options().momentum().has_value()).isFalse();
      }
      for (int step = 0; step < 2; step++) {
        Tensor x = torch.randn(3, 5, 4, 6).mul(new Scalar(step + 1.0)).add(new Scalar(step));
        try (NoGradGuard g = new NoGradGuard()) {
          assertThat(FusedBatchNorm.applies(ours, x)).isTrue();
          FusedBatchNorm.forward(ours, x, false);
          ref.forward(x);
        }
      }
      assertClose("running_mean", ours.running_mean(), ref.running_mean(), 1e-6);
      assertClose("running_var", ours.running_var(), ref.running_var(), 1e-6);
      assertThat(ours.num_batches_tracked().item_long()).isEqualTo(2L);
    }
  }

  /** A second backward through a retained graph gives the same gradients again, as libtorch's. */
  @Test
  void aRetainedGraphBackpropagatesTwice() {
    try (PointerScope s = new PointerScope()) {
      Torch.manualSeed(4);
      BatchNorm2dImpl bn = Layers.batchNorm2d(3);
      Tensor leaf = torch.randn(4, 3, 5, 5).requires_grad_(true);
      Tensor loss = Layers.forwardNormRelu(bn, leaf.mul(new Scalar(1.0))).mul(torch.randn(4, 3, 5, 5)).sum();
      loss.backward(new Tensor(), new org.bytedeco.pytorch.BoolOptional(true), false, new org.bytedeco.pytorch.TensorArrayRefOptional());
      Tensor dx = leaf.grad().clone();
      Tensor dw = bn.weight().grad().clone();
      loss.backward();
      assertClose("dx after two backwards", leaf.grad(), dx.mul(new Scalar(2.0)), 1e-6);
      assertClose("dweight after two backwards", bn.weight().grad(), dw.mul(new Scalar(2.0)), 1e-6);
    }
  }

  /** Eval mode, no-grad forwards and non-float input keep libtorch's own BatchNorm. */
  @Test
  void appliesOnlyToTrainingModeFloatNchw() {
    try (PointerScope s = new PointerScope()) {
      BatchNorm2dImpl bn = Layers.batchNorm2d(4);
      Tensor x = torch.randn(2, 4, 3, 3).requires_grad_(true);
      assertThat(FusedBatchNorm.applies(bn, x)).isTrue();
      assertThat(FusedBatchNorm.applies(bn, x.to(torch.ScalarType.Double))).isFalse();
      assertThat(FusedBatchNorm.applies(bn, x.transpose(2, 3))).isFalse();
      assertThat(FusedBatchNorm.applies(bn, torch.randn(1, 4, 1, 1))).isFalse();
      // the weights need a gradient, but the input has no graph to carry it
      Tensor noGraph = x.detach();
      assertThat(FusedBatchNorm.applies(bn, noGraph)).isFalse();
      try (NoGradGuard g = new NoGradGuard()) {
        assertThat(FusedBatchNorm.applies(bn, noGraph)).isTrue();
      }
      bn.eval();
      assertThat(FusedBatchNorm.applies(bn, x)).isFalse();
    }
  }
}
