package dev.npid4j.config;

import java.math.BigDecimal;
import java.math.RoundingMode;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;

/**
 * VISSL's auto LR scaling (spec section 5), applied once after composition: the configured
 * schedule is rescaled to base_value x global batch / base_lr_batch_size (or its square root),
 * with the global batch taken from the config, not from the runtime.
 */
public final class LrAutoScaling {
  private LrAutoScaling() {}

  /** Rescales {@code config.OPTIMIZER.param_schedulers.lr} in place when auto_scale is on; returns the scaled LR or NaN. */
  public static double apply(ConfigTree tree) {
    String lr = "config.OPTIMIZER.param_schedulers.lr";
    String auto = lr + ".auto_lr_scaling";
    if (!tree.getBool(auto + ".auto_scale")) {
      return Double.NaN;
    }
    double base = tree.getDouble(auto + ".base_value");
    double baseBatch = tree.getDouble(auto + ".base_lr_batch_size");
    long batch = tree.getLong("config.DATA.TRAIN.BATCHSIZE_PER_REPLICA")
        * tree.getLong("config.DISTRIBUTED.NUM_NODES") * tree.getLong("config.DISTRIBUTED.NUM_PROC_PER_NODE");
    String type = tree.getString(auto + ".scaling_type");
    double ratio = batch / baseBatch;
    double scaled = switch (type) {
      case "linear" -> base * ratio;
      case "sqrt" -> base * Math.sqrt(ratio);
      default -> throw new ConfigError(auto + ".scaling_type must be linear or sqrt, got '" + type + "'");
    };
    rescale(tree.getMap(lr), scaled, lr);
    return scaled;
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
      default -> throw new ConfigError(path + ".name: auto_lr_scaling does not know scheduler '" + name + "'");
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
