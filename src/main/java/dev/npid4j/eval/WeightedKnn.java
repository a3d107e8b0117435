package dev.npid4j.eval;

import dev.npid4j.torch.Scopes;
import dev.npid4j.torch.NoGrad;
import dev.npid4j.torch.Ops;
import dev.npid4j.torch.Tensors;
import org.bytedeco.pytorch.Scalar;
import org.bytedeco.pytorch.Tensor;
import org.bytedeco.pytorch.global.torch;
import org.bytedeco.pytorch.global.torch.ScalarType;

/**
 * NPID's (and VISSL's) weighted k-nearest-neighbour classifier: for each query, the k train
 * features with the largest dot product vote for their labels with weight exp(sim / sigma); the
 * classes are ranked by total vote. Queries run in chunks so memory stays at chunk x N floats.
 * Pass L2-normalised features for cosine similarity.
 */
public final class WeightedKnn {
  private WeightedKnn() {}

  public static KnnResult evaluate(Tensor train, long[] trainLabels, Tensor test, long[] testLabels, int k, double sigma, int numClasses) {
    if (train.size(0) != trainLabels.length || test.size(0) != testLabels.length) {
      throw new IllegalArgumentException("features and labels differ in count");
    }
    int classes = classes(trainLabels, numClasses);
    int top = Math.min(5, classes);
    long[] correct = new long[2];
    int kk = votes(train, trainLabels, test, k, sigma, classes, (votes, from) -> {
      long[] hits = Hits.count(votes, top, testLabels, from);
      correct[0] += hits[0];
      correct[1] += hits[1];
    });
    int m = testLabels.length;
    return new KnnResult(100.0 * correct[0] / m, 100.0 * correct[1] / m, kk, sigma, m);
  }

  /** The winning label of each row of {@code queries} (the same vote as {@link #evaluate}). */
  public static int[] predict(Tensor train, long[] trainLabels, Tensor queries, int k, double sigma, int numClasses) {
    int[] out = new int[(int) queries.size(0)];
    votes(train, trainLabels, queries, k, sigma, classes(trainLabels, numClasses), (votes, from) -> {
      long[] best = Tensors.toLongs(votes.argmax(new org.bytedeco.pytorch.LongOptional(1), false));
      for (int i = 0; i < best.length; i++) {
        out[from + i] = (int) best[i];
      }
    });
    return out;
  }

  private static int classes(long[] trainLabels, int numClasses) {
    int classes = numClasses;
    for (long l : trainLabels) {
      classes = (int) Math.max(classes, l + 1);
    }
    return classes;
  }

  /** Each chunk of queries' class votes (n x classes) with the index of its first query; returns the k used. */
  private interface Votes {
    void accept(Tensor votes, int from);
  }

  private static int votes(Tensor train, long[] trainLabels, Tensor test, int k, double sigma, int classes, Votes sink) {
    if (train.size(1) != test.size(1)) {
      throw new IllegalArgumentException("train features are " + train.size(1) + "-d but test features are " + test.size(1) + "-d");
    }
    int kk = (int) Math.min(k, train.size(0));
    int m = (int) test.size(0);
    int chunk = (int) Math.max(1, Math.min(m, (64L << 20) / Math.max(1, train.size(0)))); // ~256 MB of similarities
    try (var outer = Scopes.open(); var g = NoGrad.open()) {
      Tensor trainF = train.to(ScalarType.Float);
      Tensor trainT = trainF.t();
      Tensor labels = Tensors.fromLongs(trainLabels, trainLabels.length);
      for (int from = 0; from < m; from += chunk) {
        try (var s = Scopes.open()) {
          int n = Math.min(chunk, m - from);
          Tensor q = test.narrow(0, from, n).to(ScalarType.Float);
          Ops.TopK nearest = Ops.topk(q.mm(trainT), kk);
          Tensor sims = nearest.values();
          Tensor neighbourLabels = labels.index_select(0, nearest.indices().reshape(-1)).view(n, kk);
          Tensor votes = torch.zeros(new long[] {n, classes}, Tensors.options(ScalarType.Float))
              .scatter_add_(1, neighbourLabels, sims.div(new Scalar(sigma)).exp());
          sink.accept(votes, from);
        }
      }
    }
    return kk;
  }
}
