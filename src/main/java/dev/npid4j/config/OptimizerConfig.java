package dev.npid4j.config;

import dev.npid4j.optim.LrSchedule;

public record OptimizerConfig(
    double momentum,
    boolean nesterov,
    double weightDecay,
    int numEpochs,
    boolean regularizeBn,
    boolean regularizeBias,
    LrSchedule lrSchedule,
    LrSchedule.Interval lrInterval) {
  static OptimizerConfig read(ConfigTree t) {
    String o = "config." + "OPTIMIZER.";
    String name = t.getString(o + "name");
    if (!"sgd".equals(name)) {
      throw new ConfigError(o + "name: optimizer '" + name + "' is not available; NPID trains with sgd");
    }
    if (t.getBool(o + "use_larc")) {
      throw new ConfigError(o + "use_larc: LARC is not available in npid4j; set it to false");
    }
    int epochs = Values.positive(t, o + "num_epochs");
    String lr = o + "param_schedulers.lr";
    return new OptimizerConfig(t.getDouble(o + "momentum"), t.getBool(o + "nesterov"), t.getDouble(o + "weight_decay"),
        epochs, t.getBool(o + "regularize_bn"), t.getBool(o + "regularize_bias"),
        LrSchedule.fromConfig(t.getMap(lr), lr, epochs), LrSchedule.interval(t.getMap(lr), lr));
  }
}
