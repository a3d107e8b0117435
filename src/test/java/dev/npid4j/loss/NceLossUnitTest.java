package dev.npid4j.loss;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.assertj.core.data.Offset.offset;

import dev.npid4j.dist.Communicator;
import dev.npid4j.torch.Ops;
import dev.npid4j.torch.Tensors;
import dev.npid4j.torch.Torch;
import java.util.List;
import org.bytedeco.javacpp.PointerScope;
import org.bytedeco.pytorch.Tensor;
import org.bytedeco.pytorch.global.torch;
import org.bytedeco.pytorch.global.torch.ScalarType;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

class NceLossUnitTest {
  @BeforeAll
  static void load() {
    Torch.load();
  }

  @Test
  void bankInitIsUnitRowsAndSeeded() {
    try (PointerScope s = new PointerScope();
        NceLossWithMemory a = NceLossWithMemory.create(NceLossParams.npid(50), ScalarType.Float, 7, new RandomNegativeSampler(0), Communicator.local());
        NceLossWithMemory b = NceLossWithMemory.create(NceLossParams.npid(50), ScalarType.Float, 7, new RandomNegativeSampler(0), Communicator.local())) {
      double[] norms = Tensors.toDoubles(Ops.rowNorm(a.memory()));
      for (double n : norms) {
        assertThat(n).isCloseTo(1.0, offset(1e-5));
      }
      assertThat(a.memory().equal(b.memory())).isTrue();
    }
  }

  @Test
  void zIsEstimatedOnceAndCrossEntropyNeverTouchesIt() {
    try (PointerScope s = new PointerScope();
        NceLossWithMemory nce = NceLossWithMemory.create(NceLossParams.npid(100), ScalarType.Float, 1, new RandomNegativeSampler(3), Communicator.local())) {
      assertThat(nce.z()).isEqualTo(-1.0);
      nce.forward(List.of(torch.randn(4, 128)), new long[] {1, 2, 3, 4});
      double z = nce.z();
      assertThat(z).isPositive();
      assertThat(z).isEqualTo((double) (float) z); // stored like VISSL's float32 buffer
      nce.forward(List.of(torch.randn(4, 128)), new long[] {5, 6, 7, 8});
      assertThat(nce.z()).isEqualTo(z);
    }
    NceLossParams p = NceLossParams.npid(100);
    NceLossParams xent = new NceLossParams(NceLossParams.LossType.CROSS_ENTROPY, true, 0.07, List.of(1.0), -1, -100, -1, 16,
        "random", 100, 128, 0.5, true, true);
    try (PointerScope s = new PointerScope();
        NceLossWithMemory loss = NceLossWithMemory.create(xent, ScalarType.Float, 1, new RandomNegativeSampler(3), Communicator.local())) {
      LossOutput out = loss.forward(List.of(torch.randn(4, 128)), new long[] {1, 2, 3, 4});
      assertThat(loss.z()).isEqualTo(-1.0);
      assertThat(out.loss()).isPositive();
      assertThat(p.numNegatives()).isEqualTo(4096);
    }
  }

  @Test
  void gradientMatchesFiniteDifferences() {
    NceLossParams p = new NceLossParams(NceLossParams.LossType.CROSS_ENTROPY, true, 0.5, List.of(1.0), -1, -100, -1, 8,
        "random", 20, 6, 0.5, true, false);
    try (PointerScope s = new PointerScope()) {
      Torch.manualSeed(5);
      Tensor bank = Ops.l2Normalize(torch.randn(20, 6).to(ScalarType.Double));
      double[] u = Tensors.toDoubles(torch.randn(3, 6));
      long[] y = {2, 9, 13};
      long seed = 11;
      double[] grad;
      try (NceLossWithMemory loss = new NceLossWithMemory(p, bank.clone(), ScalarType.Double, new RandomNegativeSampler(seed), Communicator.local())) {
        grad = Tensors.toDoubles(loss.forward(List.of(Tensors.fromDoubles(u, 3, 6)), y).gradients().get(0));
      }
      double h = 1e-6;
      for (int i = 0; i < u.length; i++) {
        double[] plus = u.clone();
        double[] minus = u.clone();
        plus[i] += h;
        minus[i] -= h;
        double lp;
        double lm;
        try (NceLossWithMemory l1 = new NceLossWithMemory(p, bank.clone(), ScalarType.Double, new RandomNegativeSampler(seed), Communicator.local());
            NceLossWithMemory l2 = new NceLossWithMemory(p, bank.clone(), ScalarType.Double, new RandomNegativeSampler(seed), Communicator.local())) {
          lp = l1.forward(List.of(Tensors.fromDoubles(plus, 3, 6)), y).loss();
          lm = l2.forward(List.of(Tensors.fromDoubles(minus, 3, 6)), y).loss();
        }
        assertThat(grad[i]).isCloseTo((lp - lm) / (2 * h), offset(1e-6));
      }
    }
  }

  @Test
  void lastDuplicateWinsAndBadTargetsAreRejected() {
    assertThat(NceLossWithMemory.lastOccurrences(new long[] {4, 7, 4, 1, 7})).containsExactly(2, 3, 4);
    assertThat(NceLossWithMemory.lastOccurrences(new long[] {1, 2, 3})).containsExactly(0, 1, 2);
    try (PointerScope s = new PointerScope();
        NceLossWithMemory loss = NceLossWithMemory.create(NceLossParams.npid(10), ScalarType.Float, 1, new RandomNegativeSampler(3), Communicator.local())) {
      assertThatThrownBy(() -> loss.forward(List.of(torch.randn(2, 128)), new long[] {1, 10})).hasMessageContaining("outside the memory bank");
      assertThatThrownBy(() -> loss.forward(List.of(torch.randn(2, 64)), new long[] {1, 2})).hasMessageContaining("embedding_dim");
    }
  }
}
