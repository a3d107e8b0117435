package dev.npid4j.loss;

import java.util.SplittableRandom;
import org.bytedeco.javacpp.LongPointer;
import org.bytedeco.pytorch.Tensor;

/**
 * Uniform draws with replacement: what VISSL's AliasMethod over all-equal weights amounts to.
 * The stream is reseeded by the trainer at every step from (seed, rank, step), so a resumed run
 * draws exactly the negatives the uninterrupted run would have drawn.
 *
 * <p>An index is the high half of a 64 x 64-bit product (Lemire's multiply-shift; bias below
 * n / 2^64): about 5x faster than a bounded draw with a division, which mattered at 1 M
 * indices per step.
 */
public final class RandomNegativeSampler implements NegativeSampler {
  private SplittableRandom random;
  private long[] scratch = new long[0];

  public RandomNegativeSampler(long seed) {
    reseed(seed);
  }

  public void reseed(long seed) {
    random = new SplittableRandom(seed);
  }

  @Override
  public long[] draw(int count, long n) {
    long[] out = new long[count];
    fill(out, count, n);
    return out;
  }

  @Override
  public void drawInto(Tensor out, int count, long n) {
    if (scratch.length < count) {
      scratch = new long[count];
    }
    fill(scratch, count, n);
    new LongPointer(out.data_ptr()).capacity(count).put(scratch, 0, count);
  }

  private void fill(long[] out, int count, long n) {
    if (n <= 0) {
      throw new IllegalArgumentException("cannot draw from an empty range [0, " + n + ")");
    }
    for (int i = 0; i < count; i++) {
      long x = random.nextLong();
      // unsigned high half of x * n, n > 0
      out[i] = Math.multiplyHigh(x, n) + ((x >> 63) & n);
    }
  }
}
