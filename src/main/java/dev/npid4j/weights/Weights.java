package dev.npid4j.weights;

import dev.npid4j.formats.TorchFiles;
import dev.npid4j.torch.NoGrad;
import dev.npid4j.UserError;
import dev.npid4j.config.EvalSettings.WeightsInit;
import dev.npid4j.model.NpidModel;
import dev.npid4j.torch.StateDict;
import dev.npid4j.torch.Tensors;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.bytedeco.pytorch.Tensor;

/**
 * Weights from a file into an {@link NpidModel}, as VISSL's MODEL.WEIGHTS_INIT does: an npid4j
 * checkpoint, a VISSL checkpoint ({@code classy_state_dict -> base_model -> model -> trunk/heads},
 * trunk keys under {@code _feature_blocks.}) or a torchvision state dict ({@code conv1.weight},
 * ..., {@code fc.*} ignored), with REMOVE_PREFIX / APPEND_PREFIX / SKIP_LAYERS.
 */
public final class Weights {
  private Weights() {}

  /**
   * Model-keyed tensors ({@code trunk.conv1.weight}, {@code heads.0.clf.0.weight}), the memory
   * bank if the file has one, and for npid4j checkpoints the epochs and iterations done (else 0).
   */
  public record Loaded(Map<String, Tensor> model, Tensor memoryBank, String format, long epochsDone, long iteration) {
    Loaded(Map<String, Tensor> model, Tensor memoryBank, String format) {
      this(model, memoryBank, format, 0, 0);
    }
  }

  public static Loaded read(Path file, WeightsInit cfg) {
    if (!Files.isRegularFile(file)) {
      throw new UserError("config.MODEL.WEIGHTS_INIT.PARAMS_FILE: no such file: " + file);
    }
    TorchFiles.Contents contents = TorchFiles.read(file);
    var checkpoint = CheckpointFile.of(contents.value(), file);
    if (checkpoint.isPresent()) {
      CheckpointFile ck = checkpoint.get();
      return new Loaded(ck.model(), ck.memory(), "npid4j checkpoint", ck.epoch(), ck.iteration());
    }
    if (contents.scripted()) {
      throw TorchFiles.scriptRefusal(file);
    }
    return fromPython(contents.value(), cfg, file);
  }

  @SuppressWarnings("unchecked")
  static Loaded fromPython(Object root, WeightsInit cfg, Path file) {
    if (!(root instanceof Map<?, ?> top)) {
      throw new UserError(file + " holds a " + describe(root) + ", not a state dict or a checkpoint dict");
    }
    Map<String, Tensor> out = new LinkedHashMap<>();
    Tensor bank = null;
    String key = cfg.stateDictKeyName();
    if (!key.isEmpty() && top.get(key) instanceof Map<?, ?> classy && classy.get("base_model") instanceof Map<?, ?> base
        && base.get("model") instanceof Map<?, ?> model) {
      if (model.get("trunk") instanceof Map<?, ?> trunk) {
        tensors((Map<Object, Object>) trunk).forEach((k, v) -> putMapped(out, "trunk." + k, v, cfg));
      }
      if (model.get("heads") instanceof Map<?, ?> heads) {
        tensors((Map<Object, Object>) heads).forEach((k, v) -> putMapped(out, "heads." + k, v, cfg));
      }
      if (top.get("loss") instanceof Map<?, ?> loss) {
        for (Map.Entry<String, Tensor> e : tensors((Map<Object, Object>) loss).entrySet()) {
          if (e.getKey().endsWith("memory") && e.getValue().dim() == 2) {
            bank = e.getValue();
          }
        }
      }
      return new Loaded(out, bank, "VISSL checkpoint");
    }
    Map<?, ?> flat = top;
    for (String wrapper : List.of("state_dict", "model")) {
      if (top.get(wrapper) instanceof Map<?, ?> m && !tensors((Map<Object, Object>) m).isEmpty()) {
        flat = m;
      }
    }
    Map<String, Tensor> ts = tensors((Map<Object, Object>) flat);
    if (ts.isEmpty()) {
      throw new UserError(file + " holds no tensors under the keys npid4j knows (" + cfg.stateDictKeyName()
          + ".base_model.model, state_dict, model, or a flat state dict); its keys: " + top.keySet());
    }
    ts.forEach((k, v) -> putMapped(out, k, v, cfg));
    return new Loaded(out, null, "torchvision-style state dict");
  }

  private static void putMapped(Map<String, Tensor> out, String key, Tensor v, WeightsInit cfg) {
    String mk = modelKey(key, cfg);
    if (mk != null) {
      out.put(mk, v);
    }
  }

  /** A checkpoint key to this model's naming, or null for keys a trunk-and-head model has no use for (fc.*). */
  static String modelKey(String key, WeightsInit cfg) {
    String k = key;
    if (!cfg.removePrefix().isEmpty() && k.startsWith(cfg.removePrefix())) {
      k = k.substring(cfg.removePrefix().length());
    }
    k = cfg.appendPrefix() + k;
    if (k.startsWith("module.")) {
      k = k.substring("module.".length()); // DistributedDataParallel
    }
    if (k.startsWith("trunk._feature_blocks.")) {
      return "trunk." + k.substring("trunk._feature_blocks.".length());
    }
    if (k.startsWith("_feature_blocks.")) {
      return "trunk." + k.substring("_feature_blocks.".length());
    }
    if (k.startsWith("trunk.") || k.startsWith("heads.")) {
      return k;
    }
    if (k.startsWith("fc.")) {
      return null; // torchvision's classifier
    }
    return "trunk." + k;
  }

  private static Map<String, Tensor> tensors(Map<Object, Object> m) {
    Map<String, Tensor> out = new LinkedHashMap<>();
    m.forEach((k, v) -> {
      if (k instanceof String s && v instanceof Tensor t) {
        out.put(s, t);
      }
    });
    return out;
  }

  /** What {@link #loadInto} did. */
  public record Report(int loaded, List<String> missingHeads, List<String> unused) {}

  /**
   * Copies the weights into {@code model}. Every trunk tensor must be present with the right shape
   * (one clear error otherwise); missing head tensors keep their init when {@code headsOptional}.
   */
  public static Report loadInto(NpidModel model, Loaded weights, List<String> skipLayers, boolean headsOptional, String source) {
    Map<String, Tensor> target = StateDict.of(model);
    List<String> missingTrunk = new ArrayList<>();
    List<String> missingHeads = new ArrayList<>();
    int loaded = 0;
    try (var g = NoGrad.open()) {
      for (Map.Entry<String, Tensor> e : target.entrySet()) {
        String k = e.getKey();
        if (skipLayers.stream().anyMatch(k::contains)) {
          continue;
        }
        Tensor src = weights.model().get(k);
        if (src == null) {
          (k.startsWith("heads.") ? missingHeads : missingTrunk).add(k);
          continue;
        }
        long[] want = Tensors.shape(e.getValue());
        long[] have = Tensors.shape(src);
        if (!Arrays.equals(want, have)) {
          throw new UserError(source + ": " + k + " has shape " + Arrays.toString(have) + " but this model's is "
              + Arrays.toString(want) + ": the file was trained with another MODEL.TRUNK / MODEL.HEAD");
        }
        if (src.is_floating_point() != e.getValue().is_floating_point()) {
          throw new UserError(source + ": " + k + " holds " + src.scalar_type() + " values where this model keeps "
              + e.getValue().scalar_type() + ": not weights for this model");
        }
        e.getValue().copy_(src); // a copy into the model's own tensor (float16 weights become float32), never the file's tensor
        loaded++;
      }
    }
    if (!missingTrunk.isEmpty()) {
      throw new UserError(source + " (" + weights.format() + ") does not hold " + missingTrunk.get(0)
          + (missingTrunk.size() > 1 ? " and " + (missingTrunk.size() - 1) + " more trunk tensors" : "")
          + ": it was trained with another MODEL.TRUNK, or needs config.MODEL.WEIGHTS_INIT.REMOVE_PREFIX / APPEND_PREFIX");
    }
    if (!missingHeads.isEmpty() && !headsOptional) {
      throw new UserError(source + " (" + weights.format() + ") does not hold the head (" + missingHeads.get(0) + ")");
    }
    List<String> unused = new ArrayList<>(weights.model().keySet());
    unused.removeAll(target.keySet());
    unused.removeIf(k -> skipLayers.stream().anyMatch(k::contains));
    return new Report(loaded, missingHeads, unused);
  }

  private static String describe(Object o) {
    return dev.npid4j.formats.Py.typeName(o);
  }
}
