package dev.npid4j.cli;

import dev.npid4j.config.DataSplit;
import dev.npid4j.UserError;
import dev.npid4j.config.EvalSettings;
import dev.npid4j.config.RunConfig;
import dev.npid4j.data.Dataset;
import dev.npid4j.data.Datasets;
import dev.npid4j.data.transform.Transforms;
import dev.npid4j.engine.Features;
import dev.npid4j.eval.TrainedModel;
import java.io.IOException;
import java.io.PrintStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;

/** What extract, knn and linear share: the config, the weights, the splits and eval-mode features. */
final class EvalContext {
  final RunConfig cfg;
  final EvalSettings ev;
  final TrainedModel trained;
  final Path outDir;
  final PrintStream out;

  EvalContext(List<String> args, boolean headsOptional, PrintStream out) throws IOException {
    this(RunConfig.fromArgs(args), headsOptional, out);
  }

  EvalContext(RunConfig cfg, boolean headsOptional, PrintStream out) throws IOException {
    this.cfg = cfg;
    this.ev = cfg.eval();
    this.out = out;
    if (cfg.machine().device().equals("gpu")) {
      throw new UserError("config.MACHINE.DEVICE=gpu, but this build of npid4j runs libtorch on the CPU only: add config.MACHINE.DEVICE=cpu");
    }
    this.trained = TrainedModel.open(cfg, ev, headsOptional, out);
    this.outDir = TrainedModel.outputDir(cfg, ev);
    dev.npid4j.formats.AtomicFiles.requireWritableDirectory(outDir, "the output folder " + outDir);
  }

  /** A split ("train" or "test"), read with the TEST transforms: evaluation never augments. */
  Dataset split(String name) {
    DataSplit s = name.equals("train") ? cfg.train() : cfg.test();
    if (s.isEmpty()) {
      throw new UserError("config.DATA." + name.toUpperCase() + ".DATA_SOURCES is empty: there is no " + name + " split to evaluate");
    }
    return Datasets.open(s, cfg.model().trunk().inputChannels(), cfg.seed());
  }

  Transforms evalTransforms() {
    return TrainedModel.evalTransforms(cfg, out);
  }

  /** The feature sets VISSL's extract_features produces: trunk layers (EXTRACT_TRUNK_FEATURES_ONLY) or the head. */
  List<EvalSettings.PooledLayer> trunkLayers() {
    if (!ev.extractTrunkOnly()) {
      return List.of();
    }
    return ev.layers().isEmpty() ? List.of(EvalSettings.PooledLayer.identity("res5avg")) : ev.layers();
  }

  Map<String, Features> features(Dataset data) {
    boolean head = !ev.extractTrunkOnly();
    return Features.extractLayers(trained.model(), data, evalTransforms(), cfg.test().batchSize(), cfg.numWorkers(), trunkLayers(), head);
  }
}
