package dev.npid4j.bench;

import dev.npid4j.UserError;
import dev.npid4j.config.RunConfig;
import dev.npid4j.engine.Trainer;
import dev.npid4j.engine.TrainingListener;
import dev.npid4j.model.TrunkType;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;

/** `npid4j bench train`: see the command's description. */
@Command(name = "train", mixinStandardHelpOptions = true,
    description = {"Full training steps (data loading, forward, loss with memory bank, backward, SGD) for any config.",
        "The figure is taken between step --warmup and step --steps; no kNN, the run directory is a temp folder.",
        "Example: npid4j bench train config=pretrain/npid/npid_8gpu_resnet config.MACHINE.DEVICE=cpu \\",
        "    config.DISTRIBUTED.NUM_PROC_PER_NODE=1 config.DATA.TRAIN.DATA_SOURCES=[synthetic] \\",
        "    config.DATA.TRAIN.BATCHSIZE_PER_REPLICA=32 --steps 6"})
public final class TrainBench extends BenchBase {
  @Parameters(arity = "1..*", paramLabel = "ARG", description = "config=NAME and overrides, as for train.")
  List<String> args;
  @Option(names = "--steps", defaultValue = "10")
  int steps;
  @Option(names = "--warmup", defaultValue = "2")
  int warmup;

  @Override
  public Integer call() throws Exception {
    if (steps <= warmup) {
      throw new UserError("--steps must be larger than --warmup (" + warmup + ")");
    }
    start();
    Path dir = Files.createTempDirectory("npid4j-bench-");
    List<String> a = new ArrayList<>(args);
    var probe = dev.npid4j.config.ConfigComposer.compose(args); // unvalidated: DATA_LIMIT may still be unset
    int batch = (int) probe.integer("config.DATA.TRAIN.BATCHSIZE_PER_REPLICA");
    long limit = probe.integer("config.DATA.TRAIN.DATA_LIMIT");
    long needed = (long) steps * batch;
    if (limit < 0 || limit > needed) {
      a.add("config.DATA.TRAIN.DATA_LIMIT=" + needed); // one epoch of exactly --steps batches
    }
    a.addAll(List.of("config.OPTIMIZER.num_epochs=1", "config.KNN_MONITOR.FREQUENCY=-1", "config.CHECKPOINT.DIR=" + dir,
        "config.MACHINE.NUM_THREADS=" + threads, "config.LOG_FREQUENCY=1000000",
        // one short epoch: a constant LR instead of the config's schedule (which may need more epochs); speed is the same
        "config.OPTIMIZER.param_schedulers.lr.name=constant", "config.OPTIMIZER.param_schedulers.lr.value=0.01",
        // how the bank starts does not change what a step costs; filling it from the model is a pass over the data
        "config.LOSS.nce_loss_with_memory.memory_params.init_from_model=false"));
    RunConfig cfg = RunConfig.fromArgs(a);
    long[] marks = new long[2];
    try {
      new Trainer(cfg, System.err).addListener(TrainingListener.onEachStep(s -> {
        if (s.globalStep() == warmup) {
          marks[0] = System.nanoTime();
        } else if (s.globalStep() == steps) {
          marks[1] = System.nanoTime();
        }
      })).run();
    } finally {
      BenchBase.deleteTree(dir);
    }
    double seconds = (marks[1] - marks[0]) / 1e9;
    Map<String, Object> f = new LinkedHashMap<>();
    f.put("bench", "train");
    f.put("experiment", cfg.experiment());
    f.put("model", cfg.model().trunkType() == TrunkType.RESNET ? "resnet" + cfg.model().trunk().depth()
        : cfg.model().trunkType().configName());
    f.put("batch", batch);
    f.put("steps_timed", steps - warmup);
    f.put("seconds_per_step", seconds / (steps - warmup));
    f.put("img_per_s", (double) (steps - warmup) * batch / seconds);
    return emit(f);
  }
}
