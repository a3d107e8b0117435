package dev.npid4j.optim;

import dev.npid4j.torch.NoGrad;
import java.util.ArrayList;
import java.util.List;
import org.bytedeco.pytorch.Scalar;
import org.bytedeco.pytorch.Tensor;
import org.bytedeco.pytorch.global.torch;

/**
 * PyTorch's SGD (dampening 0): g = grad + wd * p; buf = momentum * buf + g (buf = g at the
 * first step); g = nesterov ? g + momentum * buf : buf; p -= lr * g. Two groups, with and
 * without weight decay. Momentum buffers are allocated once, outside any step scope.
 */
public final class Sgd implements AutoCloseable {
  private final List<Tensor> params = new ArrayList<>();
  private final List<Boolean> decays = new ArrayList<>();
  private final List<Tensor> buffers = new ArrayList<>();
  private final double momentum;
  private final double weightDecay;
  private final boolean nesterov;
  private boolean started;
  private double lr;

  public Sgd(ParamGroups groups, double momentum, double weightDecay, boolean nesterov) {
    this.momentum = momentum;
    this.weightDecay = weightDecay;
    this.nesterov = nesterov;
    for (Tensor p : groups.regularized().values()) {
      add(p, true);
    }
    for (Tensor p : groups.unregularized().values()) {
      add(p, false);
    }
  }

  private void add(Tensor p, boolean decay) {
    params.add(p);
    decays.add(decay);
    buffers.add(momentum != 0 ? torch.zeros_like(p) : null);
  }

  public void setLr(double lr) {
    this.lr = lr;
  }

  public double lr() {
    return lr;
  }

  /** Momentum buffers in parameter order (regularized group first), for checkpoints. */
  public List<Tensor> momentumBuffers() {
    return buffers;
  }

  public boolean started() {
    return started;
  }

  /** Marks the buffers as holding state (after a restore from a checkpoint). */
  public void markStarted() {
    started = true;
  }

  /**
   * Drops the gradients (PyTorch's {@code zero_grad(set_to_none=True)}): the next backward then
   * hands each parameter its freshly computed gradient instead of adding it to a zeroed one,
   * which saves a memset and a read-add-write pass over every gradient per step.
   */
  public void zeroGrad() {
    for (Tensor p : params) {
      if (p.grad().defined()) {
        p.mutable_grad().put(new Tensor());
      }
    }
  }

  public void step() {
    try (var guard = NoGrad.open()) {
      Scalar minusLr = new Scalar(-lr);
      for (int i = 0; i < params.size(); i++) {
        Tensor p = params.get(i);
        Tensor grad = p.grad();
        if (!grad.defined()) {
          continue;
        }
        // in place: the gradient is dropped before the next backward (zeroGrad), so no new tensor
        Tensor d = decays.get(i) && weightDecay != 0 ? grad.add_(p, new Scalar(weightDecay)) : grad;
        if (momentum != 0) {
          Tensor buf = buffers.get(i);
          if (started) {
            buf.mul_(new Scalar(momentum)).add_(d);
          } else {
            buf.copy_(d);
          }
          d = nesterov ? d.add(buf, new Scalar(momentum)) : buf;
        }
        p.add_(d, minusLr);
      }
      started = true;
    }
  }

  @Override
  public void close() {
    for (Tensor b : buffers) {
      if (b != null) {
        b.close();
      }
    }
  }
}
