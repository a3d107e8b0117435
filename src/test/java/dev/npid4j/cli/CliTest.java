package dev.npid4j.cli;

import static org.assertj.core.api.Assertions.assertThat;

import dev.npid4j.torch.Torch;
import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** What a user sees from the CLI: exit codes and one clear line per mistake, nothing written. */
class CliTest {
  public record Result(int code, String out, String err) {}

  @BeforeAll
  static void load() {
    Torch.load();
  }

  static synchronized Result cli(String... args) {
    PrintStream oldOut = System.out;
    PrintStream oldErr = System.err;
    ByteArrayOutputStream out = new ByteArrayOutputStream();
    ByteArrayOutputStream err = new ByteArrayOutputStream();
    try {
      System.setOut(new PrintStream(out, true, StandardCharsets.UTF_8));
      System.setErr(new PrintStream(err, true, StandardCharsets.UTF_8));
      int code = Main.run(args);
      return new Result(code, out.toString(StandardCharsets.UTF_8), err.toString(StandardCharsets.UTF_8));
    } finally {
      System.setOut(oldOut);
      System.setErr(oldErr);
    }
  }

  private static void assertOneLineError(Result r, String... fragments) {
    assertThat(r.code()).as("exit code; stderr: %s", r.err()).isEqualTo(2);
    assertThat(r.err().strip().lines()).as("stderr: %s", r.err()).hasSize(1);
    assertThat(r.err()).startsWith("npid4j: error: ");
    for (String f : fragments) {
      assertThat(r.err()).contains(f);
    }
  }

  @Test
  void misspeltKey(@TempDir Path dir) {
    Result r = cli("train", "config=quickstart/npid_fashion_mnist", "config.CHECKPOINT.DIR=" + dir.resolve("run"),
        "config.LOSS.nce_loss_with_memory.temprature=0.1");
    assertOneLineError(r, "config.LOSS.nce_loss_with_memory.temprature", "did you mean 'config.LOSS.nce_loss_with_memory.temperature'");
    assertThat(Files.exists(dir.resolve("run"))).isFalse();
  }

  @Test
  void configPrintsTheComposedConfigAndRunsNothing(@TempDir Path dir) {
    Result r = cli("config", "config=quickstart/npid_fashion_mnist", "config.CHECKPOINT.DIR=" + dir.resolve("run"),
        "config.LOSS.nce_loss_with_memory.temperature=0.2");
    assertThat(r.code()).as(r.err()).isZero();
    assertThat(r.out()).contains("temperature: 0.2").contains("nce_loss_with_memory:").contains("DIR: " + dir.resolve("run"));
    assertThat(Files.exists(dir.resolve("run"))).isFalse();
    Result one = cli("config", "config=quickstart/npid_fashion_mnist", "--key", "config.OPTIMIZER.num_epochs");
    assertThat(one.out().strip()).endsWith("config.OPTIMIZER.num_epochs: 10");
    assertOneLineError(cli("config", "config=quickstart/npid_fashion_mnist", "--key", "config.OPTIMIZER.num_epoch"),
        "config.OPTIMIZER.num_epoch is not a key of this config");
    assertOneLineError(cli("config", "config=quickstart/npid_fashion_mnist", "config.LOSS.nce_loss_with_memory.temprature=0.1"),
        "did you mean 'config.LOSS.nce_loss_with_memory.temperature'");
  }

  @Test
  void versionAndCompletion() {
    Result v = cli("--version");
    assertThat(v.code()).isZero();
    assertThat(v.out()).contains("libtorch 2.10.0 through bytedeco's pytorch").contains("checkpoints: format 2")
        .contains("native kernels (src/main/c):").contains("Java 17");
    Result c = cli("completion");
    assertThat(c.code()).isZero();
    assertThat(c.out()).contains("complete -F").contains("train").contains("export");
  }

  @Test
  void visslHookKeysAreReadAndTheHooksNpid4jDoesNotRunAreNamed(@TempDir Path dir) {
    Result r = cli("train", "config=quickstart/npid_fashion_mnist", "config.CHECKPOINT.DIR=" + dir.resolve("run"),
        "config.DATA.TRAIN.DATA_SOURCES=[synthetic]", "config.DATA.TRAIN.DATA_LIMIT=32", "config.DATA.TRAIN.DEFAULT_GRAY_IMG_SIZE=12",
        "config.DATA.TRAIN.TRANSFORMS=[{name:ToTensor}]", "config.DATA.TRAIN.BATCHSIZE_PER_REPLICA=32", "config.KNN_MONITOR.FREQUENCY=-1",
        "config.OPTIMIZER.num_epochs=1", "config.HOOKS.TENSORBOARD_SETUP.USE_TENSORBOARD=true",
        "config.HOOKS.TENSORBOARD_SETUP.LOG_PARAMS_EVERY_N_ITERS=-1", "config.HOOKS.MODEL_COMPLEXITY.COMPUTE_COMPLEXITY=true");
    assertThat(r.code()).as(r.err()).isZero();
    assertThat(r.out()).contains("[train] note: config.HOOKS.TENSORBOARD_SETUP.USE_TENSORBOARD=true: npid4j writes no TensorBoard events")
        .contains("[train] note: config.HOOKS.MODEL_COMPLEXITY.COMPUTE_COMPLEXITY=true");
  }

  @Test
  void nonNumericValue(@TempDir Path dir) {
    Result r = cli("train", "config=quickstart/npid_fashion_mnist", "config.CHECKPOINT.DIR=" + dir.resolve("run"),
        "config.DATA.TRAIN.BATCHSIZE_PER_REPLICA=big");
    assertOneLineError(r, "config.DATA.TRAIN.BATCHSIZE_PER_REPLICA expects an integer, got 'big'");
  }

  @Test
  void missingDataSet(@TempDir Path dir) throws Exception {
    Path empty = Files.createDirectory(dir.resolve("no-data-here"));
    Result r = cli("train", "config=quickstart/npid_fashion_mnist", "config.CHECKPOINT.DIR=" + dir.resolve("run"),
        "config.DATA.TRAIN.DATA_PATHS=[" + empty + "]");
    assertOneLineError(r, "config.DATA.TRAIN.DATA_PATHS", "no Fashion-MNIST files in " + empty);
    assertThat(Files.exists(dir.resolve("run"))).isFalse();
  }

  @Test
  void gpuOnThisBuildIsExplained(@TempDir Path dir) {
    Result r = cli("train", "config=pretrain/npid/npid_8gpu_resnet", "config.CHECKPOINT.DIR=" + dir.resolve("run"),
        "config.DISTRIBUTED.NUM_PROC_PER_NODE=1");
    assertOneLineError(r, "config.MACHINE.DEVICE=cpu", "NPID4J_GPU=1");
    assertThat(Files.exists(dir.resolve("run"))).isFalse();
  }

  @Test
  void evaluationWithoutWeightsOrWithBadInputSaysSo(@TempDir Path dir) throws Exception {
    Result noCheckpoint = cli("knn", "config=quickstart/npid_fashion_mnist", "config.CHECKPOINT.DIR=" + dir.resolve("empty"));
    assertOneLineError(noCheckpoint, "no weights to evaluate", "config.MODEL.WEIGHTS_INIT.PARAMS_FILE");
    Result missingFile = cli("extract", "config=quickstart/npid_fashion_mnist",
        "config.MODEL.WEIGHTS_INIT.PARAMS_FILE=" + dir.resolve("nope.pth"));
    assertOneLineError(missingFile, "PARAMS_FILE: no such file");
    Path junk = Files.writeString(dir.resolve("junk.pth"), "not a checkpoint");
    Result notTorch = cli("knn", "config=quickstart/npid_fashion_mnist", "config.MODEL.WEIGHTS_INIT.PARAMS_FILE=" + junk);
    assertOneLineError(notTorch, "cannot read " + junk + " as a PyTorch file");
    Result badFormat = cli("export", "--run", dir.toString(), "--format", "onnx", "--out", dir.resolve("x").toString());
    assertOneLineError(badFormat, "--format must be torchvision or vissl");
    Result badPool = cli("linear", "config=benchmark/linear_image_classification/fashion_mnist/eval_resnet_linear",
        "config.MODEL.FEATURE_EVAL_SETTINGS.LINEAR_EVAL_FEAT_POOL_OPS_MAP=[[res9,[Identity,[]]]]");
    assertOneLineError(badPool, "unknown layer 'res9'");
    Result badTopk = cli("knn", "config=quickstart/npid_fashion_mnist", "config.NEAREST_NEIGHBOR.TOPK=[0]");
    assertOneLineError(badTopk, "TOPK must be >= 1");
    assertThat(Files.exists(dir.resolve("x"))).isFalse();
  }

  @Test
  void benchPrintsOneJsonObject() throws Exception {
    Result loss = cli("bench", "loss", "--n", "5000", "--dim", "16", "--batch", "8", "--negatives", "64", "--iters", "2", "--warmup", "1");
    assertThat(loss.code()).as(loss.err()).isZero();
    var j = new com.fasterxml.jackson.databind.ObjectMapper().readTree(loss.out().strip());
    assertThat(j.get("bench").asText()).isEqualTo("loss");
    assertThat(j.get("ms_per_step").asDouble()).isPositive();
    assertThat(j.get("libtorch").asText()).isEqualTo("2.10.0");
    assertThat(j.get("threads").asInt()).isEqualTo(2);
    // 5000 rows > 24 x 65: AUTO takes the sampled product (a smaller bank would get the whole-bank one)
    assertThat(j.get("scores").asText()).isEqualTo("auto");
    assertThat(j.get("scores_used").asText()).isEqualTo("sampled");
    // a 16-bit bank is gathered whatever was asked, and the JSON says so
    Result half = cli("bench", "loss", "--n", "5000", "--dim", "16", "--batch", "8", "--negatives", "64", "--iters", "1", "--warmup", "1",
        "--scores", "SAMPLED", "--bank-dtype", "bfloat16");
    assertThat(half.code()).as(half.err()).isZero();
    var h = new com.fasterxml.jackson.databind.ObjectMapper().readTree(half.out().strip());
    assertThat(h.get("scores").asText()).isEqualTo("sampled");
    assertThat(h.get("scores_used").asText()).isEqualTo("gather");
    Result knn = cli("bench", "knn", "--train", "500", "--test", "50", "--dim", "8", "--k", "20");
    assertThat(knn.code()).as(knn.err()).isZero();
    var k = new com.fasterxml.jackson.databind.ObjectMapper().readTree(knn.out().strip());
    assertThat(k.get("seconds").asDouble()).isPositive();
    assertThat(k.get("top1").asDouble()).isBetween(0.0, 100.0);
    Result bad = cli("bench", "loss", "--threads", "0");
    assertOneLineError(bad, "--threads must be >= 1");
    if (dev.npid4j.torch.NativeKernels.available()) {
      Result norm = cli("bench", "norm", "--shape", "4,8,9,9", "--iters", "3", "--warmup", "1", "--relu", "false");
      assertThat(norm.code()).as(norm.err()).isZero();
      var n = new com.fasterxml.jackson.databind.ObjectMapper().readTree(norm.out().strip());
      assertThat(n.get("relu").asBoolean()).isFalse();
      assertThat(n.get("ms_fused").asDouble()).isPositive();
      assertThat(n.get("ms_libtorch").asDouble()).isPositive();
      assertThat(n.get("native_kernels").asBoolean()).isTrue();
    }
    assertOneLineError(cli("bench", "norm", "--shape", "4,8"), "--shape needs N,C,H,W");
  }

  @Test
  void helpAndUnknownCommand() {
    for (String c : new String[] {"extract", "knn", "linear", "export"}) {
      Result h = cli(c, "--help");
      assertThat(h.code()).as(c).isZero();
      assertThat(h.out()).as(c).contains("Usage: npid4j " + c);
    }
    Result help = cli("train", "--help");
    assertThat(help.code()).isZero();
    assertThat(help.out()).contains("config=NAME").contains("config.A.B=VALUE");
    Result bad = cli("trian");
    assertThat(bad.code()).isEqualTo(2);
    assertThat(bad.err()).contains("trian");
    assertThat(cli("--version").out()).contains("npid4j").contains("libtorch 2.10.0");
  }
}
