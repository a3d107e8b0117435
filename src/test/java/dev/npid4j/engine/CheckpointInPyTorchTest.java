package dev.npid4j.engine;

import dev.npid4j.weights.CheckpointFile;
import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import dev.npid4j.torch.Torch;
import dev.npid4j.weights.ExportRoundTripTest;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.bytedeco.pytorch.Tensor;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** An npid4j checkpoint loads in Debian's PyTorch with torch.load(f, weights_only=True), and holds what npid4j reads from it. */
@Tag("e2e")
class CheckpointInPyTorchTest {
  @Test
  void aCheckpointLoadsWithWeightsOnly(@TempDir Path dir) throws Exception {
    if (!ExportRoundTripTest.pytorchAvailable()) {
      if ("1".equals(System.getenv("NPID4J_REQUIRE_PYTORCH"))) {
        throw new AssertionError(ExportRoundTripTest.python() + " cannot import torch: apt-get install python3-torch python3-torchvision");
      }
      Assumptions.abort("PyTorch not installed (apt-get install python3-torch python3-torchvision); CI runs this test");
    }
    Torch.load();
    Path run = dir.resolve("run");
    ResumeTest.train(ResumeTest.config(run), 5);
    StopSignal.reset();
    Path ck = run.resolve("model_iteration5.torch");
    Process p = new ProcessBuilder(ExportRoundTripTest.python(), Path.of("src/test/python/checkpoint_load.py").toAbsolutePath().toString(),
        ck.toString()).redirectErrorStream(true).start();
    String out = new String(p.getInputStream().readAllBytes());
    assertThat(p.waitFor(300, TimeUnit.SECONDS)).isTrue();
    assertThat(p.exitValue()).as(out).isZero();
    JsonNode py = MetricsLog.JSON.readTree(out.lines().reduce((a, b) -> b).orElse("{}"));

    CheckpointFile java = CheckpointFile.read(ck);
    assertThat(py.get("format").asInt()).isEqualTo(2);
    assertThat(py.get("iteration").asLong()).isEqualTo(5).isEqualTo(java.iteration());
    assertThat(py.get("epoch").asInt()).isEqualTo(java.epoch());
    assertThat(py.get("step_in_epoch").asInt()).isEqualTo(java.stepInEpoch());
    assertThat(py.get("model_tensors").asInt()).isEqualTo(java.model().size());
    double modelSum = 0;
    for (Tensor t : java.model().values()) {
      if (t.is_floating_point()) {
        modelSum += t.to(org.bytedeco.pytorch.global.torch.ScalarType.Double).sum().item_double();
      }
    }
    assertThat(py.get("model_sum").asDouble()).isCloseTo(modelSum, org.assertj.core.data.Offset.offset(1e-6 * Math.max(1, Math.abs(modelSum))));
    assertThat(py.get("memory_shape").get(0).asLong()).isEqualTo(java.memory().size(0));
    assertThat(py.get("memory_shape").get(1).asLong()).isEqualTo(java.memory().size(1));
    assertThat(py.get("Z").asDouble()).isEqualTo(java.z());
    assertThat(py.get("momentum_buffers").asInt()).isEqualTo(java.momentum().size()).isPositive();
    assertThat(py.get("rng_state_bytes").asLong()).isEqualTo(java.rngState().numel());
    List<String> metaKeys = new java.util.ArrayList<>();
    py.get("meta_keys").forEach(k -> metaKeys.add(k.asText()));
    assertThat(metaKeys).contains("npid4j_version", "data_fingerprint", "config_yaml");
  }
}
