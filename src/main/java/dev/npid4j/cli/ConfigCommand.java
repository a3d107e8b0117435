package dev.npid4j.cli;

import dev.npid4j.config.RunConfig;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;

@Command(name = "config", mixinStandardHelpOptions = true,
    description = {"Prints the composed config as YAML and runs nothing: the bundled or given file, its defaults,",
        "every override, and VISSL's inference (LR auto-scaling, LABEL_TYPE) applied, after the same checks",
        "train makes (a misspelt key is the same one-line error). Hydra's --cfg job, for VISSL users.", "",
        "Examples:", "  npid4j config config=pretrain/npid/npid_8gpu_resnet config.DISTRIBUTED.NUM_PROC_PER_NODE=2",
        "  npid4j config config=quickstart/npid_fashion_mnist --key config.LOSS.nce_loss_with_memory"})
final class ConfigCommand implements Callable<Integer> {
  @Mixin
  ConfigArgs config;

  @Option(names = "--key", paramLabel = "KEY", description = "Print only this key's value or sub-tree (e.g. config.OPTIMIZER).")
  String key;

  @Override
  public Integer call() {
    RunConfig cfg = RunConfig.fromArgs(config.args);
    System.out.print(cfg.composedYaml(key));
    System.out.flush();
    return 0;
  }
}
