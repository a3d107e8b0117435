package dev.npid4j.vissl;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.npid4j.cli.CliTestAccess;
import dev.npid4j.torch.Torch;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * VISSL's benchmark configs behind the NPID model zoo's numbers resolve by VISSL's names and run
 * on a small image folder, overriding only the data paths, the device and the batch size (and,
 * for kNN, the head: VISSL's kNN config carries a 2048-2048-128 head, NPID's is 2048-128, which
 * VISSL's own docs say to override), with a ResNet-50 NPID checkpoint of one step.
 */
@Tag("e2e") // an end-to-end run: left out by mvn -B test -DexcludedGroups=e2e
class VisslBenchmarkConfigsTest {
  @BeforeAll
  static void load() {
    Torch.load();
  }

  @Test
  void knnAndLinearBenchmarksRunOnAFolder(@TempDir Path dir) throws Exception {
    VisslDataToolsTest.imageFolder(dir.resolve("data/train"), 2);
    VisslDataToolsTest.imageFolder(dir.resolve("data/val"), 1);
    Path pretrain = dir.resolve("pretrain");
    var t = CliTestAccess.cli("train", "config=pretrain/npid/npid_8gpu_resnet", "config.CHECKPOINT.DIR=" + pretrain,
        "config.MACHINE.DEVICE=cpu", "config.DISTRIBUTED.NUM_PROC_PER_NODE=1",
        // on the benchmark's train images: NPID's kNN protocol takes the memory bank as their features
        "config.DATA.TRAIN.DATA_PATHS=[" + dir.resolve("data/train") + "]", "config.DATA.TRAIN.BATCHSIZE_PER_REPLICA=6",
        "config.DATA.TRAIN.TRANSFORMS=[{name:RandomResizedCrop,size:32},{name:ToTensor}]", "config.OPTIMIZER.num_epochs=1",
        "config.OPTIMIZER.param_schedulers.lr.name=constant", "config.OPTIMIZER.param_schedulers.lr.value=0.01",
        "config.LOSS.nce_loss_with_memory.negative_sampling_params.num_negatives=2");
    assertThat(t.code()).as(t.err()).isZero();
    String weights = "config.MODEL.WEIGHTS_INIT.PARAMS_FILE=" + pretrain.resolve("checkpoint.torch");
    String[] data = {"config.DATA.TRAIN.DATA_PATHS=[" + dir.resolve("data/train") + "]",
        "config.DATA.TEST.DATA_PATHS=[" + dir.resolve("data/val") + "]", "config.MACHINE.DEVICE=cpu",
        "config.DATA.TRAIN.BATCHSIZE_PER_REPLICA=6", "config.DATA.TEST.BATCHSIZE_PER_REPLICA=6"};

    var knn = CliTestAccess.cli(concat(new String[] {"knn", "config=benchmark/nearest_neighbor/eval_resnet_8gpu_in1k_kNN",
        weights, "config.CHECKPOINT.DIR=" + dir.resolve("knn"), "config.MODEL.HEAD.PARAMS=[[mlp,{dims:[2048,128]}]]",
        "config.NEAREST_NEIGHBOR.TOPK=3"}, data));
    assertThat(knn.code()).as(knn.err()).isZero();
    JsonNode k = new ObjectMapper().readTree(dir.resolve("knn/eval/knn.json").toFile());
    assertThat(k.toString()).contains("top1");

    for (String linear : new String[] {"imagenet1k/eval_resnet_8gpu_transfer_in1k_linear",
        "places205/eval_resnet_8gpu_transfer_places205_linear"}) {
      Path out = dir.resolve(linear.substring(0, linear.indexOf('/')));
      var r = CliTestAccess.cli(concat(new String[] {"linear", "config=benchmark/linear_image_classification/" + linear, weights,
          "config.CHECKPOINT.DIR=" + out}, data));
      assertThat(r.code()).as(linear + ": " + r.err()).isZero();
      JsonNode result = new ObjectMapper().readTree(out.resolve("eval/linear.json").toFile());
      assertThat(result.toString()).as(linear).contains("top1");
      assertThat(Files.exists(out.resolve("eval/linear.json"))).isTrue();
    }
  }

  private static String[] concat(String[] a, String[] b) {
    String[] out = new String[a.length + b.length];
    System.arraycopy(a, 0, out, 0, a.length);
    System.arraycopy(b, 0, out, a.length, b.length);
    return out;
  }
}
