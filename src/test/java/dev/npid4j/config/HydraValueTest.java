package dev.npid4j.config;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

class HydraValueTest {
  @Test
  void scalars() {
    assertThat(HydraValue.parse("3")).isEqualTo(3L);
    assertThat(HydraValue.parse("-3")).isEqualTo(-3L);
    assertThat(HydraValue.parse("1_000")).isEqualTo(1000L);
    assertThat(HydraValue.parse("0.03")).isEqualTo(0.03);
    assertThat(HydraValue.parse("1e-4")).isEqualTo(1e-4);
    assertThat(HydraValue.parse(".5")).isEqualTo(0.5);
    assertThat(HydraValue.parse("inf")).isEqualTo(Double.POSITIVE_INFINITY);
    assertThat(HydraValue.parse("True")).isEqualTo(true);
    assertThat(HydraValue.parse("false")).isEqualTo(false);
    assertThat(HydraValue.parse("null")).isNull();
    assertThat(HydraValue.parse("resnet")).isEqualTo("resnet");
    assertThat(HydraValue.parse("'123'")).isEqualTo("123");
    assertThat(HydraValue.parse("\"a, b\"")).isEqualTo("a, b");
    assertThat(HydraValue.parse("/tmp/run-1")).isEqualTo("/tmp/run-1");
    assertThat(HydraValue.parse("127.0.0.1:29500")).isEqualTo("127.0.0.1:29500");
    assertThat(HydraValue.parse("")).isEqualTo("");
  }

  @Test
  void collections() {
    assertThat(HydraValue.parse("[1, 2.5, a]")).isEqualTo(List.of(1L, 2.5, "a"));
    assertThat(HydraValue.parse("[]")).isEqualTo(List.of());
    assertThat(HydraValue.parse("[[mlp, {dims: [2048, 128]}]]"))
        .isEqualTo(List.of(List.of("mlp", Map.of("dims", List.of(2048L, 128L)))));
    assertThat(HydraValue.parse("{a: 1, 'b c': [x]}")).isEqualTo(Map.of("a", 1L, "b c", List.of("x")));
  }

  @Test
  void errors() {
    assertThatThrownBy(() -> HydraValue.parse("[1, 2")).hasMessageContaining("unexpected end");
    assertThatThrownBy(() -> HydraValue.parse("a,b")).hasMessageContaining("sweep");
    assertThatThrownBy(() -> HydraValue.parse("'open")).hasMessageContaining("unterminated");
  }
}
