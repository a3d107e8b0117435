package dev.npid4j.data;

import java.util.Random;

/**
 * VISSL's DATA_LIMIT: {@code limit} samples drawn without replacement with a fixed seed, in draw
 * order; sample i of the subset is original sample {@code chosen[i]} (and its index is i).
 */
public final class SubsetDataset implements Dataset {
  private final Dataset base;
  private final int[] chosen;

  public SubsetDataset(Dataset base, int limit, long seed) {
    this.base = base;
    int n = base.size();
    int[] perm = new int[n];
    for (int i = 0; i < n; i++) {
      perm[i] = i;
    }
    Random r = new Random(seed);
    int k = Math.min(limit, n);
    for (int i = 0; i < k; i++) { // partial Fisher-Yates: the first k are a uniform draw
      int j = i + r.nextInt(n - i);
      int t = perm[i];
      perm[i] = perm[j];
      perm[j] = t;
    }
    this.chosen = java.util.Arrays.copyOf(perm, k);
  }

  @Override
  public int size() {
    return chosen.length;
  }

  @Override
  public Image image(int index) {
    return base.image(chosen[index]);
  }

  @Override
  public int label(int index) {
    return base.label(chosen[index]);
  }

  @Override
  public java.util.List<String> classNames() {
    return base.classNames();
  }

  @Override
  public boolean labelsFromNames() {
    return base.labelsFromNames();
  }

  @Override
  public int numClasses() {
    return base.numClasses();
  }

  @Override
  public String describe() {
    return base.describe() + ", DATA_LIMIT " + chosen.length;
  }

  @Override
  public java.util.List<String> unreadable() {
    return base.unreadable();
  }
}
