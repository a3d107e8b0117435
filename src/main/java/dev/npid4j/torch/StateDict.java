package dev.npid4j.torch;

import java.util.LinkedHashMap;
import java.util.Map;
import org.bytedeco.pytorch.Module;
import org.bytedeco.pytorch.StringTensorDict;
import org.bytedeco.pytorch.Tensor;

/** A module's named tensors as ordinary Java maps, keyed like PyTorch's state dict. */
public final class StateDict {
  private StateDict() {}

  public static Map<String, Tensor> parameters(Module m) {
    return toMap(m.named_parameters(true));
  }

  public static Map<String, Tensor> buffers(Module m) {
    return toMap(m.named_buffers(true));
  }

  /** Parameters then buffers (BN running stats, num_batches_tracked). */
  public static Map<String, Tensor> of(Module m) {
    Map<String, Tensor> all = parameters(m);
    all.putAll(buffers(m));
    return all;
  }

  public static long parameterCount(Module m) {
    long n = 0;
    for (Tensor t : parameters(m).values()) {
      n += t.numel();
    }
    return n;
  }

  /** Dotted name of every submodule to its libtorch type name (e.g. "torch::nn::BatchNorm2d"). */
  public static Map<String, String> moduleTypes(Module m) {
    Map<String, String> out = new LinkedHashMap<>();
    var dict = m.named_modules("", false);
    for (long i = 0; i < dict.size(); i++) {
      var item = dict.get(i);
      out.put(item.key().getString(), item.value().name().getString());
    }
    return out;
  }

  private static Map<String, Tensor> toMap(StringTensorDict dict) {
    Map<String, Tensor> out = new LinkedHashMap<>();
    for (long i = 0; i < dict.size(); i++) {
      var item = dict.get(i);
      // A fresh handle: value() points into the dict item, which is freed with the dict.
      out.put(item.key().getString(), new Tensor(item.value()));
    }
    return out;
  }

  /** Multiplies the parameters whose names start with {@code prefix} by {@code factor} in place (1 leaves them untouched). */
  public static void scaleParameters(Module m, String prefix, double factor) {
    if (factor == 1.0) {
      return;
    }
    try (var s = Scopes.open(); var g = NoGrad.open()) {
      for (Map.Entry<String, Tensor> e : parameters(m).entrySet()) {
        if (e.getKey().startsWith(prefix)) {
          e.getValue().mul_(new org.bytedeco.pytorch.Scalar(factor));
        }
      }
    }
  }
}
