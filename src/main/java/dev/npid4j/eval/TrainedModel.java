package dev.npid4j.eval;

import dev.npid4j.UserError;
import dev.npid4j.config.EvalSettings;
import dev.npid4j.config.RunConfig;
import dev.npid4j.weights.Weights;
import dev.npid4j.model.NpidModel;
import dev.npid4j.torch.Torch;
import java.io.PrintStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import dev.npid4j.data.transform.Transforms;
import org.bytedeco.pytorch.Tensor;

/**
 * The model a config describes, with the weights to evaluate: MODEL.WEIGHTS_INIT.PARAMS_FILE
 * when set, otherwise the newest checkpoint of the run directory (CHECKPOINT.DIR). Also the
 * memory bank when the weights file holds one (npid4j and VISSL checkpoints).
 */
public record TrainedModel(NpidModel model, Tensor memoryBank, Path source, String format, long epochsDone, long iteration,
    boolean headLoaded) {

  public static TrainedModel open(RunConfig cfg, EvalSettings ev, boolean headsOptional, PrintStream out) {
    Torch.load();
    Torch.setThreads(cfg.machine().intraOpThreads(1));
    Path source = weightsFile(cfg, ev);
    Torch.manualSeed(cfg.seed());
    NpidModel model = new NpidModel(cfg.model().trunkType(), cfg.model().trunk(), cfg.model().heads());
    Weights.Loaded w = Weights.read(source, ev.weightsInit());
    Weights.Report r = Weights.loadInto(model, w, ev.weightsInit().skipLayers(), headsOptional, source.toString());
    model.eval();
    out.println(String.format(Locale.ROOT, "[eval] weights %s (%s): %d tensors loaded%s%s", source, w.format(), r.loaded(),
        r.missingHeads().isEmpty() ? "" : ", head not in the file (" + r.missingHeads().size() + " tensors keep their init)",
        w.memoryBank() == null ? "" : String.format(Locale.ROOT, ", memory bank %d x %d", w.memoryBank().size(0), w.memoryBank().size(1))));
    return new TrainedModel(model, w.memoryBank(), source, w.format(), w.epochsDone(), w.iteration(), r.missingHeads().isEmpty());
  }

  static Path weightsFile(RunConfig cfg, EvalSettings ev) {
    String file = ev.weightsInit().paramsFile();
    if (!file.isEmpty()) {
      return Path.of(file);
    }
    Path dir = Path.of(cfg.checkpoint().dir());
    Path link = dir.resolve("checkpoint.torch");
    if (Files.exists(link)) {
      return link;
    }
    throw new UserError("no weights to evaluate: " + dir + " holds no checkpoint.torch; train there first"
        + " (config.CHECKPOINT.DIR) or name a file with config.MODEL.WEIGHTS_INIT.PARAMS_FILE=<file>");
  }

  /**
   * DATA.TEST.TRANSFORMS, or when the config has none (VISSL's pretrain configs define no test
   * split) the standard eval transforms: Fashion-MNIST ToTensor + Normalize, image folders
   * Resize(256) + CenterCrop(224) + ToTensor + Normalize(ImageNet statistics).
   */
  public static Transforms evalTransforms(RunConfig cfg, PrintStream out) {
    if (cfg.test().transformsGiven()) {
      return cfg.test().transforms();
    }
    List<String> sources = cfg.test().isEmpty() ? cfg.train().sources() : cfg.test().sources();
    List<Object> t = sources.contains("fashion_mnist") ? List.of(Map.of("name", "ToTensor"),
        Map.of("name", "Normalize", "mean", List.of(0.2860), "std", List.of(0.3530)))
        : List.of(Map.of("name", "Resize", "size", 256L), Map.of("name", "CenterCrop", "size", 224L), Map.of("name", "ToTensor"),
            Map.of("name", "Normalize", "mean", List.of(0.485, 0.456, 0.406), "std", List.of(0.229, 0.224, 0.225)));
    out.println("[eval] config.DATA.TEST.TRANSFORMS is empty: using " + t);
    return Transforms.fromConfig(t, "config.DATA.TEST.TRANSFORMS");
  }

  /** Where extract, knn and linear write: EXTRACT_FEATURES.OUTPUT_DIR, or {@code <CHECKPOINT.DIR>/eval}. */
  public static Path outputDir(RunConfig cfg, EvalSettings ev) {
    return ev.outputDir().isEmpty() ? Path.of(cfg.checkpoint().dir()).resolve("eval") : Path.of(ev.outputDir());
  }
}
