package dev.npid4j.eval;

import dev.npid4j.torch.NoGrad;
import dev.npid4j.torch.Scopes;
import dev.npid4j.torch.Tensors;
import org.bytedeco.pytorch.Scalar;
import org.bytedeco.pytorch.Tensor;
import org.bytedeco.pytorch.global.torch;
import org.bytedeco.pytorch.global.torch.ScalarType;

/**
 * Exact t-SNE (van der Maaten and Hinton 2008) of a few thousand embeddings, on libtorch's matrix
 * operations: Gaussian affinities matched to a perplexity by bisection (all rows at once),
 * symmetrised; a Student-t map optimised by gradient descent with momentum, per-coordinate gains
 * and early exaggeration, from a PCA start, as scikit-learn's defaults. Every step is O(n^2) in
 * memory and time, which is what a report's 2,000 points can afford (seconds) and what keeps it
 * exact and deterministic.
 */
public final class Tsne {
  private Tsne() {}

  /** The settings: perplexity, iterations, early exaggeration (factor and iterations). */
  public record Settings(double perplexity, int iterations, double exaggeration, int exaggerationIterations) {
    public static Settings defaults() {
      return new Settings(30, 750, 12, 250);
    }
  }

  /**
   * The 2-D map of the rows of {@code x} (n x d), starting from {@code init} (n x 2, e.g. the
   * first two principal components; scaled here to a standard deviation of 1e-4).
   */
  public static float[][] map(Tensor x, float[][] init, Settings s) {
    int n = (int) x.size(0);
    if (n < 3) {
      return init;
    }
    try (var scope = Scopes.open(); var g = NoGrad.open()) {
      Tensor p = affinities(x.to(ScalarType.Float), Math.min(s.perplexity(), (n - 1) / 3.0));
      float[] flat = new float[n * 2];
      for (int i = 0; i < n; i++) {
        flat[2 * i] = init[i][0];
        flat[2 * i + 1] = init[i][1];
      }
      Tensor y = Tensors.fromFloats(flat, n, 2);
      double sd = y.select(1, 0).std().item_double();
      y = y.mul(new Scalar(1e-4 / (sd > 0 ? sd : 1)));
      Tensor update = torch.zeros_like(y);
      Tensor gains = torch.ones_like(y);
      double rate = Math.max(n / s.exaggeration() / 4, 50); // scikit-learn's learning_rate="auto"
      Tensor eye = torch.eye(n, Tensors.options(ScalarType.Float));
      Tensor notSelf = eye.neg().add(new Scalar(1.0));
      for (int it = 0; it < s.iterations(); it++) {
        try (var step = Scopes.open()) {
          boolean early = it < s.exaggerationIterations();
          Tensor sq = y.pow(new Scalar(2.0)).sum(new long[] {1}, true, new org.bytedeco.pytorch.ScalarTypeOptional());
          Tensor d2 = sq.add(sq.t()).sub(y.mm(y.t()).mul(new Scalar(2.0))).clamp_min(new Scalar(0.0));
          Tensor num = d2.add(new Scalar(1.0)).reciprocal().mul(notSelf);
          Tensor q = num.div(num.sum()).clamp_min(new Scalar(1e-12));
          Tensor w = (early ? p.mul(new Scalar(s.exaggeration())) : p).sub(q).mul(num);
          Tensor grad = w.sum(new long[] {1}, true, new org.bytedeco.pytorch.ScalarTypeOptional()).mul(y).sub(w.mm(y))
              .mul(new Scalar(4.0));
          // delta-bar-delta gains: grow where the gradient keeps its sign against the last update, shrink where it flips
          Tensor same = grad.gt(new Scalar(0.0)).eq(update.gt(new Scalar(0.0)));
          Tensor newGains = torch.where(same, gains.mul(new Scalar(0.8)), gains.add(new Scalar(0.2))).clamp_min(new Scalar(0.01));
          gains.copy_(newGains);
          double momentum = early ? 0.5 : 0.8;
          update.copy_(update.mul(new Scalar(momentum)).sub(gains.mul(grad).mul(new Scalar(rate))));
          y.add_(update);
        }
      }
      float[] out = Tensors.toFloats(y.contiguous());
      float[][] points = new float[n][2];
      for (int i = 0; i < n; i++) {
        points[i][0] = out[2 * i];
        points[i][1] = out[2 * i + 1];
      }
      return points;
    }
  }

  /** Symmetric affinities P (n x n, summing to 1): each row's Gaussian bandwidth set so its perplexity is {@code perplexity}. */
  private static Tensor affinities(Tensor x, double perplexity) {
    int n = (int) x.size(0);
    Tensor sq = x.pow(new Scalar(2.0)).sum(new long[] {1}, true, new org.bytedeco.pytorch.ScalarTypeOptional());
    Tensor d2 = sq.add(sq.t()).sub(x.mm(x.t()).mul(new Scalar(2.0))).clamp_min(new Scalar(0.0));
    Tensor notSelf = torch.eye(n, Tensors.options(ScalarType.Float)).neg().add(new Scalar(1.0));
    double target = Math.log(perplexity);
    Tensor beta = torch.ones(new long[] {n, 1}, Tensors.options(ScalarType.Float));
    Tensor lo = torch.zeros(new long[] {n, 1}, Tensors.options(ScalarType.Float));
    Tensor hi = torch.full(new long[] {n, 1}, new Scalar(Float.MAX_VALUE), Tensors.options(ScalarType.Float));
    // distances relative to each row's nearest other point keep exp() away from underflow
    Tensor shift = d2.add(torch.eye(n, Tensors.options(ScalarType.Float)).mul(new Scalar(Float.MAX_VALUE / 4)))
        .amin(new long[] {1}, true);
    Tensor rel = d2.sub(shift);
    Tensor p = null;
    for (int it = 0; it < 64; it++) {
      try (var step = Scopes.open()) {
        Tensor e = rel.mul(beta).neg().exp().mul(notSelf);
        Tensor sum = e.sum(new long[] {1}, true, new org.bytedeco.pytorch.ScalarTypeOptional()).clamp_min(new Scalar(1e-30));
        Tensor h = sum.log().add(beta.mul(e.mul(rel).sum(new long[] {1}, true, new org.bytedeco.pytorch.ScalarTypeOptional())).div(sum));
        Tensor tooFlat = h.gt(new Scalar(target)); // entropy too high: narrow the Gaussian (larger beta)
        lo.copy_(torch.where(tooFlat, beta, lo));
        hi.copy_(torch.where(tooFlat, hi, beta));
        Tensor up = torch.where(hi.ge(new Scalar(Float.MAX_VALUE / 2)), beta.mul(new Scalar(2.0)), lo.add(hi).div(new Scalar(2.0)));
        Tensor down = lo.add(hi).div(new Scalar(2.0));
        beta.copy_(torch.where(tooFlat, up, down));
        if (it == 63) {
          p = Tensors.keep(e.div(sum));
        }
      }
    }
    Tensor sym = p.add(p.t());
    return sym.div(sym.sum()).clamp_min(new Scalar(1e-12));
  }

  /**
   * How well a picture keeps neighbours: for each point, the share of its {@code k} nearest
   * points (Euclidean, in {@code points}) that have its label; the mean over points. The same
   * measure on the embedding itself is the ceiling a 2-D map can approach.
   */
  public static double neighbourClassShare(float[][] points, int[] labels, int k) {
    int n = points.length;
    int d = n == 0 ? 0 : points[0].length;
    float[] flat = new float[n * d];
    for (int i = 0; i < n; i++) {
      System.arraycopy(points[i], 0, flat, i * d, d);
    }
    try (var scope = Scopes.open(); var g = NoGrad.open()) {
      return neighbourClassShare(Tensors.fromFloats(flat, n, d), labels, k);
    }
  }

  /** {@link #neighbourClassShare(float[][], int[], int)} for the rows of an n x d tensor. */
  public static double neighbourClassShare(Tensor x, int[] labels, int k) {
    int n = (int) x.size(0);
    int kk = Math.min(k, n - 1);
    if (kk < 1) {
      return Double.NaN;
    }
    try (var scope = Scopes.open(); var g = NoGrad.open()) {
      Tensor xf = x.to(ScalarType.Float);
      Tensor sq = xf.pow(new Scalar(2.0)).sum(new long[] {1}, true, new org.bytedeco.pytorch.ScalarTypeOptional());
      Tensor d2 = sq.add(sq.t()).sub(xf.mm(xf.t()).mul(new Scalar(2.0)))
          .add(torch.eye(n, Tensors.options(ScalarType.Float)).mul(new Scalar(Float.MAX_VALUE / 4)));
      long[] idx = Tensors.toLongs(dev.npid4j.torch.Ops.topk(d2.neg(), kk).indices());
      long same = 0;
      for (int i = 0; i < n; i++) {
        for (int j = 0; j < kk; j++) {
          if (labels[(int) idx[i * kk + j]] == labels[i]) {
            same++;
          }
        }
      }
      return (double) same / ((long) n * kk);
    }
  }
}
