package dev.npid4j.cli;

import dev.npid4j.config.RunConfig;
import dev.npid4j.engine.Trainer;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;

@Command(name = "train", mixinStandardHelpOptions = true,
    description = {"Trains NPID / NPID++ (VISSL's engine_name=train).", "",
        "Examples:",
        "  npid4j train config=quickstart/npid_fashion_mnist config.CHECKPOINT.DIR=runs/qs",
        "  npid4j train config=pretrain/npid/npid_8gpu_resnet config.MACHINE.DEVICE=cpu \\",
        "      config.DISTRIBUTED.NUM_PROC_PER_NODE=1 config.DATA.TRAIN.DATA_SOURCES=[synthetic] \\",
        "      config.DATA.TRAIN.DATA_LIMIT=64",
        "",
        "The run directory (config.CHECKPOINT.DIR) receives train_config.yaml, metrics.jsonl,",
        "knn.json and model_phase*.torch checkpoints."})
final class TrainCommand implements Callable<Integer> {
  @Mixin
  ConfigArgs config;

  @Override
  public Integer call() {
    RunConfig cfg = RunConfig.fromArgs(config.args);
    new Trainer(cfg, System.out).run();
    return 0;
  }
}
