package dev.npid4j.loss;

import dev.npid4j.dist.Communicator;
import dev.npid4j.torch.Devices;
import dev.npid4j.torch.Ops;
import dev.npid4j.torch.SampledProducts;
import dev.npid4j.torch.Tensors;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import org.bytedeco.javacpp.PointerScope;
import org.bytedeco.pytorch.Device;
import org.bytedeco.pytorch.DeviceOptional;
import org.bytedeco.pytorch.NoGradGuard;
import org.bytedeco.pytorch.Scalar;
import org.bytedeco.pytorch.Tensor;
import org.bytedeco.pytorch.TensorOptions;
import org.bytedeco.pytorch.global.torch;
import org.bytedeco.pytorch.global.torch.ScalarType;

/**
 * VISSL's {@code nce_loss_with_memory} (spec section 4): a memory bank of one row per training
 * sample, K negatives drawn per sample, NCE (Z estimated once) or InfoNCE cross-entropy, and the
 * momentum update of the bank inside the forward.
 *
 * <p>The backward is written out (spec section 4, "Gradients") rather than left to autograd, so
 * the bank rows never enter the graph. The scores come from a sampled matrix product on the
 * bank's rows in place or, for a bank of at most {@link #DENSE_MAX_RATIO} x (K+1) rows, from one
 * product with the whole bank; dL/dv is then one weighted sum of bank rows per sample. A 16-bit
 * bank has its rows gathered into a block that serves both directions (see {@link Scores}).
 * {@link #forward} returns the loss and dL/d(output); the caller runs {@code output.backward(grad)}.
 *
 * <p>The bank and the scalar state are owned by this object, outside any {@link PointerScope}.
 */
public final class NceLossWithMemory implements AutoCloseable {
  /** Rows of the bank drawn at a time at init. */
  private static final long INIT_BLOCK_ROWS = 65536;

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
  /** The gathered rows in the bank's type, before widening (reduced-precision banks only). */
  private Tensor gatheredNarrow;
  private Tensor indices;

  /**
   * A new loss with VISSL's random bank init: U[-stdv, stdv) with stdv = 1/sqrt(D/3), rows
   * L2-normalised if norm_init, from torch's generator seeded with {@code seed}
   * (VISSL: (SEED_VALUE + rank) x num_epochs).
   */
  public static NceLossWithMemory create(NceLossParams params, ScalarType dtype, long seed, NegativeSampler sampler, Communicator comm) {
    return create(params, dtype, seed, sampler, comm, Devices.CPU);
  }

  /**
   * The same bank (drawn on the CPU from the same seed, so a GPU run starts from the bank a CPU
   * run starts from) kept on {@code device}.
   */
  public static NceLossWithMemory create(NceLossParams params, ScalarType dtype, long seed, NegativeSampler sampler, Communicator comm,
      Device device) {
    return create(params, dtype, seed, sampler, comm, device, dtype);
  }

  /**
   * The same, with the bank stored in {@code bankType}: npid4j's opt-in reduced-precision bank
   * (memory_params.dtype bfloat16 or float16) halves its memory. Rows are widened to
   * {@code dtype} when read; every computation, the momentum update included, runs in
   * {@code dtype}, and the updated rows are rounded back into the bank.
   */
  public static NceLossWithMemory create(NceLossParams params, ScalarType dtype, long seed, NegativeSampler sampler, Communicator comm,
      Device device, ScalarType bankType) {
    Tensor bank;
    try (PointerScope scope = new PointerScope()) {
      torch.manual_seed(seed);
      double stdv = 1.0 / Math.sqrt(params.embeddingDim() / 3.0);
      long n = params.memorySize();
      long d = params.embeddingDim();
      // drawn and normalised a block of rows at a time in the computation's type, then stored in
      // the bank's: no bank-sized temporaries (656 MB each at ImageNet scale). Block-wise draws
      // from the generator equal one draw of the whole matrix (same values as torch.rand(N, D)).
      Tensor raw = torch.empty(new long[] {n, d}, Tensors.options(bankType), new org.bytedeco.pytorch.MemoryFormatOptional());
      for (long r0 = 0; r0 < n; r0 += INIT_BLOCK_ROWS) {
        try (PointerScope blockScope = new PointerScope()) { // each block's temporaries freed before the next
          Tensor rows = raw.narrow(0, r0, Math.min(INIT_BLOCK_ROWS, n - r0));
          Tensor block = torch.rand(rows.sizes().vec().get(), Tensors.options(dtype)).mul_(new Scalar(2 * stdv)).add_(new Scalar(-stdv));
          if (params.normInit()) {
            block.div_(Ops.rowNorm(block));
          }
          rows.copy_(block);
        }
      }
      bank = Tensors.keep(Devices.to(raw, device));
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

  /** Options of a new tensor of {@code type} on the bank's device. */
  private TensorOptions on(ScalarType type) {
    return Tensors.options(type).device(new DeviceOptional(memory.device()));
  }

  /** A CPU tensor (indices built in Java) on the bank's device. */
  private Tensor onDevice(Tensor t) {
    return Devices.to(t, memory.device());
  }

  public NceLossParams params() {
    return params;
  }

  /** The bank itself (N x D, in its own type: see the reduced-precision {@link #create}), updated in place by every forward. */
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
        if (comm.worldSize() > 1) {
          if (Tensors.isType(memory, dtype)) {
            comm.allReduceMean(memory);
          } else {
            Tensor wide = memory.to(dtype);
            comm.allReduceMean(wide);
            memory.copy_(wide);
          }
        }
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
      Tensor keptIdx = onDevice(Tensors.fromLongs(keptRows, keptRows.length));
      Tensor yT = onDevice(Tensors.fromLongs(y, y.length));
      double total = 0;
      List<Tensor> grads = new ArrayList<>(outputs.size());
      for (int o = 0; o < outputs.size(); o++) {
        Tensor out = outputs.get(o);
        if (out.dim() != 2 || out.size(0) != targets.length || out.size(1) != params.embeddingDim()) {
          throw new IllegalArgumentException("model output " + o + " must be " + targets.length + " x "
              + params.embeddingDim() + " (embedding_dim), got " + Arrays.toString(Tensors.shape(out)));
        }
        Tensor grad = torch.zeros(new long[] {out.size(0), out.size(1)}, on(dtype));
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

  /**
   * Bytes of gathered bank rows (or of the whole-bank product, for a small bank) processed at a
   * time: the B'(K+1) x D block (537 MB at B=256, K=4096; 2 GB at B=256, K=16000) is gathered,
   * scored and back-propagated a chunk of batch rows at a time in a reused buffer, so the loss's
   * working memory stays bounded. Measured at
   * B=256, K=4096, N=1.28M on 2 cores: 8-32 MB chunks (cache-sized) were 15-40% slower than
   * one block (the random row reads dominate, and a small gather runs slower per row than a
   * large one); 256 MB chunks cost nothing measurable.
   */
  static final long CHUNK_BYTES = Long.getLong("npid4j.nce.chunkBytes", 256L << 20);

  private OutputResult forwardOne(Tensor output, Tensor keptIdx, long[] y, Tensor yT, boolean updateMemory) {
    int b = y.length;
    long width = params.numNegatives() + 1L;
    Tensor u = output.index_select(0, keptIdx);
    Tensor norm = params.normEmbedding() ? Ops.rowNorm(u) : null;
    Tensor v = norm != null ? u.div(norm) : u;

    if (params.sharedNegatives()) {
      return forwardShared(v, norm, yT, updateMemory);
    }
    Tensor drawn = indexBuffer(b * width);
    sampler.drawRowsInto(drawn, Math.toIntExact(b), Math.toIntExact(width), params.memorySize());
    Tensor idx = onDevice(drawn);
    idx.view(b, width).select(1, 0).copy_(yT); // column 0: the positives
    Scalar t = new Scalar(temperature);
    LossAndGrad r = switch (scoresUsed()) {
      case DENSE -> denseForward(v, idx, b, width, t);
      case SAMPLED -> fromScores(SampledProducts.rowDots(v, memory, idx, width).div_(t), idx, b, width, t);
      default -> gatheredForward(v, idx, b, width, t);
    };
    double loss = -r.logTermSum() / b;
    Tensor gradV = r.gradV();
    Tensor gradU = norm != null ? gradV.sub(v.mul(Ops.rowSum(v.mul(gradV)))).div(norm) : gradV;

    if (updateMemory) {
      updateMemory(v, yT);
    }
    return new OutputResult(loss, gradU);
  }

  /** The sum of the positive and negative log terms over the batch (the loss is minus it over B'), and dL/dv. */
  private record LossAndGrad(double logTermSum, Tensor gradV) {}

  /**
   * How the B'(K+1) scores are computed: {@code GATHER} copies the sampled rows of the bank into
   * a buffer and multiplies each batch row by its block; {@code SAMPLED} computes the same dot
   * products on the bank's rows in place (a sampled matrix product) and dL/dv as weighted sums
   * of them; {@code DENSE} multiplies the batch by the whole bank and picks the sampled scores
   * out of the B' x N product. {@code AUTO} takes dense when the bank has at most
   * {@link #DENSE_MAX_RATIO} x (K+1) rows, else sampled; a reduced-precision bank is always
   * gathered (its rows are widened to float32 a chunk at a time). The same dot products every
   * way, summed in another order.
   */
  public enum Scores { AUTO, DENSE, SAMPLED, GATHER }

  /**
   * Measured at the quickstart's N = 60,000, B = 128, K = 4096 (N / (K+1) = 14.6) on 2 cores:
   * the B x N product and the pick took 15 ms, the gather and the row products 29 ms (a 268 MB
   * block written and read twice), so dense breaks even near 30; at NPID++ scale (N / (K+1) =
   * 40) dense took 132-140 ms against 106-117 for the gather. Sampled and dense cost about the
   * same at the quickstart's size (22-29 ms), and dense keeps that run's figures.
   */
  static final long DENSE_MAX_RATIO = 24;

  private Scores scores = Scores.AUTO;

  /** Forces one way of computing the scores (benchmarks, tests); training uses {@code AUTO}. */
  public NceLossWithMemory scores(Scores method) {
    this.scores = method;
    return this;
  }

  /** How the forward computes the scores: AUTO resolved, and GATHER for a 16-bit bank whatever was asked (per-sample negatives). */
  public Scores scoresUsed() {
    if (!Tensors.isType(memory, dtype)) {
      return Scores.GATHER;
    }
    if (scores != Scores.AUTO) {
      return scores;
    }
    return params.memorySize() <= DENSE_MAX_RATIO * (params.numNegatives() + 1L) ? Scores.DENSE : Scores.SAMPLED;
  }

  /**
   * Scores as rows of v M^T (a chunk of batch rows at a time, at most {@link #CHUNK_BYTES} of
   * product), the sampled ones picked out.
   */
  private LossAndGrad denseForward(Tensor v, Tensor idx, int b, long width, Scalar t) {
    long n = params.memorySize();
    Tensor idx2 = idx.view(b, width);
    Tensor s = torch.empty(new long[] {b, width}, on(dtype), new org.bytedeco.pytorch.MemoryFormatOptional());
    int rowsPerChunk = rowsPerChunk(b, n);
    Tensor bankT = memory.t();
    for (int r0 = 0; r0 < b; r0 += rowsPerChunk) {
      try (PointerScope scope = new PointerScope()) {
        int rows = Math.min(rowsPerChunk, b - r0);
        torch.gather_out(s.narrow(0, r0, rows), v.narrow(0, r0, rows).mm(bankT), 1, idx2.narrow(0, r0, rows));
      }
    }
    return fromScores(s.div_(t), idx, b, width, t);
  }

  /**
   * The loss terms from the B' x (K+1) scores s (already over T), and dL/dv as one weighted sum
   * of bank rows per sample, read where they lie (libtorch's embedding_bag).
   */
  private LossAndGrad fromScores(Tensor s, Tensor idx, int b, long width, Scalar t) {
    if (zPending()) {
      estimateZ(s.exp().sum().item_double(), (long) b * width);
    }
    Terms terms = terms(s, params.numNegatives(), new Scalar(1.0 / b));
    Tensor gradV = SampledProducts.weightedRowSums(memory, idx, terms.dS(), width);
    return new LossAndGrad(terms.positive() + terms.negative(), gradV.div_(t));
  }

  /**
   * Scores from the gathered rows, a chunk of batch rows at a time in the reused buffer; the
   * gathered chunk serves the backward too.
   */
  private LossAndGrad gatheredForward(Tensor v, Tensor idx, int b, long width, Scalar t) {
    int k = params.numNegatives();
    long d = params.embeddingDim();
    int rowsPerChunk = rowsPerChunk(b, width * d);
    if (zPending()) {
      double sum = 0;
      for (int r0 = 0; r0 < b; r0 += rowsPerChunk) {
        try (PointerScope scope = new PointerScope()) {
          int rows = Math.min(rowsPerChunk, b - r0);
          sum += rowScores(gatheredChunk(idx, r0, rows, width, d), v.narrow(0, r0, rows), t).exp().sum().item_double();
        }
      }
      estimateZ(sum, (long) b * width);
    }

    Scalar invB = new Scalar(1.0 / b);
    Tensor gradV = torch.empty(new long[] {b, d}, on(dtype), new org.bytedeco.pytorch.MemoryFormatOptional());
    double lossSum = 0;
    for (int r0 = 0; r0 < b; r0 += rowsPerChunk) {
      try (PointerScope scope = new PointerScope()) {
        int rows = Math.min(rowsPerChunk, b - r0);
        Tensor weight = gatheredChunk(idx, r0, rows, width, d);
        Tensor s = rowScores(weight, v.narrow(0, r0, rows), t);
        Terms terms = terms(s, k, invB);
        lossSum += terms.positive();
        lossSum += terms.negative();
        Tensor gradChunk = gradV.narrow(0, r0, rows);
        rowProducts(gradChunk, weight, terms.dS(), true);
        gradChunk.div_(t);
      }
    }
    return new LossAndGrad(lossSum, gradV);
  }

  /** nce with norm_constant -1 before its first batch: Z is still to be estimated. */
  private boolean zPending() {
    return params.lossType() == NceLossParams.LossType.NCE && z < 0;
  }

  /** Z from the first batch: the mean of exp(s) over all its B'(K+1) scores (and all ranks), times N. */
  private void estimateZ(double expSum, long count) {
    Tensor mean = torch.tensor(expSum / count).to(dtype);
    comm.allReduceMean(mean);
    z = Ops.roundToFloatIf(dtype == ScalarType.Float, mean.item_double() * params.memorySize());
  }

  /** Batch rows per chunk when each takes {@code elementsPerRow} values: at most {@link #CHUNK_BYTES}, at least one row. */
  private int rowsPerChunk(int b, long elementsPerRow) {
    long elementBytes = dtype == ScalarType.Double ? 8 : 4;
    return (int) Math.max(1, Math.min(b, CHUNK_BYTES / (elementsPerRow * elementBytes)));
  }

  /**
   * The shared-negatives fast mode: s = [rowsum(P * v), v N^T] / T with P = memory[y] (B x D)
   * and N = memory[one draw of K] (K x D); the loss terms and dL/ds are those of the per-sample
   * path, and dL/dv = (dS_pos * P + dS_neg N) / T.
   */
  private OutputResult forwardShared(Tensor v, Tensor norm, Tensor yT, boolean updateMemory) {
    int b = (int) v.size(0);
    int k = params.numNegatives();
    Tensor drawn = indexBuffer(k);
    sampler.drawInto(drawn, k, params.memorySize());
    Tensor idx = onDevice(drawn);
    Tensor pos = Tensors.asType(memory.index_select(0, yT), dtype);
    Tensor neg = Tensors.asType(memory.index_select(0, idx), dtype);
    Scalar t = new Scalar(temperature);
    Tensor s = torch.cat(new org.bytedeco.pytorch.TensorVector(Ops.rowSum(pos.mul(v)), v.mm(neg.t())), 1).div(t);
    if (zPending()) {
      estimateZ(s.exp().sum().item_double(), s.numel());
    }
    Terms terms = terms(s, k, new Scalar(1.0 / b));
    double loss = -(terms.positive() + terms.negative()) / b;
    Tensor dS = terms.dS();
    Tensor gradV = pos.mul(dS.narrow(1, 0, 1)).add(dS.narrow(1, 1, k).mm(neg)).div(t);
    Tensor gradU = norm != null ? gradV.sub(v.mul(Ops.rowSum(v.mul(gradV)))).div(norm) : gradV;
    if (updateMemory) {
      updateMemory(v, yT);
    }
    return new OutputResult(loss, gradU);
  }

  /**
   * s = (W v) / T for a chunk of batch rows: W is rows x (K+1) x D, v is rows x D. One BLAS gemv
   * per row, not bmm: libtorch's bmm of these matrix-vector shapes runs 2-3x slower than gemv
   * (measured at B=256, K=4096: 37-40 ms against 17 ms forward, 58-66 ms against 24 ms for the
   * transposed product of the backward).
   */
  private Tensor rowScores(Tensor weight, Tensor v, Scalar t) {
    Tensor s = torch.empty(new long[] {weight.size(0), weight.size(1)}, on(dtype), new org.bytedeco.pytorch.MemoryFormatOptional());
    rowProducts(s, weight, v, false);
    return s.div_(t);
  }

  /** out[i] = W[i] x[i], or W[i]^T x[i] when {@code transposed}: one gemv per batch row (see {@link #rowScores}). */
  private static void rowProducts(Tensor out, Tensor weight, Tensor x, boolean transposed) {
    for (int i = 0; i < weight.size(0); i++) {
      Tensor w = weight.select(0, i);
      torch.mv_out(out.select(0, i), transposed ? w.t() : w, x.select(0, i));
    }
  }

  /** The bank rows of batch rows [r0, r0 + rows), rows x (K+1) x D, in the reused buffer. */
  private Tensor gatheredChunk(Tensor idx, int r0, int rows, long width, long d) {
    return gatherRows(idx.narrow(0, r0 * width, rows * width)).view(rows, width, d);
  }

  /**
   * VISSL's loss terms over a block of scores s (rows x (K+1)): the sums of the positive and of
   * the negative log terms (the loss is minus their total over B'), and dL/ds with 1/B'
   * included. nce uses the current Z; cross_entropy has only the positive term.
   */
  private record Terms(double positive, double negative, Tensor dS) {}

  private Terms terms(Tensor s, int k, Scalar invB) {
    if (params.lossType() == NceLossParams.LossType.NCE) {
      double c = k * (1.0 / params.memorySize());
      Tensor xh = s.exp().div(new Scalar(z));
      Tensor denom = xh.add(new Scalar(c + EPS));
      Tensor pos = xh.select(1, 0);
      Tensor negDenom = denom.narrow(1, 1, k);
      double positive = pos.div(denom.select(1, 0)).log().sum().item_double();
      double negative = torch.full_like(negDenom, new Scalar(c)).div(negDenom).log().sum().item_double();
      Tensor dS = xh.div(denom).mul(invB);
      dS.select(1, 0).copy_(torch.full_like(pos, new Scalar(-(c + EPS))).div(denom.select(1, 0)).mul(invB));
      return new Terms(positive, negative, dS);
    }
    Tensor logp = s.log_softmax(1);
    double positive = logp.select(1, 0).sum().item_double();
    Tensor dS = logp.exp();
    dS.select(1, 0).sub_(new Scalar(1.0));
    dS.mul_(invB);
    return new Terms(positive, 0, dS);
  }

  /** The reused int64 home of the sampled indices, in main memory where the sampler writes them (grown when needed). */
  private Tensor indexBuffer(long count) {
    indices = Tensors.atLeast(indices, new long[] {count}, Tensors.options(ScalarType.Long));
    return indices.narrow(0, 0, count);
  }

  /** memory[idx] into the reused buffer (grown when needed); valid until the next call. */
  private Tensor gatherRows(Tensor idx) {
    long[] shape = {idx.size(0), params.embeddingDim()};
    gathered = Tensors.atLeast(gathered, shape, on(dtype));
    Tensor out = gathered.narrow(0, 0, shape[0]);
    if (Tensors.isType(memory, dtype)) {
      torch.index_select_out(out, memory, 0, idx);
      return out;
    }
    gatheredNarrow = Tensors.atLeast(gatheredNarrow, shape, on(memory.scalar_type()));
    Tensor narrow = gatheredNarrow.narrow(0, 0, shape[0]);
    torch.index_select_out(narrow, memory, 0, idx);
    return out.copy_(narrow);
  }

  /** memory[y] = normalize(m * memory[y] + (1 - m) * v) over all ranks' (y, v); last duplicate wins. */
  private void updateMemory(Tensor v, Tensor y) {
    Tensor vAll = comm.allGather(v);
    Tensor yAll = comm.allGather(y);
    long[] ys = Tensors.toLongs(Devices.cpu(yAll));
    long[] last = lastOccurrences(ys);
    if (last.length != ys.length) {
      Tensor keep = onDevice(Tensors.fromLongs(last, last.length));
      vAll = vAll.index_select(0, keep);
      yAll = yAll.index_select(0, keep);
    }
    Tensor rows = Tensors.asType(memory.index_select(0, yAll), dtype).mul_(new Scalar(momentum)).add_(vAll.mul(new Scalar(1 - momentum)));
    memory.index_copy_(0, yAll, Tensors.asType(Ops.l2Normalize(rows), memory.scalar_type()));
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
    if (gatheredNarrow != null) {
      gatheredNarrow.close();
    }
    if (indices != null) {
      indices.close();
    }
  }
}
