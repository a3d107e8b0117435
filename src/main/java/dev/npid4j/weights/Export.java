package dev.npid4j.weights;

import dev.npid4j.formats.Py;
import dev.npid4j.model.NpidModel;
import dev.npid4j.torch.StateDict;
import java.util.LinkedHashMap;
import java.util.Map;
import org.bytedeco.pytorch.Tensor;

/** The layouts {@code npid4j export} writes, as values for {@link TorchFiles#save}. */
public final class Export {
  private Export() {}

  /** The trunk's state dict under torchvision's keys: {@code torchvision.models.resnetXX().load_state_dict(sd, strict=False)} misses only fc.*. */
  public static Object torchvision(NpidModel model) {
    Map<String, Tensor> sd = new LinkedHashMap<>();
    StateDict.of(model.trunk()).forEach(sd::put);
    return new Py.OrderedDict(sd);
  }

  /**
   * VISSL's checkpoint layout: {@code classy_state_dict -> base_model -> model -> trunk / heads},
   * trunk keys under {@code _feature_blocks.}, heads keyed {@code 0.clf.0.weight}; the memory
   * bank, when given, under {@code loss.memory}.
   */
  public static Object vissl(NpidModel model, Tensor memoryBank, long phaseIdx, long iteration) {
    Map<String, Tensor> trunk = new LinkedHashMap<>();
    Map<String, Tensor> heads = new LinkedHashMap<>();
    StateDict.of(model).forEach((k, v) -> {
      if (k.startsWith("trunk.")) {
        trunk.put("_feature_blocks." + k.substring("trunk.".length()), v);
      } else if (k.startsWith("heads.")) {
        heads.put(k.substring("heads.".length()), v);
      }
    });
    Map<String, Object> modelDict = new LinkedHashMap<>();
    modelDict.put("trunk", new Py.OrderedDict(trunk));
    modelDict.put("heads", new Py.OrderedDict(heads));
    Map<String, Object> base = new LinkedHashMap<>();
    base.put("model", modelDict);
    base.put("meta", new LinkedHashMap<>());
    Map<String, Object> classy = new LinkedHashMap<>();
    classy.put("train", Boolean.TRUE);
    classy.put("base_model", base);
    Map<String, Object> root = new LinkedHashMap<>();
    root.put("phase_idx", phaseIdx);
    root.put("iteration", iteration);
    root.put("iteration_num", iteration);
    root.put("train_phase_idx", phaseIdx);
    root.put("classy_state_dict", classy);
    if (memoryBank != null) {
      Map<String, Tensor> loss = new LinkedHashMap<>();
      loss.put("memory", memoryBank);
      root.put("loss", new Py.OrderedDict(loss));
    }
    root.put("type", "consolidated");
    return root;
  }
}
