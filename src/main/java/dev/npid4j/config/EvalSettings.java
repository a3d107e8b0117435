package dev.npid4j.config;

import dev.npid4j.model.TrunkType;
import java.util.ArrayList;
import java.util.List;

/**
 * What the evaluation commands (extract, knn, linear) and weight loading read from a config:
 * VISSL's MODEL.WEIGHTS_INIT, MODEL.FEATURE_EVAL_SETTINGS, NEAREST_NEIGHBOR and
 * EXTRACT_FEATURES keys, validated with the same one-line errors as the training config.
 */
public record EvalSettings(
    WeightsInit weightsInit,
    List<PooledLayer> layers,
    boolean evalTrunkAndHead,
    boolean extractTrunkOnly,
    boolean flatten,
    String outputDir,
    List<Integer> knnTopk,
    double knnSigma,
    boolean knnL2Norm,
    List<String> knnProtocols) {

  public record WeightsInit(String paramsFile, String stateDictKeyName, String appendPrefix, String removePrefix,
      List<String> skipLayers) {}

  /** A trunk layer and the pooling applied to it: {@code AvgPool2d(kernel, stride, padding)}, or none. */
  public record PooledLayer(String layer, String op, int[] kernel, int stride, int padding) {
    public static PooledLayer identity(String layer) {
      return new PooledLayer(layer, "Identity", null, 0, 0);
    }
  }

  private static final String C = "config.";

  static EvalSettings from(ConfigTree t, TrunkType trunk) {
    String w = C + "MODEL.WEIGHTS_INIT.";
    WeightsInit init = new WeightsInit(t.getString(w + "PARAMS_FILE"), t.getString(w + "STATE_DICT_KEY_NAME"),
        t.getString(w + "APPEND_PREFIX"), t.getString(w + "REMOVE_PREFIX"), strings(t, w + "SKIP_LAYERS"));
    String f = C + "MODEL.FEATURE_EVAL_SETTINGS.";
    List<PooledLayer> layers = new ArrayList<>();
    List<Object> ops = t.getList(f + "LINEAR_EVAL_FEAT_POOL_OPS_MAP");
    List<String> trunkLayers = trunk.featureLayers();
    for (int i = 0; i < ops.size(); i++) {
      layers.add(pooledLayer(ops.get(i), f + "LINEAR_EVAL_FEAT_POOL_OPS_MAP[" + i + "]", trunkLayers));
    }
    String nn = C + "NEAREST_NEIGHBOR.";
    Object topk = t.get(nn + "TOPK");
    List<Integer> ks = new ArrayList<>();
    if (topk instanceof Number n) {
      ks.add(n.intValue());
    } else if (topk instanceof List<?> l && !l.isEmpty() && l.stream().allMatch(x -> x instanceof Long)) {
      l.forEach(x -> ks.add(((Long) x).intValue()));
    } else {
      throw new ConfigError(nn + "TOPK expects an integer or a list of integers, got " + ConfigTree.describe(topk));
    }
    for (int k : ks) {
      if (k < 1) {
        throw new ConfigError(nn + "TOPK must be >= 1, got " + k);
      }
    }
    double sigma = t.getDouble(nn + "SIGMA");
    if (!(sigma > 0)) {
      throw new ConfigError(nn + "SIGMA must be > 0, got " + sigma);
    }
    List<String> protocols = strings(t, nn + "PROTOCOLS");
    for (String p : protocols) {
      if (!p.equals("vissl") && !p.equals("npid")) {
        throw new ConfigError(nn + "PROTOCOLS: unknown protocol '" + p + "' (vissl | npid)");
      }
    }
    return new EvalSettings(init, layers, t.getBool(f + "EVAL_TRUNK_AND_HEAD") || t.getBool(f + "FREEZE_TRUNK_AND_HEAD"),
        t.getBool(f + "EXTRACT_TRUNK_FEATURES_ONLY"), t.getBool(f + "SHOULD_FLATTEN_FEATS"),
        t.getString(C + "EXTRACT_FEATURES.OUTPUT_DIR"), ks, sigma, t.getBool(nn + "L2_NORM_FEATS"), protocols);
  }

  /** {@code ["res4", ["AvgPool2d", [[8, 8], 3, 0]]]} or {@code ["res5avg", ["Identity", []]]}. */
  static PooledLayer pooledLayer(Object entry, String at, List<String> trunkLayers) {
    String shape = " must look like [\"res5\", [\"AvgPool2d\", [[6, 6], 1, 0]]] or [\"res5avg\", [\"Identity\", []]], got ";
    if (!(entry instanceof List<?> e) || e.size() != 2 || !(e.get(0) instanceof String layer) || !(e.get(1) instanceof List<?> op)
        || op.isEmpty() || !(op.get(0) instanceof String opName)) {
      throw new ConfigError(at + shape + ConfigTree.describe(entry));
    }
    if (!trunkLayers.contains(layer)) {
      throw new ConfigError(at + ": unknown layer '" + layer + "'; the trunk's layers are " + trunkLayers);
    }
    if (opName.equals("Identity")) {
      return PooledLayer.identity(layer);
    }
    if (!opName.equals("AvgPool2d") || op.size() < 2 || !(op.get(1) instanceof List<?> args) || args.isEmpty()) {
      throw new ConfigError(at + ": pooling '" + opName + "' is not available (AvgPool2d | Identity)" + "; the entry" + shape + ConfigTree.describe(entry));
    }
    int[] kernel;
    if (args.get(0) instanceof List<?> k && k.size() == 2 && k.get(0) instanceof Long && k.get(1) instanceof Long) {
      kernel = new int[] {((Long) k.get(0)).intValue(), ((Long) k.get(1)).intValue()};
    } else if (args.get(0) instanceof Long k) {
      kernel = new int[] {k.intValue(), k.intValue()};
    } else {
      throw new ConfigError(at + ": AvgPool2d kernel" + shape + ConfigTree.describe(entry));
    }
    int stride = args.size() > 1 && args.get(1) instanceof Long s ? s.intValue() : kernel[0];
    int padding = args.size() > 2 && args.get(2) instanceof Long p ? p.intValue() : 0;
    return new PooledLayer(layer, opName, kernel, stride, padding);
  }

  private static List<String> strings(ConfigTree t, String path) {
    List<String> out = new ArrayList<>();
    for (Object o : t.getList(path)) {
      out.add(String.valueOf(o));
    }
    return out;
  }
}
