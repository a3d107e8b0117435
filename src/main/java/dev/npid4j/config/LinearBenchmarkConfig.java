package dev.npid4j.config;

import dev.npid4j.eval.LinearEval.HeadSpec;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;

/**
 * A linear-benchmark config (VISSL's benchmark/linear_image_classification): its HEAD.PARAMS are
 * the linear heads to train on frozen trunk features, not a pretext head, so the trunk is read
 * with no head and the heads come separately.
 */
public record LinearBenchmarkConfig(RunConfig run, List<HeadSpec> heads) {
  /** Composes {@code args} and validates them as a linear benchmark. */
  public static LinearBenchmarkConfig fromArgs(List<String> args) {
    ConfigComposer.Composed composed = ConfigComposer.compose(args);
    List<HeadSpec> heads = heads(composed.tree());
    composed.tree().set("config.MODEL.HEAD.PARAMS", List.of(), false, "linear benchmark");
    return new LinearBenchmarkConfig(RunConfig.from(composed.tree(), composed.experiment()), heads);
  }

  /** VISSL's HEAD.PARAMS entries for the linear benchmark: eval_mlp {in_channels, dims} or mlp {dims: [D, classes]}. */
  private static List<HeadSpec> heads(ConfigTree t) {
    String path = "config.MODEL.HEAD.PARAMS";
    List<HeadSpec> out = new ArrayList<>();
    List<Object> params = t.getList(path);
    for (int i = 0; i < params.size(); i++) {
      String at = path + "[" + i + "]";
      if (!(params.get(i) instanceof List<?> e) || e.size() != 2 || !(e.get(0) instanceof String type) || !(e.get(1) instanceof Map<?, ?> p)
          || !(p.get("dims") instanceof List<?> dims) || dims.size() != 2 || !(dims.get(0) instanceof Long d) || !(dims.get(1) instanceof Long k)) {
        throw new ConfigError(at + " must look like [\"eval_mlp\", {\"in_channels\": 128, \"dims\": [128, 10]}]"
            + " or [\"mlp\", {\"dims\": [128, 10]}], got " + params.get(i));
      }
      switch (type) {
        case "eval_mlp" -> {
          if (!(p.get("in_channels") instanceof Long c)) {
            throw new ConfigError(at + ": eval_mlp needs in_channels (the channels of the pooled feature map)");
          }
          out.add(new HeadSpec(type, c.intValue(), d.intValue(), k.intValue()));
        }
        case "mlp" -> out.add(new HeadSpec(type, 0, d.intValue(), k.intValue()));
        default -> throw new ConfigError(at + ": head '" + type + "' is not available for the linear benchmark (eval_mlp | mlp)");
      }
    }
    if (out.isEmpty()) {
      throw new ConfigError(path + " is empty: the linear benchmark needs eval_mlp heads (see the bundled"
          + " benchmark/linear_image_classification/fashion_mnist/eval_resnet_linear)");
    }
    return out;
  }
}
