package dev.npid4j.loss;

/**
 * VISSL's sampler contract: one request of {@code count} = B'(K+1) indices in [0, n) per output
 * per call; the loss overwrites column 0 of the B' x (K+1) view with the positives.
 */
public interface NegativeSampler {
  long[] draw(int count, long n);
}
