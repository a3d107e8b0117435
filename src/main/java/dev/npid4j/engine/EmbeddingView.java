package dev.npid4j.engine;

import dev.npid4j.eval.Tsne;
import dev.npid4j.torch.Scopes;
import dev.npid4j.torch.NoGrad;
import dev.npid4j.torch.Ops;
import dev.npid4j.torch.Tensors;
import java.util.ArrayList;
import java.util.List;
import org.bytedeco.pytorch.Tensor;

/**
 * What the report shows of the embedding after an epoch: for one test image per class, its
 * nearest training images by embedding (cosine against the memory bank), a 2-D PCA projection of
 * test embeddings coloured by class and, after the last epoch, their t-SNE map, with how well each
 * picture keeps neighbours: the share of each point's 10 nearest points that have its class, in
 * the picture and in the embedding itself.
 *
 * @param map the t-SNE map of the same points, or null (drawn after the last epoch only: it takes seconds)
 * @param shares 10-NN class share in the embedding, the PCA picture and the map (NaN without a map)
 */
public record EmbeddingView(int epoch, int[] queries, int[][] neighbours, float[][] similarities, float[][] points, int[] pointLabels,
    double[] explainedVariance, float[][] map, double[] shares, double mapSeconds) {

  /** Neighbours counted by the pictures' neighbour-class share. */
  static final int SHARE_K = 10;

  static final int NEIGHBOURS = 8;
  static final int MAX_POINTS = 2000;
  static final int MAX_QUERIES = 10;

  /** {@code test}: L2-normalised test embeddings in data-set order; {@code bank}: the memory bank (train features). */
  static EmbeddingView of(int epoch, Tensor test, long[] testLabels, Tensor bank, boolean withMap) {
    List<Integer> q = new ArrayList<>();
    java.util.Set<Long> seen = new java.util.HashSet<>();
    for (int i = 0; i < testLabels.length && q.size() < MAX_QUERIES; i++) {
      if (testLabels[i] >= 0 && seen.add(testLabels[i])) {
        q.add(i);
      }
    }
    int[] queries = q.stream().mapToInt(Integer::intValue).toArray();
    int k = (int) Math.min(NEIGHBOURS, bank.size(0));
    int[][] nb = new int[queries.length][k];
    float[][] sims = new float[queries.length][k];
    float[][] points;
    int[] labels;
    double[] explained;
    int n;
    try (var s = Scopes.open(); var g = NoGrad.open()) {
      if (queries.length > 0) {
        long[] qi = new long[queries.length];
        for (int i = 0; i < qi.length; i++) {
          qi[i] = queries[i];
        }
        Tensor qf = test.index_select(0, Tensors.fromLongs(qi, qi.length));
        Ops.TopK top = Ops.topk(qf.mm(Ops.l2Normalize(bank).t()), k);
        float[] v = Tensors.toFloats(top.values());
        long[] ix = Tensors.toLongs(top.indices());
        for (int i = 0; i < queries.length; i++) {
          for (int j = 0; j < k; j++) {
            nb[i][j] = (int) ix[i * k + j];
            sims[i][j] = v[i * k + j];
          }
        }
      }
      n = (int) Math.min(MAX_POINTS, test.size(0));
      Tensor x = test.narrow(0, 0, n);
      x = x.sub(Ops.columnMean(x));
      int d = (int) x.size(1);
      double[] cov = Tensors.toDoubles(x.t().mm(x).div(new org.bytedeco.pytorch.Scalar((double) Math.max(1, n - 1))));
      double total = 0;
      for (int i = 0; i < d; i++) {
        total += cov[i * d + i];
      }
      double[][] comps = new double[2][];
      explained = new double[2];
      for (int c = 0; c < 2; c++) {
        double[] vec = powerIteration(cov, d, c);
        double lambda = rayleigh(cov, d, vec);
        comps[c] = vec;
        explained[c] = total > 0 ? lambda / total : 0;
        for (int i = 0; i < d; i++) { // deflate
          for (int j = 0; j < d; j++) {
            cov[i * d + j] -= lambda * vec[i] * vec[j];
          }
        }
      }
      float[] xs = Tensors.toFloats(x);
      points = new float[n][2];
      labels = new int[n];
      for (int i = 0; i < n; i++) {
        for (int c = 0; c < 2; c++) {
          double dot = 0;
          for (int j = 0; j < d; j++) {
            dot += xs[i * d + j] * comps[c][j];
          }
          points[i][c] = (float) dot;
        }
        labels[i] = (int) testLabels[i];
      }
      double[] shares = {Tsne.neighbourClassShare(test.narrow(0, 0, n), labels, SHARE_K),
          Tsne.neighbourClassShare(points, labels, SHARE_K), Double.NaN};
      float[][] map = null;
      double seconds = 0;
      if (withMap) {
        long t0 = System.nanoTime();
        map = Tsne.map(test.narrow(0, 0, n), points, Tsne.Settings.defaults());
        seconds = (System.nanoTime() - t0) / 1e9;
        shares[2] = Tsne.neighbourClassShare(map, labels, SHARE_K);
      }
      return new EmbeddingView(epoch, queries, nb, sims, points, labels, explained, map, shares, seconds);
    }
  }

  private static double[] powerIteration(double[] m, int d, int seed) {
    double[] v = new double[d];
    java.util.Random r = new java.util.Random(17 + seed);
    for (int i = 0; i < d; i++) {
      v[i] = r.nextGaussian();
    }
    for (int it = 0; it < 300; it++) {
      double[] w = new double[d];
      for (int i = 0; i < d; i++) {
        double s = 0;
        for (int j = 0; j < d; j++) {
          s += m[i * d + j] * v[j];
        }
        w[i] = s;
      }
      double norm = 0;
      for (double x : w) {
        norm += x * x;
      }
      norm = Math.sqrt(norm);
      if (norm == 0) {
        return v;
      }
      for (int i = 0; i < d; i++) {
        v[i] = w[i] / norm;
      }
    }
    return v;
  }

  private static double rayleigh(double[] m, int d, double[] v) {
    double s = 0;
    for (int i = 0; i < d; i++) {
      for (int j = 0; j < d; j++) {
        s += v[i] * m[i * d + j] * v[j];
      }
    }
    return s;
  }
}
