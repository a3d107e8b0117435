package dev.npid4j.eval;

import static org.assertj.core.api.Assertions.assertThat;

import dev.npid4j.torch.Ops;
import dev.npid4j.torch.Tensors;
import dev.npid4j.torch.Torch;
import java.util.Random;
import org.bytedeco.pytorch.Tensor;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/** The report's t-SNE map keeps neighbours together where a linear projection cannot. */
class TsneTest {
  @BeforeAll
  static void load() {
    Torch.load();
  }

  /** 10 classes of 128-d unit vectors, each a noisy copy of its class centre: separable in 128-d, not in any 2-d projection. */
  @Test
  void theMapKeepsClassesTogetherFarBetterThanTheLinearProjection() {
    int n = 1000;
    int d = 128;
    Random r = new Random(3);
    float[][] centres = new float[10][d];
    for (float[] c : centres) {
      for (int j = 0; j < d; j++) {
        c[j] = (float) r.nextGaussian();
      }
    }
    float[] x = new float[n * d];
    int[] labels = new int[n];
    for (int i = 0; i < n; i++) {
      labels[i] = i % 10;
      for (int j = 0; j < d; j++) {
        x[i * d + j] = centres[labels[i]][j] + 0.9f * (float) r.nextGaussian();
      }
    }
    Tensor t = Ops.l2Normalize(Tensors.fromFloats(x, n, d));
    float[][] linear = new float[n][2];
    float[] xs = Tensors.toFloats(t);
    for (int i = 0; i < n; i++) {
      linear[i][0] = xs[i * d];
      linear[i][1] = xs[i * d + 1];
    }
    long t0 = System.nanoTime();
    float[][] map = Tsne.map(t, linear, Tsne.Settings.defaults());
    double seconds = (System.nanoTime() - t0) / 1e9;
    double shareMap = Tsne.neighbourClassShare(map, labels, 10);
    double shareLinear = Tsne.neighbourClassShare(linear, labels, 10);
    double shareEmbedding = Tsne.neighbourClassShare(t, labels, 10);
    System.out.printf("[tsne] %d points in %.1fs; 10-NN class share: embedding %.3f, t-SNE %.3f, 2 coordinates %.3f%n", n, seconds,
        shareEmbedding, shareMap, shareLinear);
    assertThat(shareEmbedding).isGreaterThan(0.95);
    assertThat(shareMap).isGreaterThan(0.9);
    assertThat(shareLinear).isLessThan(0.5);
    for (float[] p : map) {
      assertThat(Float.isFinite(p[0]) && Float.isFinite(p[1])).isTrue();
    }
  }
}
