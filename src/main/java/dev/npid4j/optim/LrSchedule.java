package dev.npid4j.optim;

import dev.npid4j.config.ConfigError;
import dev.npid4j.config.Keys;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * ClassyVision's parameter schedulers as VISSL configures them, as a function of the training
 * progress {@code where} in [0, 1): constant, linear, cosine, multistep, step,
 * step_with_fixed_gamma and composite (e.g. a linear warmup followed by cosine).
 */
public interface LrSchedule {
  double WHERE_EPSILON = 1e-6;

  double at(double where);

  /** Whether the LR changes every step ("step") or is held per epoch ("epoch"). */
  enum Interval { EPOCH, STEP }

  Set<String> KNOWN = Set.of("constant", "linear", "cosine", "multistep", "step", "step_with_fixed_gamma", "composite");

  static Interval interval(Map<String, Object> cfg, String path) {
    String v = String.valueOf(cfg.getOrDefault("update_interval", "epoch"));
    return switch (v) {
      case "epoch" -> Interval.EPOCH;
      case "step" -> Interval.STEP;
      default -> throw new ConfigError(path + ".update_interval must be epoch or step, got '" + v + "'");
    };
  }

  /** Builds the schedule in {@code cfg} (the map at {@code path}); {@code numEpochs} is OPTIMIZER.num_epochs. */
  @SuppressWarnings("unchecked")
  static LrSchedule fromConfig(Map<String, Object> cfg, String path, int numEpochs) {
    String name = String.valueOf(cfg.get("name"));
    switch (name) {
      case "constant": {
        double v = number(cfg, "value", path);
        return where -> v;
      }
      case "linear": {
        double start = number(cfg, "start_value", path);
        double end = number(cfg, "end_value", path);
        return where -> start + where * (end - start);
      }
      case "cosine": {
        double start = number(cfg, "start_value", path);
        double end = number(cfg, "end_value", path);
        return where -> end + 0.5 * (start - end) * (1 + Math.cos(Math.PI * where));
      }
      case "multistep": {
        List<Double> values = numbers(cfg, "values", path);
        List<Double> milestones = numbers(cfg, "milestones", path);
        if (values.size() != milestones.size() + 1) {
          throw new ConfigError(path + ": multistep needs one more value than milestones, got " + values.size()
              + " values and " + milestones.size() + " milestones");
        }
        for (int i = 0; i < milestones.size(); i++) {
          if ((i > 0 && milestones.get(i) <= milestones.get(i - 1)) || milestones.get(i) >= numEpochs) {
            throw new ConfigError(path + ".milestones must increase and stay below num_epochs (" + numEpochs + "), got " + milestones);
          }
        }
        return where -> {
          int epoch = (int) ((where + WHERE_EPSILON) * numEpochs);
          int k = 0;
          while (k < milestones.size() && milestones.get(k) <= epoch) {
            k++;
          }
          return values.get(k);
        };
      }
      case "step": {
        List<Double> values = numbers(cfg, "values", path);
        return where -> values.get(Math.min(values.size() - 1, (int) ((where + WHERE_EPSILON) * values.size())));
      }
      case "step_with_fixed_gamma": {
        double base = number(cfg, "base_value", path);
        double gamma = number(cfg, "gamma", path);
        int decays = (int) number(cfg, "num_decays", path);
        return where -> base * Math.pow(gamma, Math.min(decays, (int) ((where + WHERE_EPSILON) * (decays + 1))));
      }
      case "composite": {
        Object rawSubs = cfg.get("schedulers");
        if (!(rawSubs instanceof List<?> subsList) || subsList.isEmpty()) {
          throw new ConfigError(path + ": composite needs a non-empty 'schedulers' list");
        }
        List<Double> lengths = numbers(cfg, "lengths", path);
        Object rawScaling = cfg.get("interval_scaling");
        List<String> scaling = new ArrayList<>();
        if (rawScaling instanceof List<?> l) {
          l.forEach(o -> scaling.add(String.valueOf(o)));
        }
        if (lengths.size() != subsList.size() || scaling.size() != subsList.size()) {
          throw new ConfigError(path + ": composite needs as many lengths and interval_scaling entries as schedulers ("
              + subsList.size() + ")");
        }
        double sum = lengths.stream().mapToDouble(Double::doubleValue).sum();
        if (Math.abs(sum - 1.0) > 1e-3) {
          throw new ConfigError(path + ".lengths must sum to 1, got " + sum);
        }
        List<LrSchedule> subs = new ArrayList<>();
        for (int i = 0; i < subsList.size(); i++) {
          if (!(subsList.get(i) instanceof Map<?, ?> m)) {
            throw new ConfigError(path + ".schedulers[" + i + "] must be a map with a name");
          }
          String s = scaling.get(i);
          if (!s.equals("rescaled") && !s.equals("fixed")) {
            throw new ConfigError(path + ".interval_scaling[" + i + "] must be rescaled or fixed, got '" + s + "'");
          }
          subs.add(fromConfig((Map<String, Object>) m, path + ".schedulers[" + i + "]", numEpochs));
        }
        return where -> {
          int i = 0;
          double runningTotal = lengths.get(0);
          while (where + WHERE_EPSILON > runningTotal && i < subs.size() - 1) {
            i++;
            runningTotal += lengths.get(i);
          }
          double w = where;
          if (scaling.get(i).equals("rescaled")) {
            double start = runningTotal - lengths.get(i);
            w = (where - start) / lengths.get(i);
          }
          return subs.get(i).at(w);
        };
      }
      default: {
        String hint = Keys.closest(name, KNOWN);
        throw new ConfigError(path + ".name: unknown LR scheduler '" + name + "'" + (hint != null ? "; did you mean '" + hint + "'?" : "")
            + " (available: " + String.join(", ", KNOWN.stream().sorted().toList()) + ")");
      }
    }
  }

  private static double number(Map<String, Object> cfg, String key, String path) {
    Object v = cfg.get(key);
    if (v instanceof Number n) {
      return n.doubleValue();
    }
    throw new ConfigError(path + "." + key + " must be a number for scheduler '" + cfg.get("name") + "', got " + v);
  }

  private static List<Double> numbers(Map<String, Object> cfg, String key, String path) {
    Object v = cfg.get(key);
    if (!(v instanceof List<?> l)) {
      throw new ConfigError(path + "." + key + " must be a list of numbers, got " + v);
    }
    List<Double> out = new ArrayList<>();
    for (Object o : l) {
      if (!(o instanceof Number n)) {
        throw new ConfigError(path + "." + key + " must be a list of numbers, got " + v);
      }
      out.add(n.doubleValue());
    }
    return out;
  }
}
