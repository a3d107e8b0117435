package dev.npid4j.listeners;

import org.junit.jupiter.api.Tag;
import static org.assertj.core.api.Assertions.assertThat;

import dev.npid4j.config.RunConfig;
import dev.npid4j.engine.TrainSummary;
import dev.npid4j.engine.Trainer;
import dev.npid4j.engine.TrainingListener;
import dev.npid4j.engine.TrainingRun;
import java.io.OutputStream;
import java.io.PrintStream;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * A listener written outside the engine package sees the whole run through the public interface
 * alone: start, every step in order, every epoch's metrics record (the built-in listeners' entries
 * included), each checkpoint, the end.
 */
@Tag("e2e") // an end-to-end run: left out by mvn -B test -DexcludedGroups=e2e
class ExternalListenerTest {
  static final class Recorder implements TrainingListener {
    final List<String> events = new ArrayList<>();
    final List<Step> steps = new ArrayList<>();
    final List<EpochEnd> epochs = new ArrayList<>();
    TrainingRun run;
    long bankRows;
    TrainSummary summary;

    @Override
    public void onStart(TrainingRun run) {
      this.run = run;
      this.bankRows = run.loss().memory().size(0); // the live bank: freed when the run ends
      events.add("start");
    }

    @Override
    public void onEpochStart(int epoch) {
      events.add("epoch-start " + epoch);
    }

    @Override
    public void onStep(Step step) {
      steps.add(step);
    }

    @Override
    public void onEpochEnd(EpochEnd epoch) {
      epochs.add(epoch);
      events.add("epoch-end " + epoch.epoch());
    }

    @Override
    public void onCheckpoint(Path file) {
      events.add("checkpoint " + file.getFileName());
    }

    @Override
    public void onEnd(TrainSummary summary) {
      this.summary = summary;
      events.add("end");
    }
  }

  @Test
  void seesEveryStepAndEpoch(@TempDir Path dir) {
    RunConfig cfg = RunConfig.fromArgs(List.of("config=quickstart/npid_fashion_mnist", "config.CHECKPOINT.DIR=" + dir.resolve("run"),
        "config.DATA.TRAIN.DATA_SOURCES=[synthetic]", "config.DATA.TRAIN.DATA_LIMIT=64", "config.DATA.TRAIN.DEFAULT_GRAY_IMG_SIZE=12",
        "config.DATA.TRAIN.RANDOM_SYNTHETIC_LABELS=4",
        "config.DATA.TRAIN.TRANSFORMS=[{name:RandomResizedCrop,size:12},{name:ToTensor}]",
        "config.DATA.TEST.DATA_SOURCES=[synthetic]", "config.DATA.TEST.DATA_LIMIT=32", "config.DATA.TEST.DEFAULT_GRAY_IMG_SIZE=12",
        "config.DATA.TEST.RANDOM_SYNTHETIC_LABELS=4", "config.DATA.TEST.TRANSFORMS=[{name:ToTensor}]",
        "config.KNN_MONITOR.RAW_PIXEL_BASELINE=false", "config.DATA.TRAIN.BATCHSIZE_PER_REPLICA=16",
        "config.MODEL.HEAD.PARAMS=[[mlp,{dims:[128,32]}]]", "config.LOSS.nce_loss_with_memory.memory_params.embedding_dim=32",
        "config.LOSS.nce_loss_with_memory.negative_sampling_params.num_negatives=16", "config.OPTIMIZER.num_epochs=2",
        "config.LOG_FREQUENCY=2"));
    Recorder r = new Recorder();
    TrainSummary s = new Trainer(cfg, new PrintStream(OutputStream.nullOutputStream())).addListener(r).run();

    assertThat(s.steps()).isEqualTo(8);
    assertThat(r.run.stepsPerEpoch()).isEqualTo(4);
    assertThat(r.run.lead()).isTrue();
    assertThat(r.bankRows).isEqualTo(64);
    assertThat(r.steps).extracting(TrainingListener.Step::globalStep).containsExactly(1L, 2L, 3L, 4L, 5L, 6L, 7L, 8L);
    assertThat(r.steps).extracting(TrainingListener.Step::stepInEpoch).containsExactly(1, 2, 3, 4, 1, 2, 3, 4);
    assertThat(r.steps).allSatisfy(st -> {
      assertThat(st.trained()).isTrue();
      assertThat(st.loss()).isFinite();
      assertThat(st.images()).isEqualTo(16);
    });
    // the epoch record reaches a user's listener with the built-in kNN monitor's figures in it
    assertThat(r.epochs).hasSize(2);
    assertThat(r.epochs.get(1).last()).isTrue();
    assertThat(r.epochs.get(1).record()).containsKeys("loss", "lr", "img_per_s", "Z", "knn_top1");
    assertThat(r.events).containsExactly("start", "epoch-start 0", "epoch-end 0", "checkpoint model_phase0.torch", "epoch-start 1",
        "epoch-end 1", "checkpoint model_final_checkpoint_phase1.torch", "end");
    assertThat(r.summary.steps()).isEqualTo(8);
    assertThat(r.summary.knn()).isNotNull();
  }
}
