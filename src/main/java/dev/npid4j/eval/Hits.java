package dev.npid4j.eval;

import dev.npid4j.torch.Tensors;
import org.bytedeco.pytorch.Tensor;

/** Top-1 and top-k hit counts of class scores against true labels, for kNN votes and classifier logits alike. */
final class Hits {
  private Hits() {}

  /**
   * Rows of {@code scores} (n x classes) against {@code truth[offset .. offset + n)}: {top-1 hits,
   * top-{@code top} hits}.
   */
  static long[] count(Tensor scores, int top, long[] truth, int offset) {
    int n = (int) scores.size(0);
    long[] ranked = Tensors.toLongs(scores.topk(top, 1, true, true).get1());
    long[] hits = new long[2];
    for (int i = 0; i < n; i++) {
      long t = truth[offset + i];
      for (int j = 0; j < top; j++) {
        if (ranked[i * top + j] == t) {
          hits[1]++;
          if (j == 0) {
            hits[0]++;
          }
          break;
        }
      }
    }
    return hits;
  }
}
