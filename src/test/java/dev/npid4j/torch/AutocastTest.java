package dev.npid4j.torch;

import static org.assertj.core.api.Assertions.assertThat;

import org.bytedeco.javacpp.PointerScope;
import org.bytedeco.pytorch.LinearImpl;
import org.bytedeco.pytorch.LinearOptions;
import org.bytedeco.pytorch.Tensor;
import org.bytedeco.pytorch.global.torch;
import org.bytedeco.pytorch.global.torch.DeviceType;
import org.bytedeco.pytorch.global.torch.ScalarType;
import org.junit.jupiter.api.Test;

class AutocastTest {
  @Test
  void forwardRunsInBfloat16AndTheRegionLeavesNoState() {
    Torch.load();
    try (PointerScope scope = new PointerScope()) {
      torch.manual_seed(0);
      LinearImpl layer = new LinearImpl(new LinearOptions(16, 8));
      Tensor x = torch.randn(4, 16);
      Tensor reference = layer.forward(x);
      Tensor y;
      try (Autocast a = Autocast.bfloat16(Devices.CPU)) {
        assertThat(torch.is_autocast_enabled(DeviceType.CPU)).isTrue();
        y = layer.forward(x);
      }
      assertThat(torch.is_autocast_enabled(DeviceType.CPU)).isFalse();
      assertThat(Tensors.isType(y, ScalarType.BFloat16)).isTrue();
      assertThat(Tensors.isType(layer.weight(), ScalarType.Float)).as("the weights stay float32").isTrue();
      double err = y.to(ScalarType.Float).sub(reference).abs().max().item_double();
      assertThat(err).isLessThan(0.05).isGreaterThan(0); // bfloat16 has 8 bits of mantissa
      // a weight changed after the region is seen by the next region (the bf16 weight cache was dropped)
      try (org.bytedeco.pytorch.NoGradGuard g = new org.bytedeco.pytorch.NoGradGuard()) {
        layer.weight().mul_(new org.bytedeco.pytorch.Scalar(2.0));
      }
      Tensor y2;
      try (Autocast a = Autocast.bfloat16(Devices.CPU)) {
        y2 = layer.forward(x);
      }
      double err2 = y2.to(ScalarType.Float).sub(layer.forward(x)).abs().max().item_double();
      assertThat(err2).isLessThan(0.1);
    }
  }
}
