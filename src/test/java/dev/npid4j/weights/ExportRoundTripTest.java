package dev.npid4j.weights;

import org.junit.jupiter.api.Tag;
import dev.npid4j.formats.TorchFiles;
import dev.npid4j.formats.Npy;
import static org.assertj.core.api.Assertions.assertThat;

import dev.npid4j.config.EvalSettings.WeightsInit;
import dev.npid4j.model.MlpHeadSpec;
import dev.npid4j.model.NpidModel;
import dev.npid4j.model.ResNetSpec;
import dev.npid4j.torch.StateDict;
import dev.npid4j.torch.Tensors;
import dev.npid4j.torch.Torch;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import org.bytedeco.pytorch.NoGradGuard;
import org.bytedeco.pytorch.Tensor;
import org.bytedeco.pytorch.global.torch;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Round trip with real PyTorch (Debian's python3-torch and python3-torchvision): npid4j's
 * exports load in torchvision with no npid4j code and give the same outputs; files written by
 * torch.save (zip and legacy formats, torchvision and VISSL layouts) load in npid4j and give
 * the same outputs. CI sets NPID4J_REQUIRE_PYTORCH=1, so there a missing PyTorch fails the test.
 */
@Tag("e2e") // an end-to-end run: left out by mvn -B test -DexcludedGroups=e2e
public class ExportRoundTripTest {
  static final WeightsInit DEFAULT_INIT = new WeightsInit("", "classy_state_dict", "", "", List.of("num_batches_tracked"));
  static final double TOLERANCE = 1e-4;

  @BeforeAll
  static void load() {
    Torch.load();
    Torch.setThreads(2);
  }

  public static String python() {
    String p = System.getenv("NPID4J_PYTHON");
    if (p != null) {
      return p;
    }
    return Files.isExecutable(Path.of("/usr/bin/python3")) ? "/usr/bin/python3" : "python3";
  }

  public static boolean pytorchAvailable() {
    try {
      Process p = new ProcessBuilder(python(), "-c", "import torch, torchvision, numpy").redirectErrorStream(true).start();
      p.getInputStream().readAllBytes();
      return p.waitFor(120, TimeUnit.SECONDS) && p.exitValue() == 0;
    } catch (IOException | InterruptedException e) {
      return false;
    }
  }

  static NpidModel resnet18WithHead() {
    return new NpidModel(ResNetSpec.torchvision(18), List.of(MlpHeadSpec.linear(512, 128)));
  }

  /** Non-trivial BN statistics and affine parameters, so eval-mode outputs depend on all of them. */
  static void randomizeBatchNorm(NpidModel m) {
    try (NoGradGuard g = new NoGradGuard()) {
      StateDict.of(m).forEach((k, v) -> {
        if (k.endsWith("running_mean")) {
          v.uniform_(-0.2, 0.2, null);
        } else if (k.endsWith("running_var")) {
          v.uniform_(0.5, 1.5, null);
        } else if (k.contains("bn") && k.endsWith("weight")) {
          v.uniform_(0.5, 1.5, null);
        }
      });
    }
  }

  static float maxDiff(Tensor out, Path npy) throws IOException {
    Npy.Array a = Npy.read(npy);
    float[] o = Tensors.toFloats(out);
    assertThat(o).hasSameSizeAs(a.floats());
    float max = 0;
    for (int i = 0; i < o.length; i++) {
      max = Math.max(max, Math.abs(o[i] - a.floats()[i]));
    }
    return max;
  }

  @Test
  void exportsLoadInPyTorchAndPyTorchFilesLoadInNpid4j(@TempDir Path dir) throws Exception {
    boolean required = "1".equals(System.getenv("NPID4J_REQUIRE_PYTORCH"));
    if (!pytorchAvailable()) {
      if (required) {
        throw new AssertionError(python() + " cannot import torch, torchvision and numpy: apt-get install python3-torch python3-torchvision");
      }
      Assumptions.abort("PyTorch not installed (apt-get install python3-torch python3-torchvision); CI runs this test");
    }
    Torch.manualSeed(7);
    NpidModel model = resnet18WithHead();
    randomizeBatchNorm(model);
    model.eval();
    Tensor x = torch.randn(2, 3, 64, 64);
    Npy.writeTensor(dir.resolve("input.npy"), x, 2, 3, 64, 64);
    Tensor trunkOut;
    Tensor headOut;
    try (NoGradGuard g = new NoGradGuard()) {
      trunkOut = model.trunk().forward(x);
      headOut = model.forward(x);
    }
    TorchFiles.save(dir.resolve("tv.pth"), Export.torchvision(model));
    TorchFiles.save(dir.resolve("vissl.torch"), Export.vissl(model, torch.randn(10, 128), 0, 5));

    Process p = new ProcessBuilder(python(), Path.of("src/test/python/export_roundtrip.py").toAbsolutePath().toString(),
        dir.toString()).redirectErrorStream(true).start();
    String log = new String(p.getInputStream().readAllBytes());
    assertThat(p.waitFor(300, TimeUnit.SECONDS)).isTrue();
    assertThat(p.exitValue()).as(log).isZero();

    float tv = maxDiff(trunkOut, dir.resolve("py_from_tv.npy"));
    float vissl = maxDiff(headOut, dir.resolve("py_from_vissl.npy"));
    System.out.printf("[roundtrip] npid4j -> PyTorch: torchvision export max |diff| %.3g, VISSL export (trunk+head) %.3g%n", tv, vissl);
    assertThat(tv).isLessThan((float) TOLERANCE);
    assertThat(vissl).isLessThan((float) TOLERANCE);

    for (String file : List.of("pt.pth", "pt_legacy.pth")) {
      NpidModel loaded = resnet18WithHead();
      Weights.Loaded w = Weights.read(dir.resolve(file), DEFAULT_INIT);
      Weights.Report r = Weights.loadInto(loaded, w, DEFAULT_INIT.skipLayers(), true, file);
      assertThat(r.missingHeads()).containsExactly("heads.0.clf.0.weight", "heads.0.clf.0.bias");
      loaded.eval();
      try (NoGradGuard g = new NoGradGuard()) {
        float d = maxDiff(loaded.trunk().forward(x), dir.resolve("py_trunk.npy"));
        System.out.printf("[roundtrip] PyTorch -> npid4j: %s max |diff| %.3g%n", file, d);
        assertThat(d).isLessThan((float) TOLERANCE);
      }
    }
    NpidModel fromVissl = resnet18WithHead();
    Weights.Report r = Weights.loadInto(fromVissl, Weights.read(dir.resolve("py_vissl.torch"), DEFAULT_INIT),
        DEFAULT_INIT.skipLayers(), false, "py_vissl.torch");
    assertThat(r.missingHeads()).isEmpty();
    fromVissl.eval();
    try (NoGradGuard g = new NoGradGuard()) {
      float d = maxDiff(fromVissl.forward(x), dir.resolve("py_head.npy"));
      System.out.printf("[roundtrip] PyTorch -> npid4j: VISSL layout (trunk+head) max |diff| %.3g%n", d);
      assertThat(d).isLessThan((float) TOLERANCE);
    }
  }

  @Test
  void picklesRoundTripThroughOurOwnReader(@TempDir Path dir) throws Exception {
    Tensor t = torch.arange(new org.bytedeco.pytorch.Scalar(12)).reshape(3, 4).to(org.bytedeco.pytorch.global.torch.ScalarType.Float);
    Map<String, Object> v = new java.util.LinkedHashMap<>();
    v.put("w", t.t()); // non-contiguous: saved contiguous
    v.put("n", 3_000_000_000L);
    v.put("f", 0.25);
    v.put("s", "héllo");
    v.put("l", List.of(1L, true));
    v.put("none", null);
    TorchFiles.save(dir.resolve("x.pth"), v);
    @SuppressWarnings("unchecked")
    Map<String, Object> back = (Map<String, Object>) TorchFiles.load(dir.resolve("x.pth"));
    assertThat(back).containsEntry("n", 3_000_000_000L).containsEntry("f", 0.25).containsEntry("s", "héllo")
        .containsEntry("l", List.of(1L, true)).containsEntry("none", null);
    assertThat(Tensors.toFloats((Tensor) back.get("w"))).containsExactly(Tensors.toFloats(t.t().contiguous()));
    assertThat(Tensors.shape((Tensor) back.get("w"))).containsExactly(4, 3);
  }
}
