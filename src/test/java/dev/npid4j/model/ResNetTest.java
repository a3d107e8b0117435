package dev.npid4j.model;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.npid4j.torch.StateDict;
import dev.npid4j.torch.Tensors;
import dev.npid4j.torch.Torch;
import java.util.List;
import java.util.Map;
import org.bytedeco.javacpp.PointerScope;
import org.bytedeco.pytorch.Tensor;
import org.bytedeco.pytorch.global.torch;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

class ResNetTest {
  @BeforeAll
  static void load() {
    Torch.load();
    Torch.setThreads(2);
  }

  /** torchvision's published counts, which include the 1000-way fc (2048*1000 + 1000 for Bottleneck). */
  @ParameterizedTest(name = "resnet{0} groups={1} wpg={2}")
  @CsvSource({
      "18, 1, 64, 11689512",
      "34, 1, 64, 21797672",
      "50, 1, 64, 25557032",
      "101, 1, 64, 44549160",
      "152, 1, 64, 60192808",
      "50, 32, 4, 25028904",   // resnext50_32x4d
      "101, 32, 8, 88791336",  // resnext101_32x8d
  })
  void parameterCountsMatchTorchvision(int depth, int groups, int wpg, long withFc) {
    try (PointerScope s = new PointerScope()) {
      ResNet net = new ResNet(new ResNetSpec(depth, "imagenet", 3, 64, 1, groups, wpg, 2, false));
      long fc = (long) net.outputDim() * 1000 + 1000;
      assertThat(StateDict.parameterCount(net) + fc).isEqualTo(withFc);
    }
  }

  @Test
  void resnet50KeysAreTorchvisionKeys() {
    try (PointerScope s = new PointerScope()) {
      ResNet net = new ResNet(ResNetSpec.torchvision(50));
      Map<String, Tensor> sd = StateDict.of(net);
      // torchvision resnet50().state_dict() has 320 entries, 318 without fc.weight/fc.bias.
      assertThat(sd).hasSize(318);
      assertThat(StateDict.parameters(net)).hasSize(159);
      assertThat(sd).containsKeys("conv1.weight", "bn1.weight", "bn1.running_mean", "bn1.num_batches_tracked",
          "layer1.0.conv1.weight", "layer1.0.downsample.0.weight", "layer1.0.downsample.1.running_var",
          "layer2.0.downsample.0.weight", "layer3.5.bn3.bias", "layer4.2.conv3.weight");
      assertThat(Tensors.shape(sd.get("layer1.0.downsample.0.weight"))).containsExactly(256, 64, 1, 1);
      assertThat(Tensors.shape(sd.get("layer4.0.conv2.weight"))).containsExactly(512, 512, 3, 3);
      assertThat(sd.keySet()).noneMatch(k -> k.startsWith("fc."));
    }
  }

  @Test
  void widthMultiplierAndCifarStem() {
    try (PointerScope s = new PointerScope()) {
      ResNet w2 = new ResNet(new ResNetSpec(50, "imagenet", 3, 64, 2, 1, 64, 2, false));
      assertThat(w2.outputDim()).isEqualTo(4096);
      assertThat(Tensors.shape(StateDict.parameters(w2).get("layer1.0.conv1.weight"))).containsExactly(128, 128, 1, 1);
      ResNet small = new ResNet(new ResNetSpec(18, "cifar", 1, 16, 1, 1, 64, 2, false));
      assertThat(small.outputDim()).isEqualTo(128);
      assertThat(Tensors.shape(StateDict.parameters(small).get("conv1.weight"))).containsExactly(16, 1, 3, 3);
      Tensor out = small.forward(torch.randn(4, 1, 28, 28));
      assertThat(Tensors.shape(out)).containsExactly(4, 128);
    }
  }

  /**
   * ResNet-50 backward at 224x224 runs the strided 1x1 downsample shapes (512->1024 at 28x28,
   * 1024->2048 at 14x14) whose oneDNN backward kills the JVM with SIGFPE on these VMs unless
   * the subsample workaround is in place. A regression shows up here as a crashed fork.
   */
  @Test
  void resnet50BackwardSurvivesStridedDownsample() {
    try (PointerScope s = new PointerScope()) {
      NpidModel model = new NpidModel(ResNetSpec.torchvision(50), List.of(MlpHeadSpec.linear(2048, 128)));
      model.train(true);
      Tensor out = model.forward(torch.randn(2, 3, 224, 224));
      assertThat(Tensors.shape(out)).containsExactly(2, 128);
      out.sum().backward();
      Tensor g = StateDict.parameters(model).get("trunk.layer4.0.downsample.0.weight").grad();
      assertThat(g.defined()).isTrue();
      assertThat(g.abs().sum().item_double()).isGreaterThan(0);
    }
  }

  @Test
  void vissLDefaultInitIsKaimingUniform() {
    try (PointerScope s = new PointerScope()) {
      Torch.manualSeed(0);
      ResNet net = new ResNet(ResNetSpec.torchvision(18));
      Tensor w = StateDict.parameters(net).get("layer1.0.conv1.weight"); // fan_in = 64*3*3
      double bound = 1.0 / Math.sqrt(64 * 9);
      assertThat(w.abs().max().item_double()).isLessThanOrEqualTo(bound).isGreaterThan(0.95 * bound);
      assertThat(StateDict.parameters(net).get("bn1.weight").min().item_double()).isEqualTo(1.0);
    }
  }

  @Test
  void mlpHeadKeysCountReluAndBn() {
    try (PointerScope s = new PointerScope()) {
      MlpHead head = new MlpHead(new MlpHeadSpec(List.of(2048, 2048, 128), true, true, false, true, true, 1e-5, 0.1));
      assertThat(StateDict.parameters(head).keySet())
          .containsExactly("clf.0.weight", "clf.0.bias", "clf.1.weight", "clf.1.bias", "clf.3.weight", "clf.3.bias");
      NpidModel model = new NpidModel(new ResNetSpec(18, "cifar", 1, 16, 1, 1, 64, 2, false), List.of(MlpHeadSpec.linear(128, 128)));
      assertThat(StateDict.parameters(model)).containsKeys("trunk.conv1.weight", "heads.0.clf.0.weight", "heads.0.clf.0.bias");
      assertThatThrownBy(() -> new NpidModel(ResNetSpec.torchvision(18), List.of(MlpHeadSpec.linear(2048, 128))))
          .hasMessageContaining("must be 512");
    }
  }
}
