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
    if (train.size(1) != test.size(1)) {
      throw new IllegalArgumentException("train features are " + train.size(1) + "-d but test features are " + test.size(1) + "-d");
    }
    int kk = (int) Math.min(k, train.size(0));
    int classes = numClasses;
    for (long l : trainLabels) {
      classes = (int) Math.max(classes, l + 1);
    }
    int top = Math.min(5, classes);
    long correct1 = 0;
    long correct5 = 0;
    int m = testLabels.length;
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
          long[] hits = Hits.count(votes, top, testLabels, from);
          correct1 += hits[0];
          correct5 += hits[1];
        }
      }
    }
    return new KnnResult(100.0 * correct1 / m, 100.0 * correct5 / m, kk, sigma, m);
  }
}
