package dev.npid4j.data;

import dev.npid4j.torch.Tensors;

/**
 * PyTorch's DistributedSampler(shuffle=True, drop_last=False): a permutation from a generator
 * seeded with seed + epoch (libtorch's randperm, so the order equals PyTorch's), padded by
 * repeating its head to a multiple of the world size, rank r taking positions r, r+W, ...
 */
public final class EpochSampler {
  private final int size;
  private final long seed;
  private final int rank;
  private final int worldSize;
  private final boolean shuffle;

  public EpochSampler(int size, long seed, int rank, int worldSize, boolean shuffle) {
    if (rank < 0 || rank >= worldSize) {
      throw new IllegalArgumentException("rank " + rank + " outside world of " + worldSize);
    }
    this.size = size;
    this.seed = seed;
    this.rank = rank;
    this.worldSize = worldSize;
    this.shuffle = shuffle;
  }

  /** Samples per rank per epoch: ceil(N / W). */
  public int samplesPerRank() {
    return (size + worldSize - 1) / worldSize;
  }

  /** This rank's sample indices for {@code epoch}, in order. */
  public int[] indices(int epoch) {
    long[] perm;
    if (shuffle) {
      perm = Tensors.randperm(size, seed + epoch);
    } else {
      perm = new long[size];
      for (int i = 0; i < size; i++) {
        perm[i] = i;
      }
    }
    int total = samplesPerRank() * worldSize;
    int[] out = new int[samplesPerRank()];
    for (int k = 0, pos = rank; pos < total; k++, pos += worldSize) {
      out[k] = (int) perm[pos % size]; // padding repeats the head of the permutation
    }
    return out;
  }
}
