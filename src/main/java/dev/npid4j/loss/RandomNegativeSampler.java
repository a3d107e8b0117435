package dev.npid4j.loss;

import java.util.SplittableRandom;

/**
 * Uniform draws with replacement: what VISSL's AliasMethod over all-equal weights amounts to.
 * The stream is reseeded by the trainer at every step from (seed, rank, step), so a resumed run
 * draws exactly the negatives the uninterrupted run would have drawn.
 */
public final class RandomNegativeSampler implements NegativeSampler {
  private SplittableRandom random;

  public RandomNegativeSampler(long seed) {
    reseed(seed);
  }

  public void reseed(long seed) {
    random = new SplittableRandom(seed);
  }

  @Override
  public long[] draw(int count, long n) {
    long[] out = new long[count];
    for (int i = 0; i < count; i++) {
      out[i] = random.nextLong(n);
    }
    return out;
  }
}
