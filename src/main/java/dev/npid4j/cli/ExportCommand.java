package dev.npid4j.cli;

import dev.npid4j.UserError;
import dev.npid4j.config.EvalSettings;
import dev.npid4j.config.RunConfig;
import dev.npid4j.eval.TrainedModel;
import dev.npid4j.weights.Export;
import dev.npid4j.formats.TorchFiles;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

@Command(name = "export", mixinStandardHelpOptions = true,
    description = {"Writes a trained model as a file that Python's torch.load reads without npid4j.", "",
        "  torchvision: the trunk's state dict under torchvision's keys;",
        "               torchvision.models.resnet50().load_state_dict(sd, strict=False) misses only fc.*",
        "  vissl:       VISSL's checkpoint layout, classy_state_dict -> base_model -> model -> trunk/heads,",
        "               with the memory bank under loss.memory", "",
        "Example:", "  npid4j export --run runs/quickstart --format torchvision --out resnet18.pth", "",
        "The reverse: config.MODEL.WEIGHTS_INIT.PARAMS_FILE=<file> loads a torchvision or VISSL file."})
final class ExportCommand implements Callable<Integer> {
  @Option(names = "--run", required = true, paramLabel = "DIR", description = "Run directory (config.CHECKPOINT.DIR of a training run).")
  Path run;

  @Option(names = "--checkpoint", paramLabel = "FILE", description = "A checkpoint of that run (default: its newest, checkpoint.torch).")
  Path checkpoint;

  @Option(names = "--format", required = true, paramLabel = "FORMAT", description = "torchvision | vissl")
  String format;

  @Option(names = "--out", required = true, paramLabel = "FILE", description = "Output file (.pth / .torch).")
  Path outFile;

  @Option(names = "--verbose", description = "Print stack traces with errors.")
  boolean verbose;

  @Override
  public Integer call() throws Exception {
    if (!format.equals("torchvision") && !format.equals("vissl")) {
      throw new UserError("--format must be torchvision or vissl, got '" + format + "'");
    }
    Path config = run.resolve("train_config.yaml");
    if (!Files.isRegularFile(config)) {
      throw new UserError(run + " is not a run directory (no train_config.yaml)");
    }
    Path file = checkpoint != null ? checkpoint : run.resolve("checkpoint.torch");
    if (!Files.exists(file)) {
      throw new UserError(run + " holds no checkpoint yet (no checkpoint.torch)");
    }
    RunConfig cfg = RunConfig.fromArgs(List.of("config=" + config.toAbsolutePath(),
        "config.MODEL.WEIGHTS_INIT.PARAMS_FILE=" + file.toAbsolutePath()));
    if (format.equals("torchvision") && cfg.model().trunkType() != dev.npid4j.model.TrunkType.RESNET) {
      throw new UserError("--format torchvision: torchvision has no " + cfg.model().trunkType().configName()
          + " (BVLC AlexNet is not torchvision's AlexNet); use --format vissl");
    }
    EvalSettings ev = cfg.eval();
    TrainedModel m = TrainedModel.open(cfg, ev, false, System.out);
    Object value;
    if (format.equals("torchvision")) {
      value = Export.torchvision(m.model());
    } else {
      value = Export.vissl(m.model(), m.memoryBank(), Math.max(0, m.epochsDone() - 1), m.iteration());
    }
    TorchFiles.save(outFile, value);
    System.out.println("[export] wrote " + outFile + " (" + format + ", " + Files.size(outFile) + " bytes) from " + file);
    return 0;
  }
}
