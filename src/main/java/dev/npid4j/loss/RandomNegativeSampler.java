package dev.npid4j.loss;

import dev.npid4j.torch.Tensors;
import java.util.SplittableRandom;
import org.bytedeco.pytorch.Tensor;

/**
 * Uniform draws with replacement: what VISSL's AliasMethod over all-equal weights amounts to.
 * The trainer reseeds it at every step with {@link #reseed(long, long[])}: each sample of the
 * batch then draws its K negatives from its own stream, a function of (seed, step, sample index)
 * only. So a resumed run draws exactly the negatives of the uninterrupted one, and W ranks with
 * batch B/W draw, sample for sample, what one rank with batch B draws.
 *
 * <p>An index is the high half of a 64 x 64-bit product (Lemire's multiply-shift; bias below
 * n / 2^64): about 5x faster than a bounded draw with a division, which mattered at 1 M
 * indices per step.
 */
public final class RandomNegativeSampler implements NegativeSampler {
  private SplittableRandom random;
  private SplittableRandom[] perSample = new SplittableRandom[0];
  private long[] scratch = new long[0];

  public RandomNegativeSampler(long seed) {
    reseed(seed);
  }

  /** One stream for every request (shared negatives, tests). */
  public void reseed(long seed) {
    random = new SplittableRandom(seed);
    perSample = new SplittableRandom[0];
  }

  /** One stream per sample of the coming batch, keyed by (step seed, sample index); other requests use the step stream. */
  public void reseed(long stepSeed, long[] sampleIndices) {
    random = new SplittableRandom(stepSeed);
    if (perSample.length != sampleIndices.length) {
      perSample = new SplittableRandom[sampleIndices.length];
    }
    for (int i = 0; i < sampleIndices.length; i++) {
      perSample[i] = new SplittableRandom(stepSeed ^ (sampleIndices[i] * 0x9E3779B97F4A7C15L + 0x632BE59BD9B4E019L));
    }
  }

  @Override
  public long[] draw(int count, long n) {
    long[] out = new long[count];
    fill(random, out, 0, count, n);
    return out;
  }

  @Override
  public void drawInto(Tensor out, int count, long n) {
    ensureScratch(count);
    fill(random, scratch, 0, count, n);
    Tensors.copyInto(out, scratch, count);
  }

  @Override
  public void drawRowsInto(Tensor out, int rows, int perRow, long n) {
    if (rows != perSample.length) {
      // rows were dropped (ignore_index) or no per-sample seeds were given: one stream
      drawInto(out, Math.multiplyExact(rows, perRow), n);
      return;
    }
    int count = Math.multiplyExact(rows, perRow);
    ensureScratch(count);
    for (int r = 0; r < rows; r++) {
      fill(perSample[r], scratch, r * perRow, perRow, n);
    }
    Tensors.copyInto(out, scratch, count);
  }

  private void ensureScratch(int count) {
    if (scratch.length < count) {
      scratch = new long[count];
    }
  }

  private static void fill(SplittableRandom random, long[] out, int from, int count, long n) {
    if (n <= 0) {
      throw new IllegalArgumentException("cannot draw from an empty range [0, " + n + ")");
    }
    for (int i = from, end = from + count; i < end; i++) {
      long x = random.nextLong();
      // unsigned high half of x * n, n > 0
      out[i] = Math.multiplyHigh(x, n) + ((x >> 63) & n);
    }
  }
}
