package dev.npid4j.model;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.npid4j.torch.StateDict;
import dev.npid4j.torch.Torch;
import java.util.List;
import java.util.Map;
import org.bytedeco.javacpp.PointerScope;
import org.bytedeco.pytorch.Tensor;
import org.bytedeco.pytorch.global.torch;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/** VISSL's alexnet_bvlc: parameter names and count, layer shapes, a training step. */
class AlexNetBvlcTest {
  @BeforeAll
  static void load() {
    Torch.load();
  }

  @Test
  void visslNamesCountsAndShapes() {
    try (PointerScope s = new PointerScope()) {
      NpidModel model = new NpidModel(dev.npid4j.model.TrunkType.ALEXNET_BVLC, ResNetSpec.torchvision(50), List.of(MlpHeadSpec.linear(9216, 128)));
      System.gc(); // libtorch calls back into every module on train/eval: none may have lost its Java peer
      model.eval();
      model.train(true);
      Map<String, Tensor> trunk = StateDict.parameters(model.trunk());
      assertThat(trunk.keySet()).containsExactly("0.0.weight", "0.0.bias", "2.0.weight", "2.0.bias", "4.0.weight", "4.0.bias",
          "5.0.weight", "5.0.bias", "6.0.weight", "6.0.bias");
      // conv1 34,944 + conv2 307,456 (groups 2) + conv3 885,120 + conv4 663,936 (g2) + conv5 442,624 (g2)
      assertThat(StateDict.parameterCount(model.trunk())).isEqualTo(2_334_080L);
      Map<String, Tensor> f = model.trunk().forwardLayers(torch.randn(2, 3, 227, 227), AlexNetBvlc.FEATURE_LAYERS);
      assertThat(f.get("conv1").sizes().vec().get()).containsExactly(2, 96, 55, 55);
      assertThat(f.get("pool1").sizes().vec().get()).containsExactly(2, 96, 27, 27);
      assertThat(f.get("pool2").sizes().vec().get()).containsExactly(2, 256, 13, 13);
      assertThat(f.get("conv5").sizes().vec().get()).containsExactly(2, 256, 13, 13);
      assertThat(f.get("pool5").sizes().vec().get()).containsExactly(2, 256, 6, 6);
      assertThat(f.get("flatten").sizes().vec().get()).containsExactly(2, 9216);
      Tensor out = model.forward(torch.randn(2, 3, 227, 227));
      assertThat(out.sizes().vec().get()).containsExactly(2, 128);
      out.sum().backward();
      assertThat(trunk.get("0.0.weight").grad().defined()).isTrue();
      assertThatThrownBy(() -> model.forward(torch.randn(2, 3, 224, 224))).hasMessageContaining("6400").hasMessageContaining("9216");
    }
  }
}
