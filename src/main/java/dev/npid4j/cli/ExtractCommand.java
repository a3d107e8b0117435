package dev.npid4j.cli;

import dev.npid4j.UserError;
import dev.npid4j.data.Dataset;
import dev.npid4j.engine.Features;
import dev.npid4j.formats.Npy;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;

@Command(name = "extract", mixinStandardHelpOptions = true,
    description = {"Extracts features with eval transforms (VISSL's engine_name=extract_features) as .npy files.", "",
        "Weights: config.MODEL.WEIGHTS_INIT.PARAMS_FILE (npid4j, VISSL or torchvision file), else the newest",
        "checkpoint in config.CHECKPOINT.DIR. Features: the head output, or with",
        "config.MODEL.FEATURE_EVAL_SETTINGS.EXTRACT_TRUNK_FEATURES_ONLY=true the trunk layers of",
        "LINEAR_EVAL_FEAT_POOL_OPS_MAP (default res5avg). Output: config.EXTRACT_FEATURES.OUTPUT_DIR, else",
        "<CHECKPOINT.DIR>/eval, as rank0_chunk0_{split}_{layer}_{features,targets,inds}.npy (VISSL's names).", "",
        "Example:", "  npid4j extract config=quickstart/npid_fashion_mnist config.CHECKPOINT.DIR=runs/quickstart"})
final class ExtractCommand implements Callable<Integer> {
  @Mixin
  ConfigArgs config;

  @Option(names = "--split", paramLabel = "SPLIT", defaultValue = "both", description = "train | test | both (default: ${DEFAULT-VALUE})")
  String split;

  @Override
  public Integer call() throws Exception {
    List<String> splits = switch (split) {
      case "both" -> List.of("train", "test");
      case "train", "test" -> List.of(split);
      default -> throw new UserError("--split must be train, test or both, got '" + split + "'");
    };
    EvalContext ctx = new EvalContext(config.args, true, System.out);
    for (String s : splits) {
      long t0 = System.nanoTime();
      Dataset data = ctx.split(s);
      Map<String, Features> feats = ctx.features(data);
      for (Map.Entry<String, Features> e : feats.entrySet()) {
        try (Features f = e.getValue()) {
          String base = "rank0_chunk0_" + s + "_" + e.getKey() + "_";
          int n = f.labels().length;
          long[] shape = ctx.ev.flatten() ? new long[] {n, f.values().size(1)} : prepend(n, f.itemShape());
          Npy.writeTensor(ctx.outDir.resolve(base + "features.npy"), f.values(), shape);
          Npy.writeLongs(ctx.outDir.resolve(base + "targets.npy"), f.labels(), n);
          long[] inds = new long[n];
          for (int i = 0; i < n; i++) {
            inds[i] = i;
          }
          Npy.writeLongs(ctx.outDir.resolve(base + "inds.npy"), inds, n);
          System.out.println(String.format(Locale.ROOT, "[extract] %s %s: %d x %s -> %s (%.1fs)", s, e.getKey(), n,
              java.util.Arrays.toString(f.itemShape()), ctx.outDir.resolve(base + "features.npy"), (System.nanoTime() - t0) / 1e9));
        }
      }
    }
    return 0;
  }

  private static long[] prepend(long n, long[] rest) {
    long[] out = new long[rest.length + 1];
    out[0] = n;
    System.arraycopy(rest, 0, out, 1, rest.length);
    return out;
  }
}
