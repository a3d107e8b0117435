package dev.npid4j.config;

import dev.npid4j.loss.MemoryBankParams;
import java.util.List;

/**
 * VISSL's memory_params plus npid4j's own bank keys.
 *
 * @param storage memory_params.dtype: float32, or bfloat16 / float16 to halve the bank (computations stay float32)
 * @param initFromModel memory_params.init_from_model: fill the bank with the untrained model's embeddings
 * @param sameInitOnAllRanks memory_params.same_init_on_all_ranks: every rank draws the bank from SEED_VALUE
 */
public record BankConfig(int embeddingDim, double momentum, boolean normInit, String storage, boolean initFromModel,
    boolean sameInitOnAllRanks) {
  /** The bank's parameters once the training set's size is known (VISSL forces memory_size to num_train_samples). */
  public MemoryBankParams forSize(long n) {
    return new MemoryBankParams(n, embeddingDim, momentum, normInit);
  }

  static BankConfig read(ConfigTree t) {
    String b = "config.LOSS.nce_loss_with_memory." + "memory_params.";
    double momentum = t.getDouble(b + "momentum");
    if (momentum < 0 || momentum > 1) {
      throw new ConfigError(b + "momentum must be in [0, 1], got " + momentum);
    }
    String storage = t.getString(b + "dtype");
    if (!List.of("float32", "bfloat16", "float16").contains(storage)) {
      throw new ConfigError(b + "dtype must be float32, bfloat16 or float16, got '" + storage + "'");
    }
    return new BankConfig(Values.positive(t, b + "embedding_dim"), momentum, t.getBool(b + "norm_init"), storage,
        t.getBool(b + "init_from_model"), t.getBool(b + "same_init_on_all_ranks"));
  }
}
