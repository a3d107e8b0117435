package dev.npid4j.config;

import java.math.BigDecimal;
import java.math.RoundingMode;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;

/**
 * VISSL's auto LR scaling (docs/vissl-compatibility.md), applied once after composition: the configured
 * schedule is rescaled to base_value x global batch / base_lr_batch_size (or its square root),
 * with the global batch taken from the config, not from the runtime.
 */
public final class LrAutoScaling {
  private LrAutoScaling() {}

  /** The global batch the config trains with: BATCHSIZE_PER_REPLICA x NUM_NODES x NUM_PROC_PER_NODE. */
  static long globalBatch(ConfigTree tree) {
    return tree.getLong("config.DATA.TRAIN.BATCHSIZE_PER_REPLICA") * tree.getLong("config.DISTRIBUTED.NUM_NODES")
        * tree.getLong("config.DISTRIBUTED.NUM_PROC_PER_NODE");
  }

  /**
   * Rescales the schedule in place when auto_scale is on. Returns the line the log should show, or
   * null: what the scaling did when the global batch differs from base_lr_batch_size, and a
   * warning when auto_scale is off and the overrides changed the experiment's global batch
   * ({@code experimentBatch}; VISSL's NPID page asks for the LR to follow ImageNet in 1 Hour then).
   */
  static String apply(ConfigTree tree, long experimentBatch) {
    String lr = "config.OPTIMIZER.param_schedulers.lr";
    String auto = lr + ".auto_lr_scaling";
    long batch = globalBatch(tree);
    if (!tree.getBool(auto + ".auto_scale")) {
      return batch == experimentBatch || experimentBatch <= 0 ? null : String.format(java.util.Locale.ROOT,
          "warning: the global batch is %d (%s) where the experiment has %d, and %s.auto_scale is false: the LR schedule is"
              + " unchanged. Scale it with the batch (Goyal et al., ImageNet in 1 Hour), or set %s.auto_scale=true",
          batch, describeBatch(tree), experimentBatch, auto, auto);
    }
    double base = tree.getDouble(auto + ".base_value");
    double baseBatch = tree.getDouble(auto + ".base_lr_batch_size");
    String type = tree.getString(auto + ".scaling_type");
    double ratio = batch / baseBatch;
    double scaled = switch (type) {
      case "linear" -> base * ratio;
      case "sqrt" -> base * Math.sqrt(ratio);
      default -> throw new ConfigError(auto + ".scaling_type must be linear or sqrt, got '" + type + "'");
    };
    rescale(tree.getMap(lr), scaled, lr);
    return batch == (long) baseBatch ? null : String.format(java.util.Locale.ROOT,
        "LR auto-scaling (%s, %s): base LR %s at batch %d -> %s at the global batch %d (%s)", auto, type, base, (long) baseBatch,
        scaled, batch, describeBatch(tree));
  }

  private static String describeBatch(ConfigTree tree) {
    return tree.getLong("config.DATA.TRAIN.BATCHSIZE_PER_REPLICA") + " per rank x " + tree.getLong("config.DISTRIBUTED.NUM_NODES")
        + " node(s) x " + tree.getLong("config.DISTRIBUTED.NUM_PROC_PER_NODE") + " rank(s) per node";
  }

  @SuppressWarnings("unchecked")
  private static void rescale(Map<String, Object> s, double scaled, String path) {
    String name = String.valueOf(s.get("name"));
    switch (name) {
      case "constant" -> s.put("value", scaled);
      case "linear" -> s.put("end_value", scaled);
      case "step_with_fixed_gamma" -> s.put("base_value", scaled);
      case "cosine" -> {
        double start = number(s, "start_value", path);
        double end = number(s, "end_value", path);
        s.put("end_value", start == 0 ? 0.0 : scaled * (end / start));
        s.put("start_value", scaled);
      }
      case "multistep", "step" -> {
        List<Object> values = (List<Object>) s.get("values");
        if (values == null || values.size() < 2) {
          s.put("values", List.of(scaled));
          return;
        }
        double gamma = round(((Number) values.get(1)).doubleValue() / ((Number) values.get(0)).doubleValue(), 6);
        List<Object> out = new ArrayList<>();
        for (int i = 0; i < values.size(); i++) {
          out.add(round(scaled * Math.pow(gamma, i), 8));
        }
        s.put("values", out);
      }
      case "composite" -> {
        List<Object> subs = (List<Object>) s.get("schedulers");
        for (int i = 0; subs != null && i < subs.size(); i++) {
          rescale((Map<String, Object>) subs.get(i), scaled, path + ".schedulers[" + i + "]");
        }
      }
      default -> {
        String hint = Keys.closest(name, dev.npid4j.optim.LrSchedule.KNOWN);
        throw new ConfigError(path + ".name: unknown LR schedule '" + name + "'" + (hint != null ? "; did you mean '" + hint + "'?" : "")
            + " (" + String.join(", ", new java.util.TreeSet<>(dev.npid4j.optim.LrSchedule.KNOWN)) + ")");
      }
    }
  }

  private static double number(Map<String, Object> s, String key, String path) {
    Object v = s.get(key);
    if (!(v instanceof Number n)) {
      throw new ConfigError(path + "." + key + " must be a number, got " + v);
    }
    return n.doubleValue();
  }

  /** Python's round(x, digits) for the magnitudes LRs have (half-even on the decimal value). */
  static double round(double x, int digits) {
    return new BigDecimal(x).setScale(digits, RoundingMode.HALF_EVEN).doubleValue();
  }
}
