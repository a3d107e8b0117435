package dev.npid4j.config;


public record KnnMonitorConfig(int frequency, int topk, double sigma, boolean rawPixelBaseline, boolean recomputedFeatures) {
  static KnnMonitorConfig read(ConfigTree t) {
    String k = "config." + "KNN_MONITOR.";
    Object topk = t.get(k + "TOPK");
    if (!(topk instanceof Long)) {
      throw new ConfigError(k + "TOPK expects one integer, got " + ConfigTree.describe(topk));
    }
    int frequency = t.getInt(k + "FREQUENCY");
    if (frequency < -1) {
      throw new ConfigError(k + "FREQUENCY must be -1 (never), 0 (after the last epoch) or N > 0 (every N epochs), got " + frequency);
    }
    double sigma = t.getDouble(k + "SIGMA");
    if (!(sigma > 0)) {
      throw new ConfigError(k + "SIGMA must be > 0, got " + sigma);
    }
    return new KnnMonitorConfig(frequency, Values.positive(t, k + "TOPK"), sigma, t.getBool(k + "RAW_PIXEL_BASELINE"),
        t.getBool(k + "RECOMPUTED_FEATURES"));
  }
}
