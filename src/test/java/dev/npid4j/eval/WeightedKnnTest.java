package dev.npid4j.eval;

import static org.assertj.core.api.Assertions.assertThat;

import dev.npid4j.torch.Ops;
import dev.npid4j.torch.Tensors;
import dev.npid4j.torch.Torch;
import org.bytedeco.javacpp.PointerScope;
import org.bytedeco.pytorch.Tensor;
import org.bytedeco.pytorch.global.torch;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

class WeightedKnnTest {
  @BeforeAll
  static void load() {
    Torch.load();
  }

  @Test
  void votesAreWeightedBySimilarity() {
    try (PointerScope s = new PointerScope()) {
      // train: two class-0 points near (1,0), three class-1 points near (0,1) but farther from the query
      Tensor train = Tensors.fromFloats(new float[] {1f, 0f, 0.99f, 0.14f, 0f, 1f, 0.1f, 0.99f, -0.1f, 0.99f}, 5, 2);
      long[] labels = {0, 0, 1, 1, 1};
      Tensor query = Tensors.fromFloats(new float[] {0.9f, 0.43f}, 1, 2);
      // k=5: three class-1 votes with low similarity lose to two class-0 votes at sigma 0.07
      KnnResult r = WeightedKnn.evaluate(Ops.l2Normalize(train), labels, Ops.l2Normalize(query), new long[] {0}, 5, 0.07, 2);
      assertThat(r.top1()).isEqualTo(100.0);
      // with a huge sigma every vote counts the same and the majority (class 1) wins
      KnnResult flat = WeightedKnn.evaluate(Ops.l2Normalize(train), labels, Ops.l2Normalize(query), new long[] {0}, 5, 1e6, 2);
      assertThat(flat.top1()).isEqualTo(0.0);
      assertThat(flat.top5()).isEqualTo(100.0);
    }
  }

  @Test
  void separableClustersAreFoundAndChunkingDoesNotMatter() {
    try (PointerScope s = new PointerScope()) {
      Torch.manualSeed(1);
      int perClass = 300;
      Tensor centers = Ops.l2Normalize(torch.randn(4, 32));
      Tensor train = Ops.l2Normalize(centers.repeat_interleave(perClass, new org.bytedeco.pytorch.LongOptional(0), new org.bytedeco.pytorch.LongOptional()).add(torch.randn(4 * perClass, 32).mul(Tensors.scalar(0.05))));
      long[] labels = new long[4 * perClass];
      for (int i = 0; i < labels.length; i++) {
        labels[i] = i / perClass;
      }
      Tensor test = Ops.l2Normalize(centers.add(torch.randn(4, 32).mul(Tensors.scalar(0.05))));
      KnnResult r = WeightedKnn.evaluate(train, labels, test, new long[] {0, 1, 2, 3}, 200, 0.07, 4);
      assertThat(r.top1()).isEqualTo(100.0);
      assertThat(r.k()).isEqualTo(200);
    }
  }
}
