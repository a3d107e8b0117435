package dev.npid4j.torch;

import static org.assertj.core.api.Assertions.assertThat;

import org.bytedeco.javacpp.PointerScope;
import org.bytedeco.pytorch.BoolOptional;
import org.bytedeco.pytorch.NoGradGuard;
import org.bytedeco.pytorch.Scalar;
import org.bytedeco.pytorch.Tensor;
import org.bytedeco.pytorch.TensorArrayRefOptional;
import org.bytedeco.pytorch.global.torch;
import org.bytedeco.pytorch.global.torch.ScalarType;
import org.junit.jupiter.api.Test;

class LayersTest {
  private static Tensor reference(Tensor x) {
    return torch.max_pool2d(x, new long[] {3, 3}, new long[] {2, 2}, new long[] {1, 1}, new long[] {1, 1}, false);
  }

  private static Tensor gradOf(Tensor leaf, Tensor out, Tensor grad) {
    out.backward(grad, new BoolOptional(), false, new TensorArrayRefOptional());
    Tensor g = leaf.grad().clone();
    leaf.mutable_grad().zero_();
    return g;
  }

  @Test
  void maxPoolGivesMaxPoolsNumbersAndGradientExactly() {
    Torch.load();
    try (PointerScope scope = new PointerScope()) {
      torch.manual_seed(0);
      // after a ReLU most windows hold ties (zeros): the argmax, hence where the gradient goes, must match;
      // odd sizes give windows cut by the padding; values on a 1/8 grid give ties between positives too
      Tensor values = torch.relu(torch.randn(3, 5, 13, 11)).mul(new Scalar(8.0)).round().div(new Scalar(8.0));
      Tensor x = values.clone().requires_grad_(true);
      Tensor grad = torch.randn(3, 5, 7, 6);

      Tensor expected = reference(x);
      Tensor expectedGrad = gradOf(x, expected, grad);
      Tensor actual = Layers.maxPool2d(x, 3, 2, 1);
      assertThat(actual.sizes().vec().get()).containsExactly(3, 5, 7, 6);
      assertThat(actual.is_contiguous()).isTrue();
      assertThat(torch.equal(actual, expected)).isTrue();
      Tensor actualGrad = gradOf(x, actual, grad);
      assertThat(torch.equal(actualGrad, expectedGrad)).as("the same argmax gets the gradient").isTrue();
      assertThat(actualGrad.is_contiguous()).as("the gradient stays in the input's layout").isTrue();

      // without autograd (evaluation, feature extraction) only the values are computed
      try (NoGradGuard g = new NoGradGuard()) {
        Tensor plain = Layers.maxPool2d(values, 3, 2, 1);
        assertThat(plain.requires_grad()).isFalse();
        assertThat(torch.equal(plain, reference(values))).isTrue();
      }
      // a channels-last input works too
      Tensor cl = values.contiguous(torch.MemoryFormat.ChannelsLast).requires_grad_(true);
      Tensor clOut = Layers.maxPool2d(cl, 3, 2, 1);
      assertThat(torch.equal(clOut, reference(values))).isTrue();
      assertThat(torch.equal(gradOf(cl, clOut, grad), expectedGrad)).isTrue();
      // bfloat16 (autocast's layer outputs)
      Tensor bf = values.to(ScalarType.BFloat16);
      assertThat(torch.equal(Layers.maxPool2d(bf, 3, 2, 1), reference(bf))).isTrue();
    }
  }
}
