package dev.npid4j.optim;

import dev.npid4j.torch.StateDict;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.stream.Collectors;
import org.bytedeco.pytorch.Module;
import org.bytedeco.pytorch.Tensor;

/**
 * VISSL's default parameter groups: conv and linear weights always get weight decay, their
 * biases only if regularize_bias, BatchNorm weights and biases only if regularize_bn.
 */
public record ParamGroups(Map<String, Tensor> regularized, Map<String, Tensor> unregularized) {

  public static ParamGroups of(Module model, boolean regularizeBn, boolean regularizeBias) {
    Set<String> bnModules = StateDict.moduleTypes(model).entrySet().stream()
        .filter(e -> e.getValue().contains("BatchNorm"))
        .map(Map.Entry::getKey).collect(Collectors.toSet());
    Map<String, Tensor> reg = new LinkedHashMap<>();
    Map<String, Tensor> noReg = new LinkedHashMap<>();
    for (Map.Entry<String, Tensor> e : StateDict.parameters(model).entrySet()) {
      String name = e.getKey();
      String owner = name.contains(".") ? name.substring(0, name.lastIndexOf('.')) : "";
      boolean bn = bnModules.contains(owner);
      boolean bias = name.endsWith(".bias") || name.equals("bias");
      boolean decay = bn ? regularizeBn : (!bias || regularizeBias);
      (decay ? reg : noReg).put(name, e.getValue());
    }
    return new ParamGroups(reg, noReg);
  }

  public List<Tensor> all() {
    List<Tensor> out = new ArrayList<>(regularized.values());
    out.addAll(unregularized.values());
    return out;
  }
}
