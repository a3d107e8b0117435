package dev.npid4j.engine;

import org.junit.jupiter.api.Tag;
import static org.assertj.core.api.Assertions.assertThat;

import dev.npid4j.config.RunConfig;
import dev.npid4j.torch.Torch;
import java.io.IOException;
import java.io.OutputStream;
import java.io.PrintStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * libtorch memory is freed by scope, not by the GC: 2000+ real training steps (synthetic data,
 * tiny ResNet) must leave the resident set flat after warm-up.
 */
@Tag("e2e") // an end-to-end run: left out by mvn -B test -DexcludedGroups=e2e
class NativeMemoryTest {
  @Test
  void residentMemoryStaysFlatOver2000Steps(@TempDir Path dir) {
    Torch.load();
    RunConfig cfg = RunConfig.fromArgs(List.of("config=quickstart/npid_fashion_mnist",
        "config.CHECKPOINT.DIR=" + dir.resolve("run"),
        "config.DATA.TRAIN.DATA_SOURCES=[synthetic]", "config.DATA.TRAIN.DATA_LIMIT=256",
        "config.DATA.TRAIN.DEFAULT_GRAY_IMG_SIZE=12", "config.DATA.TRAIN.RANDOM_SYNTHETIC_LABELS=4",
        "config.DATA.TRAIN.TRANSFORMS=[{name:RandomResizedCrop,size:8},{name:RandomHorizontalFlip},{name:ToTensor}]",
        "config.DATA.TRAIN.BATCHSIZE_PER_REPLICA=8", "config.DATA.NUM_DATALOADER_WORKERS=1",
        "config.MODEL.TRUNK.RESNETS.BASE_WIDTH=16", "config.MODEL.HEAD.PARAMS=[[mlp,{dims:[128,16]}]]",
        "config.LOSS.nce_loss_with_memory.memory_params.embedding_dim=16",
        "config.LOSS.nce_loss_with_memory.negative_sampling_params.num_negatives=64",
        "config.OPTIMIZER.num_epochs=66", "config.LOG_FREQUENCY=100000", "config.CHECKPOINT.CHECKPOINT_FREQUENCY=1000",
        "config.KNN_MONITOR.FREQUENCY=-1"));
    long[] rss = new long[2];
    long[] steps = new long[1];
    new Trainer(cfg, new PrintStream(OutputStream.nullOutputStream())).addListener(TrainingListener.onEachStep(s -> {
      steps[0] = s.globalStep();
      if (s.globalStep() == 300) {
        rss[0] = residentBytes();
      }
    })).run();
    rss[1] = residentBytes();
    long growthMb = (rss[1] - rss[0]) >> 20;
    System.out.printf("native memory: RSS %d MB after 300 steps, %d MB after %d steps (+%d MB)%n",
        rss[0] >> 20, rss[1] >> 20, steps[0], growthMb);
    assertThat(steps[0]).isGreaterThanOrEqualTo(2000);
    assertThat(growthMb).as("RSS growth after warm-up").isLessThan(50);
  }

  static long residentBytes() {
    try {
      for (String line : Files.readAllLines(Path.of("/proc/self/status"))) {
        if (line.startsWith("VmRSS:")) {
          return Long.parseLong(line.replaceAll("[^0-9]", "")) * 1024;
        }
      }
    } catch (IOException e) {
      throw new IllegalStateException(e);
    }
    throw new IllegalStateException("no VmRSS in /proc/self/status");
  }
}
