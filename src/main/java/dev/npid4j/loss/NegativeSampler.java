package dev.npid4j.loss;

import dev.npid4j.torch.Tensors;
import org.bytedeco.pytorch.Tensor;

/**
 * VISSL's sampler contract: one request of {@code count} = B'(K+1) indices in [0, n) per output
 * per call; the loss overwrites column 0 of the B' x (K+1) view with the positives.
 */
public interface NegativeSampler {
  long[] draw(int count, long n);

  /** The same draw written into {@code out} (a contiguous int64 tensor of {@code count} elements). */
  default void drawInto(Tensor out, int count, long n) {
    long[] d = draw(count, n);
    Tensors.copyInto(out, d, count);
  }

  /**
   * {@code rows} x {@code perRow} draws into {@code out}, row-major: the per-sample request of
   * the loss (row b holds sample b's K + 1 candidates). A sampler may give each row its own
   * stream; by default this is one draw of rows x perRow.
   */
  default void drawRowsInto(Tensor out, int rows, int perRow, long n) {
    drawInto(out, Math.multiplyExact(rows, perRow), n);
  }
}
