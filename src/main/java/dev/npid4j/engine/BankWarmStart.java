package dev.npid4j.engine;

import dev.npid4j.torch.Scopes;
import dev.npid4j.torch.NoGrad;
import dev.npid4j.data.Batch;
import dev.npid4j.data.BatchLoader;
import dev.npid4j.data.Dataset;
import dev.npid4j.data.transform.Transform;
import dev.npid4j.distributed.Communicator;
import dev.npid4j.loss.NceLossWithMemory;
import dev.npid4j.model.NpidModel;
import dev.npid4j.torch.Devices;
import dev.npid4j.model.Norm;
import dev.npid4j.torch.Ops;
import dev.npid4j.torch.Tensors;
import java.util.Iterator;
import java.util.stream.IntStream;
import org.bytedeco.pytorch.Device;
import org.bytedeco.pytorch.Tensor;
import org.bytedeco.pytorch.global.torch.ScalarType;

/**
 * npid4j's {@code memory_params.init_from_model}: before the first step, every bank row becomes
 * the L2-normalised embedding of its image under the model as training finds it (the seeded init,
 * or MODEL.WEIGHTS_INIT), instead of VISSL's random unit vector. A resumed run keeps its bank.
 *
 * <p>Why: with a random bank, each positive of the first epoch is a random vector, so the network
 * spends that epoch learning to map images to noise, and with momentum 0.5 half of every row is
 * still noise after it. A bank filled from the model makes the positives meaningful from the first
 * step.
 *
 * <p>The forward runs in training mode (batch statistics, as the training steps see them) under
 * no-grad, under bfloat16 autocast when the training forward runs under it. The weights are untouched; the BatchNorm running statistics follow the pass, as a
 * training epoch would move them. Training never reads them, but the kNN monitor's test
 * features (eval mode) do: restored to their init (mean 0, variance 1) they made a 16-step run's
 * test features disagree with the bank, and its kNN fell to chance (10%) where re-extracted
 * features gave 47%.
 *
 * <p>With several ranks each forwards every W-th batch of a one-rank pass, with its own BatchNorm
 * statistics even under SyncBatchNorm, and one all-reduce assembles the bank on every rank. The
 * pass does not watch for SIGTERM: a stop asked during it is taken at the first step.
 */
final class BankWarmStart {
  private BankWarmStart() {}

  /** Fills {@code loss}'s bank; returns the seconds it took. */
  static double fill(NpidModel model, Dataset train, Transform transform, int batchSize, int workers, NceLossWithMemory loss,
      Communicator comm, boolean bf16Autocast) {
    long t0 = System.nanoTime();
    int n = train.size();
    int world = comm.worldSize();
    // the batches of a one-rank pass, dealt out in turn: every batch holds the images it holds in
    // a one-rank run (same BatchNorm statistics), so W ranks fill the bank one rank fills
    int batches = (n + batchSize - 1) / batchSize;
    int[] order = IntStream.range(0, batches).filter(b -> b % world == comm.rank())
        .flatMap(b -> IntStream.range(b * batchSize, Math.min(n, (b + 1) * batchSize))).toArray();
    Tensor bank = loss.memory();
    Device device = Devices.of(model);
    try (var scope = Scopes.open(); var g = NoGrad.open();
        Norm.Switch localBn = Norm.ownForward(model.norms())) {
      if (world > 1) {
        bank.zero_();
      }
      try (BatchLoader loader = new BatchLoader(train, transform, batchSize, false, workers, 0)) {
        Iterator<Batch> it = loader.epoch(0, order, 0);
        int at = 0;
        while (it.hasNext()) {
          Batch b = it.next();
          try (var step = Scopes.open()) {
            Tensor e = Ops.l2Normalize(TrainingStep.forward(model, b, device, bf16Autocast).to(ScalarType.Float));
            bank.narrow(0, order[at], b.size()).copy_(e);
          }
          at += b.size();
        }
      }
      if (world > 1) {
        // the rows of the other ranks' batches are zero here: the sum is the whole bank, exactly
        Tensor wide = Tensors.isType(bank, ScalarType.Float) ? bank : bank.to(ScalarType.Float);
        comm.allReduceSum(wide);
        if (wide != bank) {
          bank.copy_(wide);
        }
      }
    }
    loss.bank().markSynced();
    return (System.nanoTime() - t0) / 1e9;
  }
}
