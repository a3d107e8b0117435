package dev.npid4j.weights;

import static org.assertj.core.api.Assertions.assertThat;

import dev.npid4j.config.EvalSettings.WeightsInit;
import java.util.List;
import org.junit.jupiter.api.Test;

/** Checkpoint keys of each layout land on this model's keys (VISSL's REMOVE_PREFIX / APPEND_PREFIX semantics). */
class WeightsKeyTest {
  static WeightsInit init(String remove, String append) {
    return new WeightsInit("", "classy_state_dict", append, remove, List.of("num_batches_tracked"));
  }

  @Test
  void layouts() {
    WeightsInit plain = init("", "");
    assertThat(Weights.modelKey("layer1.0.conv1.weight", plain)).isEqualTo("trunk.layer1.0.conv1.weight"); // torchvision
    assertThat(Weights.modelKey("fc.weight", plain)).isNull();
    assertThat(Weights.modelKey("module.conv1.weight", plain)).isEqualTo("trunk.conv1.weight"); // DDP
    assertThat(Weights.modelKey("trunk._feature_blocks.bn1.running_mean", plain)).isEqualTo("trunk.bn1.running_mean"); // VISSL model keys
    assertThat(Weights.modelKey("_feature_blocks.conv1.weight", plain)).isEqualTo("trunk.conv1.weight");
    assertThat(Weights.modelKey("heads.0.clf.0.weight", plain)).isEqualTo("heads.0.clf.0.weight");
    assertThat(Weights.modelKey("backbone.conv1.weight", init("backbone.", ""))).isEqualTo("trunk.conv1.weight");
    assertThat(Weights.modelKey("conv1.weight", init("", "trunk._feature_blocks."))).isEqualTo("trunk.conv1.weight");
  }
}
