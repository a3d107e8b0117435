package dev.npid4j.model;

import dev.npid4j.torch.Layers;
import java.util.ArrayList;
import java.util.List;
import org.bytedeco.pytorch.Module;
import org.bytedeco.pytorch.Tensor;

/**
 * A block's normalisation layer: the registered libtorch module (its weights, buffers and
 * state-dict keys) and the forward it runs, which a data-parallel run can replace, as PyTorch's
 * {@code convert_sync_batchnorm} replaces BatchNorm modules by SyncBatchNorm ones holding the same
 * tensors. By default the layer's own forward ({@link Layers#forwardNorm}).
 */
public final class Norm {
  /** How a normalisation layer's forward runs, with the ReLU after it when {@code relu}. */
  public interface Forward {
    Tensor apply(Module layer, Tensor x, boolean relu);
  }

  /** The layer's own forward (npid4j's fused BatchNorm+ReLU kernel where it applies). */
  public static final Forward OWN = Layers::forwardNorm;

  private final Module layer;
  private volatile Forward forward = OWN;

  Norm(Module layer) {
    this.layer = layer;
  }

  public Module layer() {
    return layer;
  }

  public Tensor forward(Tensor x) {
    return forward.apply(layer, x, false);
  }

  /** The forward followed by an in-place ReLU. */
  public Tensor forwardRelu(Tensor x) {
    return forward.apply(layer, x, true);
  }

  /** Runs the layer through {@code f} from now on. */
  public void use(Forward f) {
    this.forward = f;
  }

  /** A set of layers switched back to their own forward until closed, which restores what they ran before. */
  public interface Switch extends AutoCloseable {
    @Override
    void close();
  }

  /** The layers' own forward until the returned switch is closed: a pass one rank makes alone (SyncBatchNorm would wait for the others). */
  public static Switch ownForward(List<Norm> norms) {
    List<Forward> before = new ArrayList<>();
    for (Norm n : norms) {
      before.add(n.forward);
      n.forward = OWN;
    }
    return () -> {
      for (int i = 0; i < norms.size(); i++) {
        norms.get(i).forward = before.get(i);
      }
    };
  }
}
