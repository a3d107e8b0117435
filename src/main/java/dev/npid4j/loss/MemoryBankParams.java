package dev.npid4j.loss;

/**
 * VISSL's {@code memory_params} for a bank of {@code size} rows (num_train_samples): rows of
 * {@code embeddingDim}, momentum of the update, whether the random init is L2-normalised.
 */
public record MemoryBankParams(long size, int embeddingDim, double momentum, boolean normInit) {
  public MemoryBankParams {
    if (size < 1) {
      throw new IllegalArgumentException("memory size (num_train_samples) must be >= 1, got " + size);
    }
    if (embeddingDim < 1) {
      throw new IllegalArgumentException("embedding_dim must be >= 1, got " + embeddingDim);
    }
    if (momentum < 0 || momentum > 1) {
      throw new IllegalArgumentException("momentum must be in [0, 1], got " + momentum);
    }
  }

  /** NPID's bank (128-d, momentum 0.5, normalised init) of {@code size} rows. */
  public static MemoryBankParams npid(long size) {
    return new MemoryBankParams(size, 128, 0.5, true);
  }

  public MemoryBankParams withEmbeddingDim(int dim) {
    return new MemoryBankParams(size, dim, momentum, normInit);
  }
}
