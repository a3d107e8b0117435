package dev.npid4j.model;

import java.util.ArrayList;
import java.util.List;
import java.util.function.UnaryOperator;
import org.bytedeco.pytorch.LinearImpl;
import org.bytedeco.pytorch.Module;
import org.bytedeco.pytorch.Tensor;
import org.bytedeco.pytorch.global.torch;
import dev.npid4j.torch.Layers;

/**
 * VISSL's MLP head. Layers live in a child "clf" and are numbered like the Python
 * {@code nn.Sequential}, counting ReLU and Dropout, so the keys match ({@code clf.0.weight}).
 */
public final class MlpHead extends Module {
  private final MlpHeadSpec spec;
  private final List<UnaryOperator<Tensor>> layers = new ArrayList<>();
  // Java-side modules must stay reachable: libtorch calls back into them (train/eval), and a
  // collected peer shows up as a NullPointerException from native code.
  private final Module clf;
  private final List<Norm> norms = new ArrayList<>();

  public MlpHead(MlpHeadSpec spec) {
    this.spec = spec;
    clf = register_module("clf", new Module());
    int index = 0;
    List<Integer> dims = spec.dims();
    for (int i = 1; i < dims.size(); i++) {
      LinearImpl lin = clf.register_module(Integer.toString(index++), Layers.linear(dims.get(i - 1), dims.get(i), spec.useBias()));
      layers.add(lin::forward);
      if (i == dims.size() - 1 && spec.skipLastLayerReluBn()) {
        break;
      }
      if (spec.useBn()) {
        Norm bn = new Norm(clf.register_module(Integer.toString(index++),
            Layers.batchNorm1d(dims.get(i), spec.batchNormEps(), spec.batchNormMomentum())));
        norms.add(bn);
        layers.add(bn::forward);
      }
      if (spec.useRelu()) {
        index++;
        layers.add(torch::relu);
      }
      if (spec.useDropout()) {
        index++;
        layers.add(x -> torch.dropout(x, 0.5, is_training()));
      }
    }
  }

  /** The head's BatchNorm layers (use_bn). */
  public List<Norm> norms() {
    return norms;
  }

  public MlpHeadSpec spec() {
    return spec;
  }

  /** Accepts N x D or N x D x 1 x 1, as VISSL's head. */
  public Tensor forward(Tensor x) {
    Tensor out = x.dim() == 4 ? torch.flatten(x, 1, -1) : x;
    for (UnaryOperator<Tensor> layer : layers) {
      out = layer.apply(out);
    }
    return out;
  }
}
