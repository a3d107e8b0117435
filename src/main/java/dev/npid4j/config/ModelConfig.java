package dev.npid4j.config;

import dev.npid4j.model.TrunkType;
import dev.npid4j.model.MlpHeadSpec;
import dev.npid4j.model.ResNetSpec;
import dev.npid4j.torch.CpuFeatures;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;

/**
 * @param trunkType MODEL.TRUNK.NAME; for alexnet_bvlc, {@code trunk} carries only the input channels
 * @param bf16Autocast MODEL.AMP_PARAMS.USE_AMP: the training forward under CPU autocast to bfloat16
 * @param ampOffWithoutNativeBf16 USE_AMP was asked for, but MODEL.AMP_PARAMS.NATIVE_BF16_ONLY
 *     turned it off on this CPU (no AVX512-BF16 / AMX): training runs in float32
 * @param headBatchNormEps MODEL.HEAD.BATCHNORM_EPS (also the linear benchmark's heads)
 */
public record ModelConfig(TrunkType trunkType, ResNetSpec trunk, List<MlpHeadSpec> heads, double headParamsMultiplier,
    boolean bf16Autocast, boolean ampOffWithoutNativeBf16, double headBatchNormEps, double headBatchNormMomentum) {
  public int embeddingDim() {
    return heads.isEmpty() ? trunk.outputDim() : heads.get(heads.size() - 1).outputDim();
  }

  static ModelConfig read(ConfigTree t) {
    String m = "config." + "MODEL.";
    String trunkName = t.getString(m + "TRUNK.NAME");
    TrunkType trunkType = TrunkType.named(trunkName);
    if (trunkType == null) {
      throw new ConfigError(m + "TRUNK.NAME: trunk '" + trunkName + "' is not available; npid4j builds " + TrunkType.names());
    }
    String r = m + "TRUNK.RESNETS.";
    String inputType = t.getString(m + "INPUT_TYPE");
    int channels = switch (inputType) {
      case "rgb" -> 3;
      case "gray" -> 1;
      default -> throw new ConfigError(m + "INPUT_TYPE must be rgb or gray, got '" + inputType + "'");
    };
    ResNetSpec trunk;
    try {
      trunk = new ResNetSpec(t.getInt(r + "DEPTH"), t.getString(r + "STEM"), channels, t.getInt(r + "BASE_WIDTH"),
          t.getInt(r + "WIDTH_MULTIPLIER"), t.getInt(r + "GROUPS"), t.getInt(r + "WIDTH_PER_GROUP"),
          t.getInt(r + "LAYER4_STRIDE"), t.getBool(r + "ZERO_INIT_RESIDUAL"), t.getString(r + "NORM"), t.getInt(r + "GROUPNORM_GROUPS"));
    } catch (IllegalArgumentException e) {
      throw new ConfigError(r + "*: " + e.getMessage());
    }
    boolean amp = t.getBool(m + "AMP_PARAMS.USE_AMP");
    if (amp) {
      String type = t.getString(m + "AMP_PARAMS.AMP_TYPE");
      if (!type.equals("pytorch")) {
        throw new ConfigError(m + "AMP_PARAMS.AMP_TYPE: '" + type + "' is not available; apex is NVIDIA's CUDA library,"
            + " npid4j uses libtorch's autocast: set config.MODEL.AMP_PARAMS.AMP_TYPE=pytorch");
      }
      String dtype = t.getString(m + "AMP_PARAMS.AMP_DTYPE");
      if (!dtype.equals("bfloat16")) {
        throw new ConfigError(m + "AMP_PARAMS.AMP_DTYPE: '" + dtype + "' is not available on CPU (float16 training needs a GPU"
            + " and a loss scaler); use bfloat16");
      }
    }
    // npid4j's NATIVE_BF16_ONLY: autocast only where the CPU computes bfloat16 natively; elsewhere
    // bfloat16 is emulated and slower than float32, so a config that asks for speed runs float32
    boolean ampOff = amp && t.getBool(m + "AMP_PARAMS.NATIVE_BF16_ONLY") && "cpu".equals(t.getString("config." + "MACHINE.DEVICE"))
        && !CpuFeatures.nativeBf16();
    List<MlpHeadSpec> heads = heads(t, m + "HEAD.");
    if (trunkType == TrunkType.ALEXNET_BVLC && heads.isEmpty()) {
      throw new ConfigError(m + "HEAD.PARAMS: alexnet_bvlc needs a head (its feature width depends on the image size)");
    }
    int width = trunkType.outputDim(trunk);
    for (int i = 0; i < heads.size(); i++) {
      if (width >= 0 && heads.get(i).inputDim() != width) {
        throw new ConfigError(m + "HEAD.PARAMS[" + i + "] takes " + heads.get(i).inputDim() + "-d input but the "
            + (i == 0 ? "trunk (" + describe(trunkType, trunk) + ")" : "head before it") + " gives " + width
            + "-d features: set its dims[0] to " + width);
      }
      width = heads.get(i).outputDim();
    }
    return new ModelConfig(trunkType, trunk, heads, t.getDouble(m + "HEAD.PARAMS_MULTIPLIER"), amp && !ampOff, ampOff,
        t.getDouble(m + "HEAD.BATCHNORM_EPS"), t.getDouble(m + "HEAD.BATCHNORM_MOMENTUM"));
  }

  private static String describe(TrunkType type, ResNetSpec spec) {
    return type == TrunkType.RESNET ? "ResNet-" + spec.depth() + ", width multiplier " + spec.widthMultiplier() : type.configName();
  }

  private static final List<String> MLP_KEYS = List.of("dims", "use_bn", "use_relu", "use_dropout", "use_bias", "skip_last_layer_relu_bn");

  private static List<MlpHeadSpec> heads(ConfigTree t, String h) {
    List<MlpHeadSpec> out = new ArrayList<>();
    List<Object> params = t.getList(h + "PARAMS");
    for (int i = 0; i < params.size(); i++) {
      String at = h + "PARAMS[" + i + "]";
      if (!(params.get(i) instanceof List<?> entry) || entry.isEmpty() || !(entry.get(0) instanceof String name)) {
        throw new ConfigError(at + " must look like [\"mlp\", {\"dims\": [2048, 128]}], got " + params.get(i));
      }
      if (!name.equals("mlp")) {
        throw new ConfigError(at + ": head '" + name + "' is not available; npid4j builds 'mlp' heads");
      }
      Map<String, Object> p = entry.size() > 1 && entry.get(1) instanceof Map<?, ?> mp ? YamlValues.asMap(mp) : Map.of();
      for (String k : p.keySet()) {
        if (!MLP_KEYS.contains(k)) {
          String hint = Keys.closest(k, MLP_KEYS);
          throw new ConfigError(at + ": unknown mlp parameter '" + k + "'" + (hint != null ? "; did you mean '" + hint + "'?" : ""));
        }
      }
      if (!(p.get("dims") instanceof List<?> dimsRaw)) {
        throw new ConfigError(at + ": mlp needs \"dims\", e.g. {\"dims\": [2048, 128]}");
      }
      List<Integer> dims = new ArrayList<>();
      for (Object d : dimsRaw) {
        if (!(d instanceof Long l)) {
          throw new ConfigError(at + ".dims must be integers, got " + dimsRaw);
        }
        dims.add(l.intValue());
      }
      try {
        out.add(new MlpHeadSpec(dims, flag(p, "use_bn", false, at), flag(p, "use_relu", false, at),
            flag(p, "use_dropout", false, at), flag(p, "use_bias", true, at), flag(p, "skip_last_layer_relu_bn", true, at),
            t.getDouble(h + "BATCHNORM_EPS"), t.getDouble(h + "BATCHNORM_MOMENTUM")));
      } catch (IllegalArgumentException e) {
        throw new ConfigError(at + ": " + e.getMessage());
      }
    }
    return out;
  }

  private static boolean flag(Map<String, Object> p, String key, boolean dflt, String at) {
    Object v = p.getOrDefault(key, dflt);
    if (!(v instanceof Boolean b)) {
      throw new ConfigError(at + "." + key + " expects true or false, got " + ConfigTree.describe(v));
    }
    return b;
  }
}
