package dev.npid4j.engine;

import dev.npid4j.data.Batch;
import dev.npid4j.loss.LossOutput;
import dev.npid4j.model.NpidModel;
import dev.npid4j.torch.Autocast;
import dev.npid4j.torch.Devices;
import dev.npid4j.torch.Scopes;
import dev.npid4j.torch.Tensors;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.List;
import java.util.Locale;
import org.bytedeco.pytorch.Device;
import org.bytedeco.pytorch.Tensor;

/**
 * One optimizer step on one rank, inside its own native-memory scope: forward (under bfloat16
 * autocast when the run uses it), the NCE loss with its bank update, backward, gradient all-reduce
 * with several ranks, SGD. With several ranks, the same all-reduce that averages the logged loss
 * tells every rank whether any of them was asked to stop.
 */
final class TrainingStep {
  private final TrainingSession s;

  TrainingStep(TrainingSession s) {
    this.s = s;
  }

  /** The step's loss (its mean over ranks) and, with several ranks, whether any rank was asked to stop. */
  record Result(double loss, boolean stopAsked) {}

  /**
   * The embeddings of a batch as a training step computes them: the model's current mode, under
   * bfloat16 autocast when the run uses it. Shared with the bank fill, which must see the model as
   * the steps do.
   */
  static Tensor forward(NpidModel model, Batch batch, Device device, boolean bf16Autocast) {
    Tensor images = Devices.to(Tensors.fromFloats(batch.images(), batch.shape()), device);
    try (Autocast amp = bf16Autocast ? Autocast.bfloat16(device) : null) {
      return model.forward(images);
    }
  }

  Result run(Batch batch, int epoch, int step, long globalStep) {
    var cfg = s.cfg;
    try (var scope = Scopes.open()) {
      if (s.sync != null && cfg.distributed().broadcastBuffers()) {
        s.sync.broadcastBuffers();
      }
      Tensor embedding = forward(s.model, batch, s.device, cfg.model().bf16Autocast());
      LossOutput lo = s.loss.forward(List.of(embedding), batch.indices());
      double lossValue = lo.loss();
      boolean stopAsked = false;
      if (s.comm.worldSize() > 1) {
        // one all-reduce carries the logged loss (DDP logs the mean over ranks) and whether any rank was asked to stop
        Tensor t = Tensors.fromDoubles(new double[] {lossValue, StopSignal.requested() != null ? 1 : 0}, 2);
        s.comm.allReduceMean(t);
        double[] v = Tensors.toDoubles(t);
        lossValue = v[0];
        stopAsked = v[1] > 0;
      }
      if (cfg.checkNan() && !Double.isFinite(lossValue)) {
        Path link = s.runDir.resolve("checkpoint.torch");
        String last;
        try {
          last = Files.exists(link) ? link.toRealPath().toString() : "(none yet)";
        } catch (java.io.IOException e) {
          last = link.toString();
        }
        throw new TrainingFailure(String.format(Locale.ROOT,
            "loss is %s at epoch %d step %d (global step %d); batch sample indices start %s. Lower the LR or"
                + " check the data; the last good checkpoint is %s", lossValue, epoch + 1, step + 1, globalStep + 1,
            Arrays.toString(Arrays.copyOf(batch.indices(), Math.min(8, batch.indices().length))), last));
      }
      s.sgd.zeroGrad();
      if (s.sync != null) {
        s.sync.beginBackward();
      }
      Tensors.backward(embedding, lo.gradients().get(0));
      if (s.sync != null) {
        s.sync.averageGradients();
      }
      s.sgd.step();
      return new Result(lossValue, stopAsked);
    }
  }

  /**
   * Negative-sampling seed of one step: a function of (seed, step) only, the same on every rank,
   * so resume redraws the same negatives (each sample's stream then comes from its index).
   */
  static long mixSeed(long seed, long step) {
    long z = seed * 0x9E3779B97F4A7C15L + step * 0x94D049BB133111EBL;
    z = (z ^ (z >>> 30)) * 0xBF58476D1CE4E5B9L;
    return z ^ (z >>> 31);
  }
}
