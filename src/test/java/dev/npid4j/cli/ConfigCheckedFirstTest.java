package dev.npid4j.cli;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Mistakes that only show when the config is read as a whole (a head that does not fit its trunk,
 * a transform or LR schedule that does not exist) are one-line user errors before anything else
 * happens: the data paths below do not exist, so had any data been opened first, the error would
 * name the data, not the config.
 */
class ConfigCheckedFirstTest {
  private static CliTest.Result train(Path dir, String... overrides) {
    String[] args = new String[overrides.length + 5];
    args[0] = "train";
    args[1] = "config=pretrain/npid/npid_8gpu_resnet";
    args[2] = "config.DISTRIBUTED.NUM_PROC_PER_NODE=1";
    args[3] = "config.DATA.TRAIN.DATA_PATHS=[" + dir.resolve("no-such-images") + "]";
    args[4] = "config.CHECKPOINT.DIR=" + dir.resolve("run");
    System.arraycopy(overrides, 0, args, 5, overrides.length);
    return CliTest.cli(args);
  }

  private static void assertConfigError(CliTest.Result r, Path dir, String... fragments) {
    assertThat(r.code()).as("exit code; stderr: %s", r.err()).isEqualTo(2);
    assertThat(r.err().strip().lines()).as("stderr: %s", r.err()).hasSize(1);
    assertThat(r.err()).startsWith("npid4j: error: config.").doesNotContain("no-such-images");
    for (String f : fragments) {
      assertThat(r.err()).contains(f);
    }
    assertThat(r.out()).isEmpty();
    assertThat(Files.exists(dir.resolve("run"))).isFalse();
  }

  @Test
  void aHeadNarrowerThanItsTrunk(@TempDir Path dir) {
    // ResNet-18 gives 512-d features; npid_8gpu_resnet's head takes ResNet-50's 2048
    assertConfigError(train(dir, "config.MODEL.TRUNK.RESNETS.DEPTH=18"), dir, "config.MODEL.HEAD.PARAMS[0] takes 2048-d input",
        "gives 512-d features", "set its dims[0] to 512");
  }

  @Test
  void anUnknownTransform(@TempDir Path dir) {
    assertConfigError(train(dir, "config.DATA.TRAIN.TRANSFORMS=[{name:RandomResizedCrp,size:224},{name:ToTensor}]"), dir,
        "config.DATA.TRAIN.TRANSFORMS[0]", "did you mean 'RandomResizedCrop'");
  }

  @Test
  void anUnknownLrSchedule(@TempDir Path dir) {
    assertConfigError(train(dir, "config.OPTIMIZER.param_schedulers.lr.name=cosin"), dir, "config.OPTIMIZER.param_schedulers.lr",
        "did you mean 'cosine'?");
  }

  @Test
  void milestonesPastTheLastEpoch(@TempDir Path dir) {
    assertConfigError(train(dir, "config.OPTIMIZER.num_epochs=100"), dir, "milestones must increase and stay below num_epochs (100)");
  }

  @Test
  void aBankNarrowerThanTheEmbeddings(@TempDir Path dir) {
    assertConfigError(train(dir, "config.LOSS.nce_loss_with_memory.memory_params.embedding_dim=64"), dir,
        "memory_params.embedding_dim is 64 but the model outputs 128-d embeddings");
  }
}
