package dev.npid4j.loss;

import dev.npid4j.dist.Communicator;
import dev.npid4j.torch.Ops;
import dev.npid4j.torch.Tensors;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import org.bytedeco.javacpp.PointerScope;
import org.bytedeco.pytorch.NoGradGuard;
import org.bytedeco.pytorch.Scalar;
import org.bytedeco.pytorch.Tensor;
import org.bytedeco.pytorch.global.torch;
import org.bytedeco.pytorch.global.torch.ScalarType;

/**
 * VISSL's {@code nce_loss_with_memory} (spec section 4): a memory bank of one row per training
 * sample, K negatives drawn per sample, NCE (Z estimated once) or InfoNCE cross-entropy, and the
 * momentum update of the bank inside the forward.
 *
 * <p>The backward is written out (spec section 4, "Gradients") rather than left to autograd, so
 * the B x (K+1) x D block of gathered rows is used for both directions and never enters the graph.
 * {@link #forward} returns the loss and dL/d(output); the caller runs {@code output.backward(grad)}.
 *
 * <p>The bank and the scalar state are owned by this object, outside any {@link PointerScope}.
 */
public final class NceLossWithMemory implements AutoCloseable {
  /** float32 machine epsilon: VISSL's NCECriterion uses it even in float64. */
  static final double EPS = Math.ulp(1.0f);

  private final NceLossParams params;
  private final ScalarType dtype;
  private final Tensor memory;
  private final NegativeSampler sampler;
  private final Communicator comm;
  private final double temperature;
  private final double momentum;
  private double z;
  private boolean memorySynced;
  /**
   * Reused home of the gathered rows (B'(K+1) x D; 268 MB at B=128, K=4096). A fresh tensor of
   * that size is mmap'ed and page-faulted on every step, which made the gather 15x slower.
   */
  private Tensor gathered;

  /**
   * A new loss with VISSL's random bank init: U[-stdv, stdv) with stdv = 1/sqrt(D/3), rows
   * L2-normalised if norm_init, from torch's generator seeded with {@code seed}
   * (VISSL: (SEED_VALUE + rank) x num_epochs).
   */
  public static NceLossWithMemory create(NceLossParams params, ScalarType dtype, long seed, NegativeSampler sampler, Communicator comm) {
    Tensor bank;
    try (PointerScope scope = new PointerScope()) {
      torch.manual_seed(seed);
      double stdv = 1.0 / Math.sqrt(params.embeddingDim() / 3.0);
      Tensor raw = torch.rand(new long[] {params.memorySize(), params.embeddingDim()}, Tensors.options(dtype))
          .mul_(new Scalar(2 * stdv)).add_(new Scalar(-stdv));
      bank = params.normInit() ? Ops.l2Normalize(raw) : raw;
      Tensors.keep(bank);
    }
    return new NceLossWithMemory(params, bank, dtype, sampler, comm);
  }

  /** A loss over a given bank (N x D, taken over, not copied): for golden tests and resume. */
  public NceLossWithMemory(NceLossParams params, Tensor memory, ScalarType dtype, NegativeSampler sampler, Communicator comm) {
    if (memory.dim() != 2 || memory.size(0) != params.memorySize() || memory.size(1) != params.embeddingDim()) {
      throw new IllegalArgumentException("memory bank must be " + params.memorySize() + " x " + params.embeddingDim()
          + ", got " + Arrays.toString(Tensors.shape(memory)));
    }
    this.params = params;
    this.dtype = dtype;
    this.memory = memory;
    this.sampler = sampler;
    this.comm = comm;
    boolean f32 = dtype == ScalarType.Float;
    // VISSL keeps [K, T, Z, m] in a buffer of the default dtype and reads them back from it.
    this.temperature = Ops.roundToFloatIf(f32, params.temperature());
    this.momentum = Ops.roundToFloatIf(f32, params.momentum());
    this.z = Ops.roundToFloatIf(f32, params.normConstant());
  }

  public NceLossParams params() {
    return params;
  }

  /** The bank itself (N x D), updated in place by every forward. */
  public Tensor memory() {
    return memory;
  }

  /** Current normalisation constant; negative until estimated (nce with norm_constant -1). */
  public double z() {
    return z;
  }

  /**
   * Marks the first-forward cross-rank sync as done: after a resume every rank holds the same
   * restored bank (VISSL syncs again, harmlessly; here it is skipped).
   */
  public void markMemorySynced() {
    memorySynced = true;
  }

  /** Restores Z from a checkpoint. */
  public void setZ(double z) {
    this.z = z;
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
    try (NoGradGuard g = new NoGradGuard()) {
      if (!memorySynced) {
        // First forward of a run: VISSL replaces every rank's bank by the cross-rank mean, unrenormalised.
        comm.allReduceMean(memory);
        memorySynced = true;
      }
      long[] keptRows = keptRows(targets);
      long[] y = new long[keptRows.length];
      for (int i = 0; i < y.length; i++) {
        y[i] = targets[(int) keptRows[i]];
        if (y[i] < 0 || y[i] >= params.memorySize()) {
          throw new IllegalArgumentException("target " + y[i] + " is outside the memory bank [0, " + params.memorySize() + ")");
        }
      }
      Tensor keptIdx = Tensors.fromLongs(keptRows, keptRows.length);
      Tensor yT = Tensors.fromLongs(y, y.length);
      double total = 0;
      List<Tensor> grads = new ArrayList<>(outputs.size());
      for (int o = 0; o < outputs.size(); o++) {
        Tensor out = outputs.get(o);
        if (out.dim() != 2 || out.size(0) != targets.length || out.size(1) != params.embeddingDim()) {
          throw new IllegalArgumentException("model output " + o + " must be " + targets.length + " x "
              + params.embeddingDim() + " (embedding_dim), got " + Arrays.toString(Tensors.shape(out)));
        }
        Tensor grad = torch.zeros(new long[] {out.size(0), out.size(1)}, Tensors.options(dtype));
        if (y.length > 0) {
          boolean update = params.updateMemOnForward() || params.updateMemWithEmbIndex() == o;
          OutputResult r = forwardOne(out.detach().to(dtype), keptIdx, y, yT, update);
          double w = params.lossWeights().get(o);
          total += w * r.loss;
          grad.index_copy_(0, keptIdx, r.gradU.mul(new Scalar(w)));
        }
        grads.add(grad.to(out.scalar_type()));
      }
      return new LossOutput(total, grads);
    }
  }

  private record OutputResult(double loss, Tensor gradU) {}

  private OutputResult forwardOne(Tensor output, Tensor keptIdx, long[] y, Tensor yT, boolean updateMemory) {
    int b = y.length;
    int k = params.numNegatives();
    long d = params.embeddingDim();
    Tensor u = output.index_select(0, keptIdx);
    Tensor norm = params.normEmbedding() ? Ops.rowNorm(u) : null;
    Tensor v = norm != null ? u.div(norm) : u;

    long[] idx = sampler.draw(b * (k + 1), params.memorySize());
    for (int i = 0; i < b; i++) {
      idx[i * (k + 1)] = y[i];
    }
    Tensor weight = gatherRows(Tensors.fromLongs(idx, idx.length)).view(b, k + 1, d);
    Tensor s = torch.bmm(weight, v.unsqueeze(2)).squeeze(2).div(new Scalar(temperature));

    double loss;
    Tensor dS; // dL/ds, 1/B' included
    if (params.lossType() == NceLossParams.LossType.NCE) {
      Tensor x = s.exp();
      if (z < 0) {
        Tensor mean = x.mean();
        comm.allReduceMean(mean);
        z = Ops.roundToFloatIf(dtype == ScalarType.Float, mean.item_double() * params.memorySize());
      }
      Tensor xh = x.div(new Scalar(z));
      double c = k * (1.0 / params.memorySize());
      Scalar cEps = new Scalar(c + EPS);
      Tensor pos = xh.select(1, 0);
      Tensor lnPmt = pos.div(pos.add(cEps)).log();
      Tensor negDiv = xh.narrow(1, 1, k).add(cEps);
      Tensor lnPon = torch.full_like(negDiv, new Scalar(c)).div(negDiv).log();
      loss = -(lnPmt.sum().item_double() + lnPon.sum().item_double()) / b;
      Tensor denom = xh.add(cEps);
      dS = xh.div(denom).div(new Scalar(b));
      dS.select(1, 0).copy_(torch.full_like(pos, new Scalar(-(c + EPS))).div(denom.select(1, 0)).div(new Scalar(b)));
    } else {
      Tensor logp = s.log_softmax(1);
      loss = -logp.select(1, 0).sum().item_double() / b;
      dS = logp.exp();
      dS.select(1, 0).sub_(new Scalar(1.0));
      dS.div_(new Scalar(b));
    }

    Tensor gradV = torch.bmm(dS.unsqueeze(1), weight).squeeze(1).div(new Scalar(temperature));
    Tensor gradU = norm != null ? gradV.sub(v.mul(Ops.rowSum(v.mul(gradV)))).div(norm) : gradV;

    if (updateMemory) {
      updateMemory(v, yT);
    }
    return new OutputResult(loss, gradU);
  }

  /** memory[idx] into the reused buffer (grown when needed); valid until the next call. */
  private Tensor gatherRows(Tensor idx) {
    long rows = idx.size(0);
    if (gathered == null || gathered.size(0) < rows) {
      if (gathered != null) {
        gathered.close();
      }
      gathered = Tensors.keep(torch.empty(new long[] {rows, params.embeddingDim()}, Tensors.options(dtype),
          new org.bytedeco.pytorch.MemoryFormatOptional()));
    }
    Tensor out = gathered.narrow(0, 0, rows);
    torch.index_select_out(out, memory, 0, idx);
    return out;
  }

  /** memory[y] = normalize(m * memory[y] + (1 - m) * v) over all ranks' (y, v); last duplicate wins. */
  private void updateMemory(Tensor v, Tensor y) {
    Tensor vAll = comm.allGather(v);
    Tensor yAll = comm.allGather(y);
    long[] ys = Tensors.toLongs(yAll);
    long[] last = lastOccurrences(ys);
    if (last.length != ys.length) {
      Tensor keep = Tensors.fromLongs(last, last.length);
      vAll = vAll.index_select(0, keep);
      yAll = yAll.index_select(0, keep);
    }
    Tensor rows = memory.index_select(0, yAll).mul_(new Scalar(momentum)).add_(vAll.mul(new Scalar(1 - momentum)));
    memory.index_copy_(0, yAll, Ops.l2Normalize(rows));
  }

  /** Positions of the last occurrence of each distinct value, in increasing order. */
  static long[] lastOccurrences(long[] values) {
    Map<Long, Integer> last = new HashMap<>();
    for (int i = 0; i < values.length; i++) {
      last.put(values[i], i);
    }
    if (last.size() == values.length) {
      long[] all = new long[values.length];
      Arrays.setAll(all, i -> i);
      return all;
    }
    return last.values().stream().mapToLong(Integer::longValue).sorted().toArray();
  }

  private long[] keptRows(long[] targets) {
    return java.util.stream.IntStream.range(0, targets.length)
        .filter(i -> targets[i] != params.ignoreIndex())
        .asLongStream().toArray();
  }

  @Override
  public void close() {
    memory.close();
    if (gathered != null) {
      gathered.close();
    }
  }
}
