package dev.npid4j.torch;

import org.bytedeco.javacpp.PointerPointer;
import org.bytedeco.pytorch.DeviceOptional;
import org.bytedeco.pytorch.LayoutOptional;
import org.bytedeco.pytorch.MemoryFormatOptional;
import org.bytedeco.pytorch.Scalar;
import org.bytedeco.pytorch.ScalarTypeOptional;
import org.bytedeco.pytorch.T_TensorTensor_T;
import org.bytedeco.pytorch.Tensor;
import org.bytedeco.pytorch.TensorOptional;
import org.bytedeco.pytorch.TensorOptions;
import org.bytedeco.pytorch.TensorVector;
import org.bytedeco.pytorch.global.torch;

/**
 * Products of a batch with sampled rows of a large matrix, without writing the sampled rows out:
 * each batch row i has {@code width} row indices idx[i * width .. (i + 1) * width) into M.
 *
 * <p>Both read the rows of M where they lie. At N = 1.28M, D = 128, B = 256, width = 4097 on 2
 * cores, gathering the 537 MB of rows and running one gemv per batch row each way took 130-150
 * ms; these two took 85-93 ms (the scores about 50, the sums about 14: libtorch's embedding_bag
 * runs FBGEMM's prefetching kernel), before the scores read M in row order (see rowDots).
 */
public final class SampledProducts {
  private static volatile boolean csrAnnounced;

  private SampledProducts() {}

  /**
   * s[i][j] = v[i] . M[idx[i * width + j]], B x width: libtorch's sampled matrix product on a CSR
   * pattern. On a CPU the pattern is transposed, one CSR row per row of M: the kernel then reads
   * M's rows in increasing order, once each, instead of jumping to a random row for every score,
   * and v stays in cache. Grouping the indices by M's row costs a sort of the B x width indices
   * (int32, where M has fewer than 2^31 rows and idx fewer than 2^31 entries). The products are
   * the same, element for element.
   * Measured at N = 1.28M, D = 128 on 2 cores: 63-65 ms against 89-112 at B=256, K=4096, and 64
   * against 89 at B=32, K=32000 (the sort about 13 ms of it).
   */
  public static Tensor rowDots(Tensor v, Tensor m, Tensor idx, long width) {
    long b = v.size(0);
    if (!csrAnnounced) {
      quietCsrAnnouncement();
    }
    TensorOptions values = like(v, v.scalar_type());
    if (v.device().is_cpu() && m.size(0) < Integer.MAX_VALUE && b * width < Integer.MAX_VALUE) { // int32 rows and offsets
      return rowDotsByBankRow(v, m, idx, width, values);
    }
    Tensor crow = torch.arange(new Scalar(0), new Scalar(b * width + 1), new Scalar(width), like(v, torch.ScalarType.Long));
    Tensor pattern = torch.sparse_csr_tensor(crow, idx, torch.zeros(new long[] {b * width}, values),
        new long[] {b, m.size(0)}, values.layout(new LayoutOptional(torch.Layout.SparseCsr)));
    // m^T is a view; the kernel reads m's rows in place (it transposes back to m, which is contiguous)
    return torch.sparse_sampled_addmm(pattern, v, m.t(), new Scalar(0.0), new Scalar(1.0)).values().view(b, width);
  }

  /** rowDots with the pattern over M's rows: entry e = (i, j) of idx becomes (idx[e], i), the scores come back in e's order. */
  private static Tensor rowDotsByBankRow(Tensor v, Tensor m, Tensor idx, long width, TensorOptions values) {
    long b = v.size(0);
    long n = m.size(0);
    T_TensorTensor_T sorted = idx.to(torch.ScalarType.Int).sort(0, false);
    Tensor rows = sorted.get0();
    Tensor order = sorted.get1(); // entry e of the sorted pattern is entry order[e] of idx
    TensorOptions ints = like(v, torch.ScalarType.Int);
    Tensor crow = torch.cat(new TensorVector(torch.zeros(new long[] {1}, ints),
        torch.bincount(rows, new TensorOptional(), n).cumsum(0, new ScalarTypeOptional(torch.ScalarType.Int))));
    Tensor cols = torch.floor_divide(order, new Scalar(width)).to(torch.ScalarType.Int); // the batch row i
    Tensor pattern = torch.sparse_csr_tensor(crow, cols, torch.zeros(new long[] {b * width}, values),
        new long[] {n, b}, values.layout(new LayoutOptional(torch.Layout.SparseCsr)));
    // v^T is a view of v: the kernel reads v's rows, which stay in cache
    Tensor byRow = torch.sparse_sampled_addmm(pattern, m, v.t(), new Scalar(0.0), new Scalar(1.0)).values();
    return torch.empty(new long[] {b * width}, values, new MemoryFormatOptional()).index_copy_(0, order, byRow).view(b, width);
  }

  /** out[i] = sum_j w[i][j] M[idx[i * width + j]], B x D: libtorch's embedding_bag with per-sample weights. */
  public static Tensor weightedRowSums(Tensor m, Tensor idx, Tensor w, long width) {
    long b = w.size(0);
    Tensor offsets = torch.arange(new Scalar(0), new Scalar(b * width), new Scalar(width), like(idx, torch.ScalarType.Long));
    return torch.embedding_bag(m, idx, offsets, false, 0 /* sum */, false, new TensorOptional(w.reshape(-1)), false).get0();
  }

  private static TensorOptions like(Tensor t, torch.ScalarType type) {
    return Tensors.options(type).device(new DeviceOptional(t.device()));
  }

  /**
   * libtorch announces once per process, on stderr, that sparse CSR support "is in beta state";
   * here CSR only carries the index pattern, so the first pattern is made with C++ logging
   * raised to errors, then logging returns to the level TORCH_CPP_LOG_LEVEL asked for.
   */
  private static synchronized void quietCsrAnnouncement() {
    if (csrAnnounced) {
      return;
    }
    setCppLogLevel(2);
    try {
      TensorOptions longs = Tensors.options(torch.ScalarType.Long);
      torch.sparse_csr_tensor(torch.zeros(new long[] {2}, longs), torch.zeros(new long[] {0}, longs), torch.zeros(new long[] {0}),
          new long[] {1, 1}, Tensors.options(torch.ScalarType.Float).layout(new LayoutOptional(torch.Layout.SparseCsr)));
    } finally {
      setCppLogLevel(cppLogLevelFromEnvironment());
      csrAnnounced = true;
    }
  }

  private static void setCppLogLevel(int level) {
    torch.ParseCommandLineFlags(new int[] {2}, new PointerPointer<>("npid4j", "--caffe2_log_level=" + level));
    torch.UpdateLoggingLevelsFromFlags();
  }

  /** c10's reading of TORCH_CPP_LOG_LEVEL (INFO 0, WARNING 1, ERROR 2, FATAL 3; warnings by default). */
  private static int cppLogLevelFromEnvironment() {
    String level = System.getenv("TORCH_CPP_LOG_LEVEL");
    if (level == null) {
      return 1;
    }
    return switch (level.trim().toUpperCase(java.util.Locale.ROOT)) {
      case "0", "INFO" -> 0;
      case "2", "ERROR" -> 2;
      case "3", "FATAL" -> 3;
      default -> 1;
    };
  }
}
