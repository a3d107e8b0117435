package dev.npid4j.torch;

import static org.assertj.core.api.Assertions.assertThat;

import org.bytedeco.javacpp.PointerScope;
import org.bytedeco.pytorch.Tensor;
import org.bytedeco.pytorch.global.torch;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

class SampledProductsTest {
  @BeforeAll
  static void load() {
    Torch.load();
    Torch.setThreads(2);
  }

  /**
   * The scores come back in idx's order, whatever order the kernel reads M's rows in: against
   * the gathered rows' products, with repeated indices (within a batch row and across rows),
   * rows never drawn, and the first and last row of M.
   */
  @Test
  void rowDotsAreTheProductsWithTheSampledRows() {
    try (PointerScope s = new PointerScope()) {
      Torch.manualSeed(11);
      long n = 500;
      long width = 37;
      int b = 6;
      Tensor m = torch.randn(n, 16);
      Tensor v = torch.randn(b, 16);
      Tensor idx = torch.randint(40, new long[] {b * width}, Tensors.options(torch.ScalarType.Long)); // many repeats
      idx.narrow(0, 0, 1).fill_(new org.bytedeco.pytorch.Scalar(n - 1));
      idx.narrow(0, 5, 1).fill_(new org.bytedeco.pytorch.Scalar(0));
      Tensor expected = m.index_select(0, idx).view(b, width, 16).mul(v.unsqueeze(1)).sum(new long[] {2});
      Tensor got = SampledProducts.rowDots(v, m, idx, width);
      assertThat(Tensors.shape(got)).containsExactly(b, width);
      assertThat(got.sub(expected).abs().max().item_double()).isLessThan(1e-5 * expected.abs().max().item_double());
      Tensor weights = torch.randn(b, width);
      Tensor sums = SampledProducts.weightedRowSums(m, idx, weights, width);
      Tensor expectedSums = m.index_select(0, idx).view(b, width, 16).mul(weights.unsqueeze(2)).sum(new long[] {1});
      assertThat(sums.sub(expectedSums).abs().max().item_double()).isLessThan(1e-4 * expectedSums.abs().max().item_double());
    }
  }
}
