package dev.npid4j.distributed;

import org.junit.jupiter.api.Tag;
import static org.assertj.core.api.Assertions.assertThat;

import dev.npid4j.cli.Main;
import dev.npid4j.config.RunConfig;
import dev.npid4j.engine.Checkpoints;
import dev.npid4j.engine.Trainer;
import dev.npid4j.torch.Torch;
import java.io.IOException;
import java.io.OutputStream;
import java.io.PrintStream;
import java.lang.management.ManagementFactory;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import org.bytedeco.javacpp.PointerScope;
import org.bytedeco.pytorch.Tensor;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Real multi-process runs on 127.0.0.1: c10d TCPStore rendezvous and Gloo collectives between JVMs. */
@Tag("e2e") // an end-to-end run: left out by mvn -B test -DexcludedGroups=e2e
class DistributedTrainingTest {
  @BeforeAll
  static void load() {
    Torch.load();
  }

  /** Synthetic 12x12 data, a GroupNorm trunk and a head without BatchNorm: nothing depends on how the batch is split. */
  static List<String> config(Path run, int ranks, int globalBatch, String... extra) {
    List<String> args = new ArrayList<>(List.of("config=quickstart/npid_fashion_mnist", "config.CHECKPOINT.DIR=" + run,
        "config.DATA.TRAIN.DATA_SOURCES=[synthetic]", "config.DATA.TRAIN.DATA_LIMIT=320",
        "config.DATA.TRAIN.DEFAULT_GRAY_IMG_SIZE=12", "config.DATA.TRAIN.RANDOM_SYNTHETIC_LABELS=4",
        "config.DATA.TRAIN.TRANSFORMS=[{name:RandomResizedCrop,size:12},{name:RandomHorizontalFlip},{name:ToTensor}]",
        "config.KNN_MONITOR.FREQUENCY=-1", "config.DATA.NUM_DATALOADER_WORKERS=1", "config.MACHINE.NUM_THREADS=1",
        "config.MODEL.TRUNK.RESNETS.NORM=GroupNorm", "config.MODEL.TRUNK.RESNETS.GROUPNORM_GROUPS=4",
        "config.MODEL.HEAD.PARAMS=[[mlp,{dims:[128,32]}]]",
        "config.LOSS.nce_loss_with_memory.memory_params.embedding_dim=32",
        "config.LOSS.nce_loss_with_memory.memory_params.same_init_on_all_ranks=true",
        "config.LOSS.nce_loss_with_memory.negative_sampling_params.num_negatives=64",
        // VISSL's maths (the quickstart's fast modes off): float32, K negatives per sample
        "config.MODEL.AMP_PARAMS.USE_AMP=false", "config.LOSS.nce_loss_with_memory.negative_sampling_params.type=random",
        "config.DATA.TRAIN.BATCHSIZE_PER_REPLICA=" + globalBatch / ranks,
        "config.DISTRIBUTED.NUM_PROC_PER_NODE=" + ranks, "config.DISTRIBUTED.TIMEOUT_SECONDS=60",
        "config.OPTIMIZER.num_epochs=2", "config.LOG_FREQUENCY=5",
        // the schedule the 1e-5 tolerance was set on: rounding differences between 2 x 16 and
        // 1 x 32 grow with the LR, and a quarter-length warm-up (the 4-epoch quickstart's) reached 4e-5
        dev.npid4j.cli.CliTestAccess.THIRD_WARMUP));
    args.addAll(List.of(extra));
    return args;
  }

  @Test
  void twoRanksWithHalfBatchesTrainLikeOneRankWithTheWholeBatch(@TempDir Path dir) throws Exception {
    // 160 images: 5 steps an epoch, 2 epochs. Rounding differs between 2 x 16 and 1 x 32 (oneDNN
    // blocks the batch differently), and once a step lands on a tie (a ReLU input at zero, common
    // in these flat synthetic images) the two runs part and SGD amplifies the gap: on an AVX2-only
    // host, 20 steps measured 1.5e-3 (320 images) and 1.3e-1 (256 images), 10 steps 1.2e-6. The
    // claim is about the arithmetic of the split, so it is checked before any such tie.
    String[] tenSteps = {"config.DATA.TRAIN.DATA_LIMIT=160"};
    Path one = dir.resolve("one");
    new Trainer(RunConfig.fromArgs(config(one, 1, 32, tenSteps)), new PrintStream(OutputStream.nullOutputStream())).run();

    Path two = dir.resolve("two");
    Run launcher = Run.start(dir.resolve("two.log"), Map.of(), concat("train", config(two, 2, 32, tenSteps)));
    assertThat(launcher.waitFor(240)).as(launcher.log()).isEqualTo(0);
    assertThat(launcher.log()).contains("rank 0 of 2 (c10d Gloo)");

    // 160 images / global batch 32 = 5 steps per epoch, 2 epochs: 10 steps on each side
    assertSameWeightsAndBank(one, two, "GroupNorm", 10);
    // only rank 0 writes the run directory, and it logged the global batch and the all-reduce share
    String metrics = Files.readString(two.resolve("metrics.jsonl"));
    assertThat(metrics).contains("\"allreduce_share\"").contains("\"world_size\":2");
    assertThat(metrics.lines().filter(l -> l.contains("\"type\":\"epoch\"")).count()).isEqualTo(2);
  }

  /**
   * VISSL's CONVERT_BN_TO_SYNC_BN: plain BatchNorm on one rank x 32 against SyncBatchNorm on two
   * ranks x 16, compared after one step: the gradients (SGD's momentum buffers; the first step's
   * LR is 0 in the warm-up), the BatchNorm running statistics and the memory bank. One step, not
   * 20: with BatchNorm on these small synthetic images even one rank with 1 against 2 threads
   * parts by 1e-3 within 20 steps (ReLU inputs at 0 in flat regions flip with the last bit),
   * which the GroupNorm test above avoids. SyncBatchNormTest checks the arithmetic itself.
   */
  @Test
  void syncBatchNormOnTwoRanksComputesTheGradientsOfBatchNormOnOneRank(@TempDir Path dir) throws Exception {
    // the bank filled from the model: rank 0 forwards the one batch alone, with SyncBatchNorm suspended
    String[] oneStep = {"config.MODEL.TRUNK.RESNETS.NORM=BatchNorm", "config.DATA.TRAIN.DATA_LIMIT=32", "config.OPTIMIZER.num_epochs=1",
        "config.LOSS.nce_loss_with_memory.memory_params.init_from_model=true"};
    Path one = dir.resolve("one");
    new Trainer(RunConfig.fromArgs(config(one, 1, 32, oneStep)), new PrintStream(OutputStream.nullOutputStream())).run();

    Path two = dir.resolve("two");
    String[] args = concat(concat("train", config(two, 2, 32, oneStep)), List.of("config.MODEL.SYNC_BN_CONFIG.CONVERT_BN_TO_SYNC_BN=true"));
    Run launcher = Run.start(dir.resolve("two.log"), Map.of(), args);
    assertThat(launcher.waitFor(240)).as(launcher.log()).isEqualTo(0);
    assertThat(launcher.log()).contains("SyncBatchNorm (CONVERT_BN_TO_SYNC_BN)");
    double synced = largestRelativeDifference(one, two, true);
    System.out.printf("SyncBatchNorm, 2 ranks x 16 vs BatchNorm, 1 rank x 32, after 1 step: largest relative difference %.2e (%s)%n",
        synced, worstKey);
    assertThat(synced).as(worstKey).isLessThanOrEqualTo(1e-5);

    // without SyncBN each rank normalises over its own 16 images: other gradients and statistics
    Path local = dir.resolve("local");
    Run plain = Run.start(dir.resolve("local.log"), Map.of(), concat("train", config(local, 2, 32, oneStep)));
    assertThat(plain.waitFor(240)).as(plain.log()).isEqualTo(0);
    assertThat(largestRelativeDifference(one, local, true)).isGreaterThan(1e-2);
  }

  /** Model tensors (BatchNorm buffers included) and the memory bank of two finished runs agree within 1e-5 relative. */
  private static void assertSameWeightsAndBank(Path one, Path two, String what, int steps) throws IOException {
    double worst = largestRelativeDifference(one, two, false);
    System.out.printf("%s, 2 ranks x 16 vs 1 rank x 32 after %d steps: largest relative difference %.2e (%s)%n", what, steps, worst, worstKey);
    assertThat(worst).as(worstKey).isLessThanOrEqualTo(1e-5);
  }

  /** The tensor with the largest difference in the last comparison. */
  private static String worstKey = "";

  /** Over the model's tensors and the memory bank (and SGD's momentum buffers if asked), max |a - b| / max |a| of the worst tensor. */
  private static double largestRelativeDifference(Path one, Path two, boolean momentum) throws IOException {
    Path a = Checkpoints.finalCheckpoint(one).orElseThrow();
    Path b = Checkpoints.finalCheckpoint(two).orElseThrow();
    int compared = 0;
    double worst = 0;
    try (PointerScope s = new PointerScope()) {
      Map<String, Tensor> x = dev.npid4j.weights.CheckpointFile.read(a).tensors();
      Map<String, Tensor> y = dev.npid4j.weights.CheckpointFile.read(b).tensors();
      for (String k : x.keySet()) {
        boolean wanted = k.startsWith("model.") || k.contains("memory") || (momentum && k.contains("momentum_buffer"));
        if (!wanted || !x.get(k).is_floating_point()) {
          continue;
        }
        Tensor u = x.get(k);
        Tensor v = y.get(k);
        double scale = Math.max(1e-12, u.abs().max().item_double());
        double relative = u.sub(v).abs().max().item_double() / scale;
        if (relative >= worst) {
          worst = relative;
          worstKey = k;
        }
        compared++;
      }
    }
    assertThat(compared).isGreaterThan(20);
    return worst;
  }

  @Test
  void whenOneNodeDiesTheOtherStopsWithAMessageAndTheJobResumes(@TempDir Path dir) throws Exception {
    Path run = dir.resolve("run");
    int port = freePort();
    String[] common = concat("train", config(run, 1, 16, "config.DATA.TRAIN.DATA_LIMIT=2048", "config.OPTIMIZER.num_epochs=4",
        "config.DISTRIBUTED.NUM_NODES=2", "config.DISTRIBUTED.RUN_ID=127.0.0.1:" + port, "config.DISTRIBUTED.TIMEOUT_SECONDS=20"));
    Run node0 = Run.start(dir.resolve("node0.log"), Map.of(), concat(common, List.of("node_id=0")));
    Run node1 = Run.start(dir.resolve("node1.log"), Map.of(), concat(common, List.of("node_id=1")));
    long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(180);
    while (!Files.exists(run.resolve("model_phase0.torch")) && System.nanoTime() < deadline && node0.alive()) {
      Thread.sleep(50);
    }
    assertThat(run.resolve("model_phase0.torch")).as(node0.log()).exists();
    node1.process.destroyForcibly(); // SIGKILL: no goodbye
    long killed = System.nanoTime();
    int code = node0.waitFor(60);
    double seconds = (System.nanoTime() - killed) / 1e9;
    assertThat(code).as(node0.log()).isEqualTo(1);
    assertThat(seconds).as("node 0 noticed within the 20 s timeout").isLessThan(25);
    assertThat(node0.log()).contains("npid4j: training stopped: rank 0 of 2").contains("Rank 1 has stopped answering")
        .contains("running the same command again");

    Run again0 = Run.start(dir.resolve("again0.log"), Map.of(), concat(common, List.of("node_id=0")));
    Run again1 = Run.start(dir.resolve("again1.log"), Map.of(), concat(common, List.of("node_id=1")));
    assertThat(again0.waitFor(240)).as(again0.log()).isEqualTo(0);
    assertThat(again1.waitFor(60)).as(again1.log()).isEqualTo(0);
    assertThat(again0.log()).contains("resumed from model_phase");
    assertThat(Checkpoints.finalCheckpoint(run)).isPresent();
  }

  private static String[] concat(String first, List<String> rest) {
    List<String> all = new ArrayList<>();
    all.add(first);
    all.addAll(rest);
    return all.toArray(String[]::new);
  }

  private static String[] concat(String[] first, List<String> rest) {
    List<String> all = new ArrayList<>(List.of(first));
    all.addAll(rest);
    return all.toArray(String[]::new);
  }

  /** {@code npid4j <args>} in a fresh JVM of this JVM's kind, output to a log file. */
  record Run(Process process, Path logFile) {
    static Run start(Path log, Map<String, String> env, String... args) throws IOException {
      List<String> cmd = new ArrayList<>();
      cmd.add(ProcessHandle.current().info().command().orElseThrow());
      cmd.addAll(ManagementFactory.getRuntimeMXBean().getInputArguments().stream().filter(a -> !a.startsWith("-agentlib")).toList());
      cmd.add("-cp");
      cmd.add(System.getProperty("java.class.path"));
      cmd.add(Main.class.getName());
      cmd.addAll(List.of(args));
      ProcessBuilder pb = new ProcessBuilder(cmd).redirectErrorStream(true).redirectOutput(log.toFile());
      pb.environment().putAll(env);
      return new Run(pb.start(), log);
    }

    boolean alive() {
      return process.isAlive();
    }

    int waitFor(int seconds) throws InterruptedException {
      if (!process.waitFor(seconds, TimeUnit.SECONDS)) {
        process.descendants().forEach(ProcessHandle::destroyForcibly);
        process.destroyForcibly();
        return -1;
      }
      return process.exitValue();
    }

    String log() {
      try {
        return Files.readString(logFile);
      } catch (IOException e) {
        return "(no log: " + e + ")";
      }
    }
  }

  /** A port free a moment ago (for a test's explicit RUN_ID; npid4j itself never picks one to bind later). */
  static int freePort() throws java.io.IOException {
    try (java.net.ServerSocket s = new java.net.ServerSocket(0)) {
      return s.getLocalPort();
    }
  }
}
