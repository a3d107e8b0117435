package dev.npid4j.engine;

import dev.npid4j.weights.CheckpointFile;
import org.junit.jupiter.api.Tag;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.fasterxml.jackson.databind.JsonNode;
import dev.npid4j.UserError;
import dev.npid4j.config.RunConfig;
import dev.npid4j.torch.Torch;
import java.awt.image.BufferedImage;
import java.io.IOException;
import java.io.OutputStream;
import java.io.PrintStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import javax.imageio.ImageIO;
import org.bytedeco.pytorch.OutputArchive;
import org.bytedeco.pytorch.global.torch;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Checkpoints, exact resume and faults, on small synthetic runs (8 steps per epoch). */
@Tag("e2e") // an end-to-end run: left out by mvn -B test -DexcludedGroups=e2e
class ResumeTest {
  private static final PrintStream QUIET = new PrintStream(OutputStream.nullOutputStream());

  @BeforeAll
  static void load() {
    Torch.load();
  }

  @AfterEach
  void clearSignal() {
    StopSignal.reset();
  }

  /** Synthetic train and test data, a dropout in the head (exercises the saved generator state). */
  static List<String> config(Path run, String... extra) {
    List<String> args = new ArrayList<>(List.of("config=quickstart/npid_fashion_mnist", "config.CHECKPOINT.DIR=" + run,
        "config.DATA.TRAIN.DATA_SOURCES=[synthetic]", "config.DATA.TRAIN.DATA_LIMIT=256",
        "config.DATA.TRAIN.DEFAULT_GRAY_IMG_SIZE=12", "config.DATA.TRAIN.RANDOM_SYNTHETIC_LABELS=4",
        "config.DATA.TRAIN.TRANSFORMS=[{name:RandomResizedCrop,size:12},{name:RandomHorizontalFlip},{name:ToTensor}]",
        "config.DATA.TEST.DATA_SOURCES=[synthetic]", "config.DATA.TEST.DATA_LIMIT=64",
        "config.DATA.TEST.DEFAULT_GRAY_IMG_SIZE=12", "config.DATA.TEST.RANDOM_SYNTHETIC_LABELS=4",
        "config.DATA.TEST.TRANSFORMS=[{name:ToTensor}]", "config.KNN_MONITOR.RAW_PIXEL_BASELINE=false",
        "config.DATA.TRAIN.BATCHSIZE_PER_REPLICA=32", "config.DATA.NUM_DATALOADER_WORKERS=2",
        "config.MODEL.HEAD.PARAMS=[[mlp,{dims:[128,64,32],use_relu:true,use_dropout:true}]]",
        "config.LOSS.nce_loss_with_memory.memory_params.embedding_dim=32",
        "config.LOSS.nce_loss_with_memory.negative_sampling_params.num_negatives=64",
        "config.OPTIMIZER.num_epochs=3", "config.LOG_FREQUENCY=4", "config.CHECKPOINT.CHECKPOINT_ITER_FREQUENCY=3"));
    args.addAll(List.of(extra));
    return args;
  }

  static TrainSummary train(List<String> args, long stopAtStep) {
    return train(args, stopAtStep, new LossSum());
  }

  static TrainSummary train(List<String> args, long stopAtStep, LossSum sum) {
    return new Trainer(RunConfig.fromArgs(args), QUIET).addListener(sum).addListener(TrainingListener.onEachStep(s -> {
      if (s.globalStep() == stopAtStep) {
        StopSignal.request("SIGTERM");
      }
    })).run();
  }

  /** A listener with its own state: the sum of every step's loss, kept across resumes through the checkpoints. */
  static final class LossSum implements TrainingListener {
    double sum;
    long steps;

    @Override
    public void onStep(Step step) {
      sum += step.loss();
      steps++;
    }

    @Override
    public String stateKey() {
      return "test_loss_sum";
    }

    @Override
    public Object saveState() {
      return java.util.Map.of("sum", sum, "steps", steps);
    }

    @Override
    public void restoreState(JsonNode state) {
      if (state != null) {
        sum = state.get("sum").asDouble();
        steps = state.get("steps").asLong();
      }
    }
  }

  @Test
  void interruptedRunsEndBitwiseIdenticalToAnUninterruptedOne(@TempDir Path dir) throws IOException {
    Path ref = dir.resolve("ref");
    LossSum refSum = new LossSum();
    TrainSummary r = train(config(ref), -1, refSum);
    assertThat(r.steps()).isEqualTo(24);
    assertThat(ref.resolve("model_iteration3.torch")).exists();
    assertThat(ref.resolve("model_phase0.torch")).exists();

    Path run = dir.resolve("run");
    TrainSummary first = train(config(run), 5); // mid-epoch: an iteration checkpoint at step 5
    assertThat(first.stoppedBySignal()).isTrue();
    assertThat(run.resolve("model_iteration5.torch")).exists();
    StopSignal.reset();
    TrainSummary second = train(config(run), 16); // end of epoch 2: the phase checkpoint
    assertThat(second.stoppedBySignal()).isTrue();
    assertThat(Files.readSymbolicLink(run.resolve("checkpoint.torch")).toString()).isEqualTo("model_phase1.torch");
    StopSignal.reset();
    LossSum resumedSum = new LossSum();
    TrainSummary third = train(config(run), -1, resumedSum);
    assertThat(third.stoppedBySignal()).isFalse();
    assertThat(third.steps()).isEqualTo(24);
    // a listener's own state came back from the checkpoint: it has seen all 24 steps, with their losses
    assertThat(resumedSum.steps).isEqualTo(24);
    assertThat(resumedSum.sum).isEqualTo(refSum.sum);

    assertThat(CheckpointCompare.differences(ref.resolve("model_final_checkpoint_phase2.torch"),
        run.resolve("model_final_checkpoint_phase2.torch"))).isEmpty();
    JsonNode a = MetricsLog.JSON.readTree(ref.resolve("knn.json").toFile());
    JsonNode b = MetricsLog.JSON.readTree(run.resolve("knn.json").toFile());
    assertThat(b.get("history")).isEqualTo(a.get("history"));
    assertThat(epochLosses(run)).containsExactlyElementsOf(epochLosses(ref));
  }

  @Test
  void aDifferentCheckpointReallyDiffers(@TempDir Path dir) throws IOException {
    train(config(dir.resolve("a")), -1);
    train(config(dir.resolve("b"), "config.SEED_VALUE=1"), -1);
    assertThat(CheckpointCompare.differences(dir.resolve("a/model_final_checkpoint_phase2.torch"),
        dir.resolve("b/model_final_checkpoint_phase2.torch"))).contains("loss.memory");
  }

  /**
   * A run directory from before checkpoint format 2 (libtorch archives, written here as the former
   * Checkpoints.save wrote them) resumes through the safe reader and ends bitwise identical.
   */
  @Test
  void aFormerLibtorchArchiveCheckpointResumesExactly(@TempDir Path dir) throws IOException {
    Path ref = dir.resolve("ref");
    train(config(ref), -1);
    Path run = dir.resolve("run");
    train(config(run), 5);
    StopSignal.reset();
    Path ck = run.resolve("model_iteration5.torch");
    CheckpointFile f2 = CheckpointFile.read(ck);
    assertThat(f2.format()).isEqualTo(2);
    writeFormat1(f2, ck);
    assertThat(CheckpointFile.read(ck).format()).isEqualTo(1);
    assertThat(CheckpointCompare.differences(ck, ck)).isEmpty();
    train(config(run), -1);
    assertThat(CheckpointCompare.differences(ref.resolve("model_final_checkpoint_phase2.torch"),
        run.resolve("model_final_checkpoint_phase2.torch"))).isEmpty();
  }

  /** The layout of checkpoint format 1: nested libtorch archives (model by module path), scalars as tensors, JSON as bytes. */
  private static void writeFormat1(CheckpointFile c, Path file) throws IOException {
    OutputArchive root = new OutputArchive();
    root.write("format", torch.tensor(1L));
    java.util.Map<String, OutputArchive> modules = new java.util.TreeMap<>();
    modules.put("", new OutputArchive());
    c.model().forEach((k, v) -> {
      String[] parts = k.split("\\.");
      String path = "";
      for (int i = 0; i < parts.length - 1; i++) {
        path = path.isEmpty() ? parts[i] : path + "." + parts[i];
        modules.computeIfAbsent(path, p -> new OutputArchive());
      }
      modules.get(path).write(parts[parts.length - 1], v);
    });
    // children into parents, deepest first
    List<String> paths = new ArrayList<>(modules.keySet());
    paths.sort(java.util.Comparator.comparingInt((String p) -> p.split("\\.").length).reversed());
    for (String p : paths) {
      if (!p.isEmpty()) {
        int dot = p.lastIndexOf('.');
        modules.get(dot < 0 ? "" : p.substring(0, dot)).write(p.substring(dot + 1), modules.get(p));
      }
    }
    root.write("model", modules.get(""));
    OutputArchive l = new OutputArchive();
    l.write("memory", c.memory());
    l.write("Z", torch.tensor(c.z()));
    root.write("loss", l);
    OutputArchive o = new OutputArchive();
    c.momentum().forEach((i, t) -> o.write("momentum_buffer_" + i, t));
    o.write("started", torch.tensor(c.started() ? 1L : 0L));
    root.write("optimizer", o);
    root.write("epoch", torch.tensor((long) c.epoch()));
    root.write("step_in_epoch", torch.tensor((long) c.stepInEpoch()));
    root.write("iteration", torch.tensor(c.iteration()));
    root.write("rng_state", c.rngState());
    root.write("meta_json", dev.npid4j.torch.Tensors.fromBytes(c.metaJson().getBytes(java.nio.charset.StandardCharsets.UTF_8)));
    Files.delete(file);
    root.save_to(file.toString());
  }

  @Test
  void keepsTheLastNAndResumesFromTheNewest(@TempDir Path dir) throws IOException {
    Path run = dir.resolve("run");
    train(config(run, "config.CHECKPOINT.KEEP_LAST_N=2"), 14);
    List<String> names;
    try (var s = Files.list(run)) {
      names = s.map(p -> p.getFileName().toString()).filter(f -> f.startsWith("model_")).sorted().toList();
    }
    assertThat(names).containsExactly("model_iteration12.torch", "model_iteration14.torch");
  }

  @Test
  void refusesIncompatibleOrForeignRunDirectories(@TempDir Path dir) throws IOException {
    Path old = Files.createDirectories(dir.resolve("old"));
    OutputArchive a = new OutputArchive();
    a.write("format", torch.tensor(99L));
    a.save_to(old.resolve("model_phase0.torch").toString());
    assertThatThrownBy(() -> train(config(old), -1)).isInstanceOf(UserError.class)
        .hasMessageContaining("incompatible npid4j").hasMessageContaining("format 99");
    assertThat(old.resolve("model_phase0.torch")).exists();

    Path run = dir.resolve("run");
    train(config(run), 8);
    StopSignal.reset();
    assertThatThrownBy(() -> train(config(run, "config.DATA.TRAIN.DATA_LIMIT=200"), -1)).isInstanceOf(UserError.class)
        .hasMessageContaining("use another config.CHECKPOINT.DIR");
    assertThatThrownBy(() -> train(config(run, "config.CHECKPOINT.AUTO_RESUME=false"), -1)).isInstanceOf(UserError.class)
        .hasMessageContaining("AUTO_RESUME");
    assertThat(run.resolve("model_phase0.torch")).exists();
  }

  @Test
  void nonFiniteLossStopsWithTheStepBatchAndLastCheckpoint(@TempDir Path dir) {
    Path run = dir.resolve("run");
    assertThatThrownBy(() -> train(config(run, "config.OPTIMIZER.param_schedulers.lr={name:constant,value:1.0e30}",
        "config.CHECKPOINT.CHECKPOINT_ITER_FREQUENCY=1"), -1))
        .isInstanceOf(TrainingFailure.class)
        .hasMessageMatching("(?s)loss is (NaN|Infinity|-Infinity) at epoch 1 step \\d+ .*batch sample indices start \\[.*")
        .hasMessageContaining("last good checkpoint is " + run.toAbsolutePath());
  }

  @Test
  void unreadableImagesAreReplacedCountedAndListed(@TempDir Path dir) throws IOException {
    Path data = dir.resolve("images");
    for (String cls : new String[] {"a", "b"}) {
      Files.createDirectories(data.resolve(cls));
      for (int i = 0; i < 12; i++) {
        BufferedImage img = new BufferedImage(14, 14, BufferedImage.TYPE_INT_RGB);
        img.setRGB(i % 14, (i * 3) % 14, cls.equals("a") ? 0xffffff : 0x00ff00);
        ImageIO.write(img, "png", data.resolve(cls).resolve("img" + i + ".png").toFile());
      }
    }
    Files.write(data.resolve("a/empty.png"), new byte[0]);
    Files.writeString(data.resolve("b/text.jpg"), "this is not a jpeg");
    byte[] png = Files.readAllBytes(data.resolve("a/img1.png"));
    Files.write(data.resolve("b/truncated.png"), java.util.Arrays.copyOf(png, png.length / 3));
    Path run = dir.resolve("run");
    List<String> args = new ArrayList<>(config(run, "config.DATA.TRAIN.DATA_SOURCES=[disk_folder]", "config.DATA.TRAIN.DATA_PATHS=[" + data + "]",
        "config.DATA.TRAIN.DATA_LIMIT=-1", "config.MODEL.INPUT_TYPE=rgb", "config.DATA.TRAIN.BATCHSIZE_PER_REPLICA=9",
        "config.OPTIMIZER.num_epochs=1", "config.KNN_MONITOR.FREQUENCY=-1", "config.DATA.TRAIN.DEFAULT_GRAY_IMG_SIZE=14"));
    TrainSummary s = train(args, -1);
    assertThat(s.steps()).isEqualTo(3);
    List<String> listed = Files.readAllLines(run.resolve("unreadable_images.txt"));
    assertThat(listed).hasSize(3).allMatch(l -> l.endsWith("empty.png") || l.endsWith("text.jpg") || l.endsWith("truncated.png"));
    assertThat(Files.readString(run.resolve("metrics.jsonl"))).contains("\"unreadable_images\":3");
  }

  @Test
  void aFullDiskKeepsThePreviousCheckpoint(@TempDir Path dir) throws Exception {
    Path mnt = Files.createDirectories(dir.resolve("small"));
    Process p = new ProcessBuilder("mount", "-t", "tmpfs", "-o", "size=8m", "tmpfs", mnt.toString()).redirectErrorStream(true).start();
    org.junit.jupiter.api.Assumptions.assumeTrue(p.waitFor() == 0, "cannot mount a small tmpfs here (needs root)");
    try {
      Path run = mnt.resolve("run");
      // a checkpoint is ~5.7 MB (weights + momentum): the first fits, the second does not
      assertThatThrownBy(() -> train(config(run, "config.CHECKPOINT.CHECKPOINT_ITER_FREQUENCY=-1"), -1))
          .isInstanceOf(TrainingFailure.class).hasMessageContaining("cannot write checkpoint")
          .hasMessageContaining("model_phase0.torch is intact");
      assertThat(CheckpointCompare.differences(run.resolve("model_phase0.torch"), run.resolve("model_phase0.torch"))).isEmpty();
      try (var s = Files.list(run)) {
        assertThat(s.map(f -> f.getFileName().toString())).noneMatch(f -> f.contains(".tmp"));
      }
    } finally {
      new ProcessBuilder("umount", mnt.toString()).start().waitFor();
    }
  }

  private static List<Double> epochLosses(Path run) throws IOException {
    List<Double> out = new ArrayList<>();
    for (String line : Files.readAllLines(run.resolve("metrics.jsonl"))) {
      JsonNode n = MetricsLog.JSON.readTree(line);
      if (n.get("type").asText().equals("epoch")) {
        out.add(n.get("loss").asDouble());
      }
    }
    return out;
  }
}
