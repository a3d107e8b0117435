package dev.npid4j.loss;

import dev.npid4j.distributed.Communicator;
import dev.npid4j.loss.NceLossWithMemory.Scores;
import dev.npid4j.torch.Devices;
import dev.npid4j.torch.Ops;
import dev.npid4j.torch.SampledProducts;
import dev.npid4j.torch.Scopes;
import dev.npid4j.torch.Tensors;
import org.bytedeco.pytorch.Scalar;
import org.bytedeco.pytorch.Tensor;
import org.bytedeco.pytorch.TensorOptions;
import org.bytedeco.pytorch.TensorVector;
import org.bytedeco.pytorch.global.torch;
import org.bytedeco.pytorch.global.torch.ScalarType;

/**
 * The B'(K+1) scores of the normalised batch v against its sampled bank rows, their loss terms
 * and dL/dv, computed without the bank rows entering autograd. Four ways (see {@link Scores}),
 * the same dot products summed in another order; and npid4j's shared-negatives mode, where one
 * draw of K rows serves the whole batch. Reused buffers live here, outside any scope.
 */
final class NceScores implements AutoCloseable {
  /**
   * Bytes of gathered bank rows (or of the whole-bank product, for a small bank) processed at a
   * time: the B'(K+1) x D block (537 MB at B=256, K=4096) is gathered, scored and
   * back-propagated a chunk of batch rows at a time in a reused buffer, so the loss's working
   * memory stays bounded; 256 MB chunks cost nothing measurable (docs/performance.md).
   */
  static final long CHUNK_BYTES = Long.getLong("npid4j.nce.chunkBytes", 256L << 20);

  private final MemoryBank bank;
  private final NceTerms terms;
  private final NegativeSampler sampler;
  private final int k;
  private final Communicator comm;
  /** Reused home of the gathered rows: a fresh tensor of that size is page-faulted on every step (15x slower gather). */
  private Tensor gathered;
  /** The gathered rows in the bank's type, before widening (16-bit banks only). */
  private Tensor gatheredNarrow;
  private Tensor indices;

  NceScores(MemoryBank bank, NceTerms terms, NegativeSampler sampler, int numNegatives, Communicator comm) {
    this.bank = bank;
    this.terms = terms;
    this.sampler = sampler;
    this.k = numNegatives;
    this.comm = comm;
  }

  /** The sum of the positive and negative log terms over the batch (the loss is minus it over B'), and dL/dv. */
  record LossAndGrad(double logTermSum, Tensor gradV) {}

  /** K negatives drawn per sample, column 0 the positive {@code yT}; scores computed by {@code method} (resolved, not AUTO). */
  LossAndGrad perSample(Tensor v, Tensor yT, Scores method) {
    int b = (int) v.size(0);
    long width = k + 1L;
    Tensor drawn = indexBuffer(b * width);
    sampler.drawRowsInto(drawn, b, Math.toIntExact(width), bank.size());
    Tensor idx = Devices.to(drawn, bank.tensor().device());
    idx.view(b, width).select(1, 0).copy_(yT); // column 0: the positives
    Scalar t = new Scalar(terms.temperature());
    return switch (method) {
      case DENSE -> dense(v, idx, b, width, t);
      case SAMPLED -> fromScores(SampledProducts.rowDots(v, bank.tensor(), idx, width).div_(t), idx, b, width, t);
      default -> gatheredRows(v, idx, b, width, t);
    };
  }

  /**
   * The shared-negatives mode: s = [rowsum(P * v), v N^T] / T with P = bank[y] (B x D) and
   * N = bank[one draw of K] (K x D); the loss terms and dL/ds are those of the per-sample path,
   * and dL/dv = (dS_pos * P + dS_neg N) / T.
   */
  LossAndGrad shared(Tensor v, Tensor yT) {
    int b = (int) v.size(0);
    Tensor drawn = indexBuffer(k);
    sampler.drawInto(drawn, k, bank.size());
    Tensor idx = Devices.to(drawn, bank.tensor().device());
    ScalarType dtype = bank.dtype();
    Tensor pos = Tensors.asType(bank.tensor().index_select(0, yT), dtype);
    Tensor neg = Tensors.asType(bank.tensor().index_select(0, idx), dtype);
    Scalar t = new Scalar(terms.temperature());
    Tensor s = torch.cat(new TensorVector(Ops.rowSum(pos.mul(v)), v.mm(neg.t())), 1).div(t);
    if (terms.zPending()) {
      terms.estimateZ(s.exp().sum().item_double(), s.numel(), comm);
    }
    NceTerms.Terms r = terms.of(s, k, new Scalar(1.0 / b));
    Tensor dS = r.dS();
    Tensor gradV = pos.mul(dS.narrow(1, 0, 1)).add(dS.narrow(1, 1, k).mm(neg)).div(t);
    return new LossAndGrad(r.positive() + r.negative(), gradV);
  }

  /** Options of a new tensor of the computation's type on the bank's device. */
  private TensorOptions computeOptions() {
    return Tensors.options(bank.dtype(), bank.tensor().device());
  }

  /** Scores as rows of v M^T (a chunk of batch rows at a time, at most {@link #CHUNK_BYTES} of product), the sampled ones picked out. */
  private LossAndGrad dense(Tensor v, Tensor idx, int b, long width, Scalar t) {
    Tensor idx2 = idx.view(b, width);
    Tensor s = Tensors.empty(computeOptions(), b, width);
    int rowsPerChunk = rowsPerChunk(b, bank.size());
    Tensor bankT = bank.tensor().t();
    for (int r0 = 0; r0 < b; r0 += rowsPerChunk) {
      try (var scope = Scopes.open()) {
        int rows = Math.min(rowsPerChunk, b - r0);
        torch.gather_out(s.narrow(0, r0, rows), v.narrow(0, r0, rows).mm(bankT), 1, idx2.narrow(0, r0, rows));
      }
    }
    return fromScores(s.div_(t), idx, b, width, t);
  }

  /** The loss terms from the B' x (K+1) scores s (already over T), and dL/dv as one weighted sum of bank rows per sample (embedding_bag). */
  private LossAndGrad fromScores(Tensor s, Tensor idx, int b, long width, Scalar t) {
    if (terms.zPending()) {
      terms.estimateZ(s.exp().sum().item_double(), (long) b * width, comm);
    }
    NceTerms.Terms r = terms.of(s, k, new Scalar(1.0 / b));
    Tensor gradV = SampledProducts.weightedRowSums(bank.tensor(), idx, r.dS(), width);
    return new LossAndGrad(r.positive() + r.negative(), gradV.div_(t));
  }

  /** Scores from the gathered rows, a chunk of batch rows at a time in the reused buffer; the gathered chunk serves the backward too. */
  private LossAndGrad gatheredRows(Tensor v, Tensor idx, int b, long width, Scalar t) {
    long d = bank.params().embeddingDim();
    int rowsPerChunk = rowsPerChunk(b, width * d);
    if (terms.zPending()) {
      double sum = 0;
      for (int r0 = 0; r0 < b; r0 += rowsPerChunk) {
        try (var scope = Scopes.open()) {
          int rows = Math.min(rowsPerChunk, b - r0);
          sum += rowScores(gatheredChunk(idx, r0, rows, width, d), v.narrow(0, r0, rows), t).exp().sum().item_double();
        }
      }
      terms.estimateZ(sum, (long) b * width, comm);
    }
    Scalar invB = new Scalar(1.0 / b);
    Tensor gradV = Tensors.empty(computeOptions(), b, d);
    double lossSum = 0;
    for (int r0 = 0; r0 < b; r0 += rowsPerChunk) {
      try (var scope = Scopes.open()) {
        int rows = Math.min(rowsPerChunk, b - r0);
        Tensor weight = gatheredChunk(idx, r0, rows, width, d);
        NceTerms.Terms r = terms.of(rowScores(weight, v.narrow(0, r0, rows), t), k, invB);
        lossSum += r.positive();
        lossSum += r.negative();
        Tensor gradChunk = gradV.narrow(0, r0, rows);
        rowProducts(gradChunk, weight, r.dS(), true);
        gradChunk.div_(t);
      }
    }
    return new LossAndGrad(lossSum, gradV);
  }

  /** Batch rows per chunk when each takes {@code elementsPerRow} values: at most {@link #CHUNK_BYTES}, at least one row. */
  private int rowsPerChunk(int b, long elementsPerRow) {
    long elementBytes = bank.dtype() == ScalarType.Double ? 8 : 4;
    return (int) Math.max(1, Math.min(b, CHUNK_BYTES / (elementsPerRow * elementBytes)));
  }

  /**
   * s = (W v) / T for a chunk of batch rows: W is rows x (K+1) x D, v is rows x D. One BLAS gemv
   * per row, not bmm: libtorch's bmm of these matrix-vector shapes runs 2-3x slower than gemv.
   */
  private Tensor rowScores(Tensor weight, Tensor v, Scalar t) {
    Tensor s = Tensors.empty(computeOptions(), weight.size(0), weight.size(1));
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

  /** The reused int64 home of the sampled indices, in main memory where the sampler writes them (grown when needed). */
  private Tensor indexBuffer(long count) {
    indices = Tensors.atLeast(indices, new long[] {count}, Tensors.options(ScalarType.Long));
    return indices.narrow(0, 0, count);
  }

  /** bank[idx] into the reused buffer (grown when needed), widened to the computation's type; valid until the next call. */
  private Tensor gatherRows(Tensor idx) {
    long[] shape = {idx.size(0), bank.params().embeddingDim()};
    gathered = Tensors.atLeast(gathered, shape, computeOptions());
    Tensor out = gathered.narrow(0, 0, shape[0]);
    if (bank.storedInComputeType()) {
      torch.index_select_out(out, bank.tensor(), 0, idx);
      return out;
    }
    gatheredNarrow = Tensors.atLeast(gatheredNarrow, shape,
        Tensors.options(bank.tensor().scalar_type(), bank.tensor().device()));
    Tensor narrow = gatheredNarrow.narrow(0, 0, shape[0]);
    torch.index_select_out(narrow, bank.tensor(), 0, idx);
    return out.copy_(narrow);
  }

  @Override
  public void close() {
    for (Tensor t : new Tensor[] {gathered, gatheredNarrow, indices}) {
      if (t != null) {
        t.close();
      }
    }
  }
}
