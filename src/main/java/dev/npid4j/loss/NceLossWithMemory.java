package dev.npid4j.loss;

import dev.npid4j.distributed.Communicator;
import dev.npid4j.torch.Devices;
import dev.npid4j.torch.NoGrad;
import dev.npid4j.torch.Ops;
import dev.npid4j.torch.Tensors;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.stream.IntStream;
import org.bytedeco.pytorch.Device;
import org.bytedeco.pytorch.Scalar;
import org.bytedeco.pytorch.Tensor;
import org.bytedeco.pytorch.global.torch;
import org.bytedeco.pytorch.global.torch.ScalarType;

/**
 * VISSL's {@code nce_loss_with_memory} (docs/vissl-compatibility.md): K negatives drawn per
 * sample from the {@link MemoryBank}, NCE (Z estimated once) or InfoNCE cross-entropy
 * ({@link NceTerms}), and the momentum update of the bank inside the forward.
 *
 * <p>The backward is written out rather than left to autograd, so the bank rows never enter the
 * graph: {@link #forward} returns the loss and dL/d(output), and the caller runs
 * {@code output.backward(grad)}. How the scores are computed is {@link NceScores}'s business.
 */
public final class NceLossWithMemory implements AutoCloseable {
  private final NceLossParams params;
  private final MemoryBank bank;
  private final NceTerms terms;
  private final NceScores scores;
  private final Communicator comm;
  private Scores method = Scores.AUTO;

  /**
   * How the B'(K+1) scores are computed: {@code GATHER} copies the sampled rows of the bank into
   * a buffer and multiplies each batch row by its block; {@code SAMPLED} computes the same dot
   * products on the bank's rows in place (a sampled matrix product) and dL/dv as weighted sums
   * of them; {@code DENSE} multiplies the batch by the whole bank and picks the sampled scores
   * out of the B' x N product. {@code AUTO} takes dense when the bank has at most
   * {@link #DENSE_MAX_RATIO} x (K+1) rows, else sampled; a 16-bit bank is always gathered (its
   * rows are widened a chunk at a time). The same dot products every way, summed in another order.
   */
  public enum Scores { AUTO, DENSE, SAMPLED, GATHER }

  /** Where dense stops paying: it breaks even near N / (K+1) = 30 on 2 cores (docs/performance.md). */
  static final long DENSE_MAX_RATIO = 24;

  /** A loss with VISSL's random bank (see {@link MemoryBank#random}) stored in the computation's type on the CPU. */
  public static NceLossWithMemory create(NceLossParams params, MemoryBankParams bank, ScalarType dtype, long seed, NegativeSampler sampler,
      Communicator comm) {
    return create(params, bank, dtype, seed, sampler, comm, Devices.CPU, dtype);
  }

  /** The same with the bank on {@code device}, stored in {@code storage} (npid4j's 16-bit memory_params.dtype). */
  public static NceLossWithMemory create(NceLossParams params, MemoryBankParams bank, ScalarType dtype, long seed, NegativeSampler sampler,
      Communicator comm, Device device, ScalarType storage) {
    return new NceLossWithMemory(params, MemoryBank.random(bank, dtype, storage, seed, device), sampler, comm);
  }

  /** A loss over a given bank (taken over): golden tests. */
  public NceLossWithMemory(NceLossParams params, MemoryBank bank, NegativeSampler sampler, Communicator comm) {
    this.params = params;
    this.bank = bank;
    this.comm = comm;
    this.terms = new NceTerms(params, bank.size(), bank.dtype());
    this.scores = new NceScores(bank, terms, sampler, params.numNegatives(), comm);
  }

  public NceLossParams params() {
    return params;
  }

  public MemoryBank bank() {
    return bank;
  }

  /** The bank's rows (N x D, in its storage type), updated in place by every forward. */
  public Tensor memory() {
    return bank.tensor();
  }

  /** Current normalisation constant; negative until estimated (nce with norm_constant -1). */
  public double z() {
    return terms.z();
  }

  /** Restores Z from a checkpoint. */
  public void setZ(double z) {
    terms.setZ(z);
  }

  /** Forces one way of computing the scores (benchmarks, tests); training uses {@code AUTO}. */
  public NceLossWithMemory scores(Scores method) {
    this.method = method;
    return this;
  }

  /** How the forward computes the scores: AUTO resolved, and GATHER for a 16-bit bank whatever was asked (per-sample negatives). */
  public Scores scoresUsed() {
    if (!bank.storedInComputeType()) {
      return Scores.GATHER;
    }
    if (method != Scores.AUTO) {
      return method;
    }
    return bank.size() <= DENSE_MAX_RATIO * (params.numNegatives() + 1L) ? Scores.DENSE : Scores.SAMPLED;
  }

  /**
   * One VISSL forward + backward over the model outputs (one per loss weight, each B x D) and
   * the sample-index targets (length B, {@code ignore_index} rows skipped).
   */
  public LossOutput forward(List<Tensor> outputs, long[] targets) {
    if (outputs.size() != params.lossWeights().size()) {
      throw new IllegalArgumentException("loss_weights has " + params.lossWeights().size()
          + " entries but the model gave " + outputs.size() + " outputs");
    }
    try (var g = NoGrad.open()) {
      bank.syncOnce(comm);
      long[] keptRows = IntStream.range(0, targets.length).filter(i -> targets[i] != params.ignoreIndex()).asLongStream().toArray();
      long[] y = new long[keptRows.length];
      for (int i = 0; i < y.length; i++) {
        y[i] = targets[(int) keptRows[i]];
        if (y[i] < 0 || y[i] >= bank.size()) {
          throw new IllegalArgumentException("target " + y[i] + " is outside the memory bank [0, " + bank.size() + ")");
        }
      }
      Device device = bank.tensor().device();
      Tensor keptIdx = Devices.to(Tensors.fromLongs(keptRows, keptRows.length), device);
      Tensor yT = Devices.to(Tensors.fromLongs(y, y.length), device);
      long dim = bank.params().embeddingDim();
      double total = 0;
      List<Tensor> grads = new ArrayList<>(outputs.size());
      for (int o = 0; o < outputs.size(); o++) {
        Tensor out = outputs.get(o);
        if (out.dim() != 2 || out.size(0) != targets.length || out.size(1) != dim) {
          throw new IllegalArgumentException("model output " + o + " must be " + targets.length + " x " + dim
              + " (embedding_dim), got " + Arrays.toString(Tensors.shape(out)));
        }
        Tensor grad = torch.zeros(new long[] {out.size(0), out.size(1)}, Tensors.options(bank.dtype(), device));
        if (y.length > 0) {
          boolean update = params.updateMemOnForward() || params.updateMemWithEmbIndex() == o;
          Tensor u = out.detach().to(bank.dtype()).index_select(0, keptIdx);
          Tensor norm = params.normEmbedding() ? Ops.rowNorm(u) : null;
          Tensor v = norm != null ? u.div(norm) : u;
          NceScores.LossAndGrad r = params.sharedNegatives() ? scores.shared(v, yT) : scores.perSample(v, yT, scoresUsed());
          Tensor gradV = r.gradV();
          // through the normalisation: d(u/|u|) = (g - v (v . g)) / |u|
          Tensor gradU = norm != null ? gradV.sub(v.mul(Ops.rowSum(v.mul(gradV)))).div(norm) : gradV;
          if (update) {
            bank.update(v, yT, comm);
          }
          double w = params.lossWeights().get(o);
          total += w * (-r.logTermSum() / y.length);
          grad.index_copy_(0, keptIdx, gradU.mul(new Scalar(w)));
        }
        grads.add(grad.to(out.scalar_type()));
      }
      return new LossOutput(total, grads);
    }
  }

  @Override
  public void close() {
    scores.close();
    bank.close();
  }
}
