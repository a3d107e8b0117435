package dev.npid4j.config;

import dev.npid4j.loss.NceLossParams;
import java.util.ArrayList;
import java.util.List;

/** Reads LOSS.nce_loss_with_memory into the loss's parameters (the bank's are {@link BankConfig}). */
final class LossSection {
  /** The loss VISSL's linear benchmark configs name: the linear heads' cross-entropy (npid4j linear). */
  static final String LINEAR = "cross_entropy_multiple_output_single_target";

  private LossSection() {}

  static NceLossParams read(ConfigTree t) {
    String name = t.getString("config.LOSS.name");
    if (!"nce_loss_with_memory".equals(name) && !LINEAR.equals(name)) {
      throw new ConfigError("config.LOSS.name: loss '" + name + "' is not available; npid4j trains with nce_loss_with_memory"
          + " (and " + LINEAR + " is the linear benchmark's)");
    }
    String l = "config." + "LOSS.nce_loss_with_memory.";
    String type = t.getString(l + "loss_type");
    NceLossParams.LossType lossType = switch (type) {
      case "nce" -> NceLossParams.LossType.NCE;
      case "cross_entropy" -> NceLossParams.LossType.CROSS_ENTROPY;
      default -> throw new ConfigError(l + "loss_type must be nce or cross_entropy, got '" + type + "'");
    };
    String sampling = t.getString(l + "negative_sampling_params.type");
    if (!"random".equals(sampling) && !NceLossParams.SHARED.equals(sampling)) {
      throw new ConfigError(l + "negative_sampling_params.type must be random (or npid4j's opt-in " + NceLossParams.SHARED + ")"
          + ("debug".equals(sampling) ? " (VISSL's debug sampler is CUDA-only and draws the same distribution)" : "")
          + ", got '" + sampling + "'");
    }
    List<Double> weights = new ArrayList<>();
    for (Object w : t.getList(l + "loss_weights")) {
      if (!(w instanceof Number n)) {
        throw new ConfigError(l + "loss_weights must be numbers, got " + t.get(l + "loss_weights"));
      }
      weights.add(n.doubleValue());
    }
    double temperature = t.getDouble(l + "temperature");
    if (!(temperature > 0)) {
      throw new ConfigError(l + "temperature must be > 0, got " + temperature);
    }
    if (weights.isEmpty()) {
      throw new ConfigError(l + "loss_weights needs one weight per model output, got []");
    }
    try {
      return new NceLossParams(lossType, t.getBool(l + "norm_embedding"), temperature, weights,
          t.getDouble(l + "norm_constant"), t.getInt(l + "update_mem_with_emb_index"), t.getLong(l + "ignore_index"),
          Values.positive(t, l + "negative_sampling_params.num_negatives"), sampling, t.getBool(l + "memory_params.update_mem_on_forward"));
    } catch (IllegalArgumentException e) {
      throw new ConfigError(l + "*: " + e.getMessage());
    }
  }
}
