package dev.npid4j.vissl;

import static org.assertj.core.api.Assertions.assertThat;

import dev.npid4j.cli.CliTestAccess;
import dev.npid4j.torch.Torch;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Every command of VISSL's NPID page ({@code docs/source/ssl_approaches/npid.rst}), with
 * {@code npid4j train} in place of {@code python tools/run_distributed_engines.py}. On a machine
 * without a GPU each ends at once with one line saying why and what to change, before any rank
 * starts; with {@code config.MACHINE.DEVICE=cpu} and a tiny synthetic data set, each trains a step
 * or ends at its next clear error (four machines asked for on one).
 */
@Tag("e2e") // an end-to-end run: left out by mvn -B test -DexcludedGroups=e2e
class NpidPageCommandsTest {
  /** The page's commands, each after "run_distributed_engines.py". */
  static final List<List<String>> PAGE = List.of(
      List.of("config=pretrain/npid/npid_8gpu_resnet"),
      List.of("config=pretrain/npid/npid++_4nodes_resnet"),
      List.of("config=pretrain/npid/npid_8gpu_resnet", "config.LOSS.nce_loss_with_memory.temperature=0.05",
          "config.LOSS.nce_loss_with_memory.memory_params.momentum=0.99",
          "config.LOSS.nce_loss_with_memory.negative_sampling_params.num_negatives=16000"),
      List.of("config=pretrain/npid/npid_8gpu_resnet", "config.MODEL.TRUNK.NAME=resnet", "config.MODEL.TRUNK.RESNETS.DEPTH=101"),
      List.of("config=pretrain/npid/npid_8gpu_resnet", "config.MODEL.TRUNK.NAME=resnet", "config.MODEL.TRUNK.TRUNK_PARAMS.RESNETS.DEPTH=101"),
      List.of("config=pretrain/npid/npid_8gpu_resnet", "config.DISTRIBUTED.NUM_PROC_PER_NODE=1"),
      List.of("config=pretrain/npid/npid_8gpu_resnet", "config.DISTRIBUTED.NUM_PROC_PER_NODE=8", "config.DISTRIBUTED.NUM_NODES=4"));

  @BeforeAll
  static void load() {
    Torch.load();
  }

  /** The exit code, stdout and stderr of one command. */
  record Outcome(int code, String out, String err) {}

  private static Outcome train(Path run, List<String> page, String... more) {
    List<String> args = new ArrayList<>(List.of("train"));
    args.addAll(page);
    args.add("config.CHECKPOINT.DIR=" + run);
    args.addAll(List.of(more));
    var r = CliTestAccess.cli(args.toArray(String[]::new));
    return new Outcome(r.code(), r.out(), r.err());
  }

  @Test
  void withoutAGpuEachCommandSaysSoInOneLine(@TempDir Path dir) {
    for (List<String> page : PAGE) {
      Path run = dir.resolve("run" + PAGE.indexOf(page));
      var r = train(run, page);
      assertThat(r.code()).as("%s: %s", page, r.err()).isEqualTo(2);
      assertThat(r.err().strip().lines()).as("%s: %s", page, r.err()).hasSize(1);
      // the no-GPU line, or for four nodes on a machine whose rendezvous needs node 0's address, that one
      assertThat(r.err()).as("%s", page).containsAnyOf("config.MACHINE.DEVICE=cpu", "RUN_ID");
      assertThat(r.out()).as("no rank was started: %s", page).doesNotContain("[launch]");
      assertThat(Files.exists(run)).isFalse();
    }
  }

  @Test
  void onTheCpuEachCommandTrainsAStepOrEndsAtItsNextClearError(@TempDir Path dir) throws IOException {
    String[] tiny = {"config.MACHINE.DEVICE=cpu", "config.DISTRIBUTED.BACKEND=gloo", "config.DATA.TRAIN.DATA_SOURCES=[synthetic]",
        "config.DATA.TRAIN.DATA_LIMIT=8", "config.DATA.TRAIN.DEFAULT_GRAY_IMG_SIZE=40", "config.DATA.TRAIN.BATCHSIZE_PER_REPLICA=4",
        "config.DATA.TRAIN.TRANSFORMS=[{name:RandomResizedCrop,size:32},{name:ToTensor}]", "config.DATA.NUM_DATALOADER_WORKERS=1",
        "config.OPTIMIZER.num_epochs=1", "config.OPTIMIZER.param_schedulers.lr.name=constant",
        "config.OPTIMIZER.param_schedulers.lr.value=0.01", "config.OPTIMIZER.param_schedulers.lr.auto_lr_scaling.auto_scale=false",
        "config.LOSS.nce_loss_with_memory.negative_sampling_params.num_negatives=4", "config.LOG_FREQUENCY=1"};
    for (List<String> page : PAGE) {
      Path run = dir.resolve("cpu" + PAGE.indexOf(page));
      List<String> more = new ArrayList<>(List.of(tiny));
      boolean fourNodes = page.contains("config.DISTRIBUTED.NUM_NODES=4") || page.get(0).contains("4nodes");
      if (!fourNodes) {
        more.add("config.DISTRIBUTED.NUM_PROC_PER_NODE=1"); // 8 ranks of ResNet-50 are more than a test needs
      }
      var r = train(run, page, more.toArray(String[]::new));
      if (fourNodes) {
        assertThat(r.code()).as("%s: %s", page, r.err()).isEqualTo(2);
        assertThat(r.err().strip().lines()).hasSize(1);
        assertThat(r.err()).contains("RUN_ID").contains("node 0");
        continue;
      }
      assertThat(r.code()).as("%s: %s", page, r.err()).isZero();
      assertThat(r.out()).contains("[train] epoch 1/1 step 1/2");
      String yaml = Files.readString(run.resolve("train_config.yaml"));
      if (page.stream().anyMatch(a -> a.contains("DEPTH=101"))) {
        assertThat(r.out()).contains("ResNet-101");
        assertThat(yaml).contains("DEPTH: 101");
      }
      if (page.stream().anyMatch(a -> a.contains("TRUNK_PARAMS"))) {
        assertThat(yaml).startsWith("# VISSL spelling given: config.MODEL.TRUNK.TRUNK_PARAMS.RESNETS.DEPTH -> config.MODEL.TRUNK.RESNETS.DEPTH");
      }
    }
  }
}
