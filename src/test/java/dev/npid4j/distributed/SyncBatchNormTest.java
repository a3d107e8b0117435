package dev.npid4j.distributed;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.npid4j.torch.Layers;
import dev.npid4j.torch.Torch;
import org.bytedeco.javacpp.PointerScope;
import org.bytedeco.pytorch.Module;
import org.bytedeco.pytorch.NoGradGuard;
import org.bytedeco.pytorch.Scalar;
import org.bytedeco.pytorch.Tensor;
import org.bytedeco.pytorch.global.torch;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * SyncBatchNorm's arithmetic on one rank against libtorch's BatchNorm: output, input and
 * parameter gradients, running statistics. The cross-rank part (the all-reduces of the sums and
 * of their gradient) is checked by DistributedTrainingTest with two processes.
 */
class SyncBatchNormTest {
  @BeforeAll
  static void load() {
    Torch.load();
  }

  @Test
  void equalsBatchNorm2dOnOneRank() {
    check(Layers.batchNorm2d(5, 1e-5, 0.1), new long[] {6, 5, 4, 3});
  }

  @Test
  void equalsBatchNorm1dOnOneRank() {
    check(Layers.batchNorm1d(7, 1e-5, 0.1), new long[] {9, 7});
  }

  @Test
  void aSingleValuePerChannelIsRefused() {
    try (PointerScope s = new PointerScope()) {
      Module bn = Layers.batchNorm1d(3, 1e-5, 0.1);
      bn.train(true);
      assertThatThrownBy(() -> new SyncBatchNorm(Communicator.local()).apply(bn, torch.randn(1, 3)))
          .hasMessageContaining("more than 1 value per channel");
    }
  }

  private static void check(Module bn, long[] shape) {
    try (PointerScope s = new PointerScope()) {
      torch.manual_seed(3);
      bn.train(true);
      try (NoGradGuard g = new NoGradGuard()) {
        weight(bn).copy_(torch.randn(shape[1]));
        bias(bn).copy_(torch.randn(shape[1]));
      }
      // a large mean and a spread: E[x^2] - mean^2 must not lose the variance
      Tensor x = torch.randn(shape).mul(new Scalar(3.0)).add(new Scalar(5.0)).set_requires_grad(true);
      Tensor upstream = torch.randn(shape);

      Tensor expected = Layers.forwardNorm(bn, x);
      expected.mul(upstream).sum().backward();
      Tensor[] plain = {expected.detach(), x.grad().clone(), weight(bn).grad().clone(), bias(bn).grad().clone(),
          runningMean(bn).clone(), runningVar(bn).clone()};

      x.grad().zero_();
      weight(bn).grad().zero_();
      bias(bn).grad().zero_();
      try (NoGradGuard g = new NoGradGuard()) {
        runningMean(bn).zero_();
        runningVar(bn).fill_(new Scalar(1.0));
      }
      Tensor actual = new SyncBatchNorm(Communicator.local()).apply(bn, x, false);
      actual.mul(upstream).sum().backward();
      Tensor[] synced = {actual.detach(), x.grad(), weight(bn).grad(), bias(bn).grad(), runningMean(bn), runningVar(bn)};
      String[] names = {"output", "dL/dx", "dL/dweight", "dL/dbias", "running_mean", "running_var"};
      for (int i = 0; i < names.length; i++) {
        double scale = Math.max(1e-6, plain[i].abs().max().item_double());
        assertThat(plain[i].sub(synced[i]).abs().max().item_double() / scale).as(names[i]).isLessThan(1e-5);
      }
    }
  }

  private static Tensor weight(Module m) {
    return m.named_parameters().get("weight");
  }

  private static Tensor bias(Module m) {
    return m.named_parameters().get("bias");
  }

  private static Tensor runningMean(Module m) {
    return m.named_buffers().get("running_mean");
  }

  private static Tensor runningVar(Module m) {
    return m.named_buffers().get("running_var");
  }
}
