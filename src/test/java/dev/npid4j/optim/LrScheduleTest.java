package dev.npid4j.optim;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.assertj.core.data.Offset.offset;

import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

class LrScheduleTest {
  @Test
  void multistepIsHeldPerEpochAndSwitchesAtMilestones() {
    LrSchedule s = LrSchedule.fromConfig(Map.of("name", "multistep", "values", List.of(0.03, 0.003, 0.0003),
        "milestones", List.of(120L, 160L)), "lr", 200);
    assertThat(s.at(0.0)).isEqualTo(0.03);
    assertThat(s.at(119 / 200.0)).isEqualTo(0.03);
    assertThat(s.at(120 / 200.0)).isEqualTo(0.003);
    assertThat(s.at(159 / 200.0)).isEqualTo(0.003);
    assertThat(s.at(160 / 200.0)).isEqualTo(0.0003);
  }

  @Test
  void cosineFromStartToEnd() {
    LrSchedule s = LrSchedule.fromConfig(Map.of("name", "cosine", "start_value", 0.12, "end_value", 0.00012), "lr", 800);
    assertThat(s.at(0)).isEqualTo(0.12);
    assertThat(s.at(0.5)).isCloseTo((0.12 + 0.00012) / 2, offset(1e-12));
    assertThat(s.at(1.0)).isCloseTo(0.00012, offset(1e-12));
  }

  @Test
  void compositeLinearWarmupThenCosine() {
    Map<String, Object> cfg = Map.of("name", "composite",
        "schedulers", List.of(Map.of("name", "linear", "start_value", 0.0, "end_value", 0.1),
            Map.of("name", "cosine", "start_value", 0.1, "end_value", 0.0)),
        "interval_scaling", List.of("rescaled", "rescaled"), "lengths", List.of(0.1, 0.9));
    LrSchedule s = LrSchedule.fromConfig(cfg, "lr", 100);
    assertThat(s.at(0)).isEqualTo(0.0);
    assertThat(s.at(0.05)).isCloseTo(0.05, offset(1e-12));
    assertThat(s.at(0.1)).isCloseTo(0.1, offset(1e-9));
    assertThat(s.at(0.55)).isCloseTo(0.05, offset(1e-9));
  }

  @Test
  void stepWithFixedGammaAndConstant() {
    LrSchedule s = LrSchedule.fromConfig(Map.of("name", "step_with_fixed_gamma", "base_value", 0.1, "gamma", 0.1, "num_decays", 2L), "lr", 90);
    assertThat(s.at(0)).isEqualTo(0.1);
    assertThat(s.at(0.34)).isCloseTo(0.01, offset(1e-12));
    assertThat(s.at(0.99)).isCloseTo(0.001, offset(1e-12));
    assertThat(LrSchedule.fromConfig(Map.of("name", "constant", "value", 0.5), "lr", 1).at(0.7)).isEqualTo(0.5);
  }

  @Test
  void badSchedulesNameTheKey() {
    assertThatThrownBy(() -> LrSchedule.fromConfig(Map.of("name", "cosin"), "config.OPTIMIZER.param_schedulers.lr", 10))
        .hasMessageContaining("did you mean 'cosine'");
    assertThatThrownBy(() -> LrSchedule.fromConfig(Map.of("name", "multistep", "values", List.of(0.1), "milestones", List.of(3L)), "lr", 10))
        .hasMessageContaining("one more value than milestones");
    assertThatThrownBy(() -> LrSchedule.fromConfig(Map.of("name", "multistep", "values", List.of(0.1, 0.01), "milestones", List.of(30L)), "lr", 10))
        .hasMessageContaining("below num_epochs");
  }
}
