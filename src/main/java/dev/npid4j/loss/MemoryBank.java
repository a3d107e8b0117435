package dev.npid4j.loss;

import dev.npid4j.distributed.Communicator;
import dev.npid4j.torch.Devices;
import dev.npid4j.torch.Ops;
import dev.npid4j.torch.Scopes;
import dev.npid4j.torch.Tensors;
import java.util.Arrays;
import java.util.HashMap;
import java.util.Map;
import org.bytedeco.pytorch.Device;
import org.bytedeco.pytorch.Scalar;
import org.bytedeco.pytorch.Tensor;
import org.bytedeco.pytorch.global.torch;
import org.bytedeco.pytorch.global.torch.ScalarType;

/**
 * NPID's memory bank: one row per training sample, the first-forward sync across ranks and the
 * momentum update. Rows may be stored in a 16-bit type (npid4j's memory_params.dtype) while every
 * computation runs in the loss's type: rows are widened when read and rounded when written.
 *
 * <p>The tensor is owned by this object, outside any scope.
 */
public final class MemoryBank implements AutoCloseable {
  /** Rows of the bank drawn at a time at init. */
  private static final long INIT_BLOCK_ROWS = 65536;

  private final MemoryBankParams params;
  private final Tensor rows;
  private final ScalarType dtype;
  private final double momentum;
  private boolean synced;

  /**
   * VISSL's random init: U[-stdv, stdv) with stdv = 1/sqrt(D/3), rows L2-normalised if norm_init,
   * from torch's generator seeded with {@code seed} (VISSL: (SEED_VALUE + rank) x num_epochs),
   * drawn on the CPU (a GPU run starts from the bank a CPU run starts from), stored in
   * {@code storage} on {@code device}.
   */
  public static MemoryBank random(MemoryBankParams params, ScalarType dtype, ScalarType storage, long seed, Device device) {
    Tensor bank;
    try (var scope = Scopes.open()) {
      torch.manual_seed(seed);
      double stdv = 1.0 / Math.sqrt(params.embeddingDim() / 3.0);
      long n = params.size();
      // drawn and normalised a block of rows at a time in the computation's type, then stored in
      // the bank's: no bank-sized temporaries (656 MB each at ImageNet scale). Block-wise draws
      // from the generator equal one draw of the whole matrix (same values as torch.rand(N, D)).
      Tensor raw = Tensors.empty(Tensors.options(storage), n, params.embeddingDim());
      for (long r0 = 0; r0 < n; r0 += INIT_BLOCK_ROWS) {
        try (var blockScope = Scopes.open()) { // each block's temporaries freed before the next
          Tensor block = raw.narrow(0, r0, Math.min(INIT_BLOCK_ROWS, n - r0));
          Tensor drawn = torch.rand(block.sizes().vec().get(), Tensors.options(dtype)).mul_(new Scalar(2 * stdv)).add_(new Scalar(-stdv));
          if (params.normInit()) {
            drawn.div_(Ops.rowNorm(drawn));
          }
          block.copy_(drawn);
        }
      }
      bank = Tensors.keep(Devices.to(raw, device));
    }
    return new MemoryBank(params, bank, dtype);
  }

  /** A bank over given rows (N x D, taken over, not copied): golden tests and resume. */
  public MemoryBank(MemoryBankParams params, Tensor rows, ScalarType dtype) {
    if (rows.dim() != 2 || rows.size(0) != params.size() || rows.size(1) != params.embeddingDim()) {
      throw new IllegalArgumentException("memory bank must be " + params.size() + " x " + params.embeddingDim()
          + ", got " + Arrays.toString(Tensors.shape(rows)));
    }
    this.params = params;
    this.rows = rows;
    this.dtype = dtype;
    // VISSL keeps [K, T, Z, m] in a buffer of the default dtype and reads them back from it.
    this.momentum = Ops.roundToFloatIf(dtype == ScalarType.Float, params.momentum());
  }

  public MemoryBankParams params() {
    return params;
  }

  /** The rows themselves (N x D, in the storage type), updated in place by every forward. */
  public Tensor tensor() {
    return rows;
  }

  public long size() {
    return params.size();
  }

  /** The type computations run in. */
  public ScalarType dtype() {
    return dtype;
  }

  /** Whether rows are stored in the computation's type (false for a 16-bit bank). */
  public boolean storedInComputeType() {
    return Tensors.isType(rows, dtype);
  }

  /**
   * First forward of a run: VISSL replaces every rank's bank by the cross-rank mean,
   * unrenormalised. Once per run; a resumed run restores a bank every rank already shares.
   */
  void syncOnce(Communicator comm) {
    if (synced) {
      return;
    }
    if (comm.worldSize() > 1) {
      if (storedInComputeType()) {
        comm.allReduceMean(rows);
      } else {
        Tensor wide = rows.to(dtype);
        comm.allReduceMean(wide);
        rows.copy_(wide);
      }
    }
    synced = true;
  }

  /** After a resume or a fill every rank holds the same bank: the first-forward sync is skipped. */
  public void markSynced() {
    synced = true;
  }

  /** rows[y] = normalize(m * rows[y] + (1 - m) * v) over all ranks' (y, v); the last duplicate wins. */
  void update(Tensor v, Tensor y, Communicator comm) {
    Tensor vAll = comm.allGather(v);
    Tensor yAll = comm.allGather(y);
    long[] ys = Tensors.toLongs(Devices.cpu(yAll));
    long[] last = lastOccurrences(ys);
    if (last.length != ys.length) {
      Tensor keep = Devices.to(Tensors.fromLongs(last, last.length), rows.device());
      vAll = vAll.index_select(0, keep);
      yAll = yAll.index_select(0, keep);
    }
    Tensor updated = Tensors.asType(rows.index_select(0, yAll), dtype).mul_(new Scalar(momentum)).add_(vAll.mul(new Scalar(1 - momentum)));
    rows.index_copy_(0, yAll, Tensors.asType(Ops.l2Normalize(updated), rows.scalar_type()));
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

  @Override
  public void close() {
    rows.close();
  }
}
