package dev.npid4j.loss;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.assertj.core.data.Offset.offset;

import dev.npid4j.distributed.Communicator;
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
        NceLossWithMemory a = NceLossWithMemory.create(NceLossParams.npid(), MemoryBankParams.npid(50), ScalarType.Float, 7, new RandomNegativeSampler(0), Communicator.local());
        NceLossWithMemory b = NceLossWithMemory.create(NceLossParams.npid(), MemoryBankParams.npid(50), ScalarType.Float, 7, new RandomNegativeSampler(0), Communicator.local())) {
      double[] norms = Tensors.toDoubles(Ops.rowNorm(a.memory()));
      for (double n : norms) {
        assertThat(n).isCloseTo(1.0, offset(1e-5));
      }
      assertThat(a.memory().equal(b.memory())).isTrue();
    }
  }

  /**
   * The bfloat16 bank (npid4j's fast mode) computes in float32: its loss, gradient and updated
   * rows are those of a float32 bank holding the same (rounded) values, the rows rounded again.
   */
  @Test
  void aBfloat16BankComputesInFloat32() {
    try (PointerScope s = new PointerScope();
        NceLossWithMemory narrow = NceLossWithMemory.create(NceLossParams.npid(), MemoryBankParams.npid(300), ScalarType.Float, 4, new RandomNegativeSampler(9),
            Communicator.local(), dev.npid4j.torch.Devices.CPU, ScalarType.BFloat16)) {
      assertThat(Tensors.isType(narrow.memory(), ScalarType.BFloat16)).isTrue();
      for (double n : Tensors.toDoubles(Ops.rowNorm(narrow.memory().to(ScalarType.Float)))) {
        assertThat(n).isCloseTo(1.0, offset(1e-2)); // unit rows, rounded to 8 bits of mantissa
      }
      try (NceLossWithMemory wide = new NceLossWithMemory(NceLossParams.npid(), new MemoryBank(MemoryBankParams.npid(300), narrow.memory().to(ScalarType.Float), ScalarType.Float),
          new RandomNegativeSampler(9), Communicator.local()).scores(NceLossWithMemory.Scores.GATHER)) { // as the bf16 bank
        Torch.manualSeed(2);
        Tensor emb = torch.randn(8, 128);
        long[] y = {3, 14, 15, 92, 65, 35, 89, 79};
        LossOutput a = wide.forward(List.of(emb), y);
        LossOutput b = narrow.forward(List.of(emb), y);
        assertThat(b.loss()).isCloseTo(a.loss(), offset(1e-5 * Math.abs(a.loss())));
        assertThat(b.gradients().get(0).sub(a.gradients().get(0)).abs().max().item_double())
            .isLessThan(1e-5 * a.gradients().get(0).abs().max().item_double());
        assertThat(narrow.memory().equal(wide.memory().to(ScalarType.BFloat16))).isTrue();
      }
    }
  }

  /**
   * The whole-bank product (the quickstart's way, N <= 24 (K+1)) and the sampled product (the
   * ImageNet way) compute the loss, gradient, Z and bank of the gathered rows in float32, up to
   * the order of the sums; float64 is checked against VISSL every way by the golden test.
   */
  @org.junit.jupiter.params.ParameterizedTest
  @org.junit.jupiter.params.provider.CsvSource({"NCE, DENSE", "CROSS_ENTROPY, DENSE", "NCE, SAMPLED", "CROSS_ENTROPY, SAMPLED"})
  void denseAndSampledScoresAgreeWithTheGatheredRows(NceLossParams.LossType type, NceLossWithMemory.Scores method) {
    NceLossParams p = NceLossParams.npid().withLossType(type).withNegatives(255);
    MemoryBankParams bankParams = MemoryBankParams.npid(3000);
    try (PointerScope s = new PointerScope();
        NceLossWithMemory other = NceLossWithMemory.create(p, bankParams, ScalarType.Float, 4, new RandomNegativeSampler(6), Communicator.local())
            .scores(method);
        NceLossWithMemory gathered = NceLossWithMemory.create(p, bankParams, ScalarType.Float, 4, new RandomNegativeSampler(6), Communicator.local())
            .scores(NceLossWithMemory.Scores.GATHER)) {
      Torch.manualSeed(3);
      for (int step = 0; step < 3; step++) {
        Tensor e = torch.randn(16, 128);
        long[] y = new long[16];
        for (int i = 0; i < y.length; i++) {
          y[i] = 37L * i + 5 * step;
        }
        LossOutput a = gathered.forward(List.of(e), y);
        LossOutput b = other.forward(List.of(e), y);
        assertThat(b.loss()).isCloseTo(a.loss(), offset(1e-5 * Math.abs(a.loss())));
        double scale = a.gradients().get(0).abs().max().item_double();
        assertThat(b.gradients().get(0).sub(a.gradients().get(0)).abs().max().item_double()).isLessThan(1e-4 * scale);
        assertThat(other.memory().sub(gathered.memory()).abs().max().item_double()).isLessThan(1e-5);
        assertThat(other.z()).isCloseTo(gathered.z(), offset(1e-5 * Math.abs(gathered.z())));
      }
    }
  }

  @Test
  void zIsEstimatedOnceAndCrossEntropyNeverTouchesIt() {
    try (PointerScope s = new PointerScope();
        NceLossWithMemory nce = NceLossWithMemory.create(NceLossParams.npid(), MemoryBankParams.npid(100), ScalarType.Float, 1, new RandomNegativeSampler(3), Communicator.local())) {
      assertThat(nce.z()).isEqualTo(-1.0);
      nce.forward(List.of(torch.randn(4, 128)), new long[] {1, 2, 3, 4});
      double z = nce.z();
      assertThat(z).isPositive();
      assertThat(z).isEqualTo((double) (float) z); // stored like VISSL's float32 buffer
      nce.forward(List.of(torch.randn(4, 128)), new long[] {5, 6, 7, 8});
      assertThat(nce.z()).isEqualTo(z);
    }
    NceLossParams p = NceLossParams.npid();
    NceLossParams xent = p.withLossType(NceLossParams.LossType.CROSS_ENTROPY).withNegatives(16);
    try (PointerScope s = new PointerScope();
        NceLossWithMemory loss = NceLossWithMemory.create(xent, MemoryBankParams.npid(100), ScalarType.Float, 1, new RandomNegativeSampler(3), Communicator.local())) {
      LossOutput out = loss.forward(List.of(torch.randn(4, 128)), new long[] {1, 2, 3, 4});
      assertThat(loss.z()).isEqualTo(-1.0);
      assertThat(out.loss()).isPositive();
      assertThat(p.numNegatives()).isEqualTo(4096);
    }
  }

  @Test
  void gradientMatchesFiniteDifferences() {
    NceLossParams p = new NceLossParams(NceLossParams.LossType.CROSS_ENTROPY, true, 0.5, List.of(1.0), -1, -100, -1, 8,
        "random", false);
    MemoryBankParams bankParams = new MemoryBankParams(20, 6, 0.5, true);
    try (PointerScope s = new PointerScope()) {
      Torch.manualSeed(5);
      Tensor bank = Ops.l2Normalize(torch.randn(20, 6).to(ScalarType.Double));
      double[] u = Tensors.toDoubles(torch.randn(3, 6));
      long[] y = {2, 9, 13};
      long seed = 11;
      double[] grad;
      try (NceLossWithMemory loss = new NceLossWithMemory(p, new MemoryBank(bankParams, bank.clone(), ScalarType.Double), new RandomNegativeSampler(seed), Communicator.local())) {
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
        try (NceLossWithMemory l1 = new NceLossWithMemory(p, new MemoryBank(bankParams, bank.clone(), ScalarType.Double), new RandomNegativeSampler(seed), Communicator.local());
            NceLossWithMemory l2 = new NceLossWithMemory(p, new MemoryBank(bankParams, bank.clone(), ScalarType.Double), new RandomNegativeSampler(seed), Communicator.local())) {
          lp = l1.forward(List.of(Tensors.fromDoubles(plus, 3, 6)), y).loss();
          lm = l2.forward(List.of(Tensors.fromDoubles(minus, 3, 6)), y).loss();
        }
        assertThat(grad[i]).isCloseTo((lp - lm) / (2 * h), offset(1e-6));
      }
    }
  }

  @Test
  void lastDuplicateWinsAndBadTargetsAreRejected() {
    assertThat(MemoryBank.lastOccurrences(new long[] {4, 7, 4, 1, 7})).containsExactly(2, 3, 4);
    assertThat(MemoryBank.lastOccurrences(new long[] {1, 2, 3})).containsExactly(0, 1, 2);
    try (PointerScope s = new PointerScope();
        NceLossWithMemory loss = NceLossWithMemory.create(NceLossParams.npid(), MemoryBankParams.npid(10), ScalarType.Float, 1, new RandomNegativeSampler(3), Communicator.local())) {
      assertThatThrownBy(() -> loss.forward(List.of(torch.randn(2, 128)), new long[] {1, 10})).hasMessageContaining("outside the memory bank");
      assertThatThrownBy(() -> loss.forward(List.of(torch.randn(2, 64)), new long[] {1, 2})).hasMessageContaining("embedding_dim");
    }
  }

  /**
   * The shared-negatives fast mode computes exactly what the per-sample path computes when every
   * sample happens to draw the same K rows: same loss, gradient, bank and Z (float64).
   */
  @org.junit.jupiter.params.ParameterizedTest
  @org.junit.jupiter.params.provider.EnumSource(NceLossParams.LossType.class)
  void sharedNegativesEqualPerSampleDrawsOfTheSameRows(NceLossParams.LossType type) {
    int n = 40;
    int k = 6;
    int b = 5;
    long[] shared = {3, 17, 17, 29, 0, 38};
    NceLossParams perSample = NceLossParams.npid().withLossType(type).withTemperature(0.1).withNegatives(k);
    MemoryBankParams bankParams = new MemoryBankParams(n, 16, 0.5, true);
    NceLossParams fast = perSample.withSampling(NceLossParams.SHARED);
    NegativeSampler repeated = (count, range) -> {
      assertThat(count).isEqualTo(b * (k + 1));
      long[] out = new long[count];
      for (int r = 0; r < b; r++) {
        System.arraycopy(shared, 0, out, r * (k + 1) + 1, k);
      }
      return out;
    };
    NegativeSampler once = (count, range) -> {
      assertThat(count).isEqualTo(k);
      return shared.clone();
    };
    try (PointerScope s = new PointerScope();
        NceLossWithMemory a = NceLossWithMemory.create(perSample, bankParams, ScalarType.Double, 5, repeated, Communicator.local());
        NceLossWithMemory c = NceLossWithMemory.create(fast, bankParams, ScalarType.Double, 5, once, Communicator.local())) {
      for (int step = 0; step < 2; step++) {
        Tensor e = torch.randn(b, 16).to(ScalarType.Double);
        long[] y = {1 + step, 8, 9, 30, 39};
        LossOutput la = a.forward(List.of(e), y);
        LossOutput lc = c.forward(List.of(e), y);
        assertThat(lc.loss()).isCloseTo(la.loss(), offset(1e-12));
        assertThat(lc.gradients().get(0).sub(la.gradients().get(0)).abs().max().item_double()).isLessThan(1e-12);
        assertThat(c.memory().sub(a.memory()).abs().max().item_double()).isLessThan(1e-12);
        assertThat(c.z()).isCloseTo(a.z(), offset(1e-9 * Math.abs(a.z()) + 1e-12));
      }
    }
  }
}
