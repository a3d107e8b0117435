package dev.npid4j.optim;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.data.Offset.offset;

import dev.npid4j.model.MlpHeadSpec;
import dev.npid4j.model.NpidModel;
import dev.npid4j.model.ResNetSpec;
import dev.npid4j.torch.Tensors;
import dev.npid4j.torch.Torch;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.bytedeco.javacpp.PointerScope;
import org.bytedeco.pytorch.Tensor;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

class SgdTest {
  @BeforeAll
  static void load() {
    Torch.load();
  }

  /** Two steps of PyTorch's SGD by hand: buf1 = g1 + wd p0; buf2 = m buf1 + g2 + wd p1. */
  @Test
  void matchesPyTorchSgdWithMomentumAndWeightDecay() {
    try (PointerScope s = new PointerScope()) {
      Tensor p = Tensors.fromDoubles(new double[] {1.0, -2.0}, 2).set_requires_grad(true);
      Tensor q = Tensors.fromDoubles(new double[] {0.5}, 1).set_requires_grad(true);
      Map<String, Tensor> reg = new LinkedHashMap<>();
      reg.put("w", p);
      Map<String, Tensor> noReg = new LinkedHashMap<>();
      noReg.put("bn.weight", q);
      Sgd sgd = new Sgd(new ParamGroups(reg, noReg), 0.9, 0.1, false);
      sgd.setLr(0.5);
      // loss = sum(p^2) + 3 q  -> grad p = 2p, grad q = 3
      for (int step = 0; step < 2; step++) {
        sgd.zeroGrad();
        p.mul(p).sum().add(q.mul(Tensors.scalar(3)).sum()).backward();
        sgd.step();
      }
      // step 1: g = 2p + 0.1p = 2.1p ; buf = g ; p1 = p0 - 0.5 * 2.1 p0 = -0.05 p0
      // step 2: g = 2.1 p1 ; buf = 0.9 * 2.1 p0 + 2.1 p1 ; p2 = p1 - 0.5 buf
      double[] p0 = {1.0, -2.0};
      double[] got = Tensors.toDoubles(p);
      for (int i = 0; i < 2; i++) {
        double p1 = -0.05 * p0[i];
        double buf = 0.9 * 2.1 * p0[i] + 2.1 * p1;
        assertThat(got[i]).isCloseTo(p1 - 0.5 * buf, offset(1e-12));
      }
      // q has no weight decay: buf1 = 3, buf2 = 0.9*3 + 3 = 5.7 ; q = 0.5 - 0.5*3 - 0.5*5.7
      assertThat(Tensors.toDoubles(q)[0]).isCloseTo(0.5 - 1.5 - 2.85, offset(1e-12));
      // zero_grad(set_to_none=True): the next backward hands over its gradient, nothing to zero or add to
      sgd.zeroGrad();
      assertThat(p.grad().defined()).isFalse();
      assertThat(q.grad().defined()).isFalse();
      sgd.close();
    }
  }

  @Test
  void nesterovUsesGradientPlusMomentumTimesBuffer() {
    try (PointerScope s = new PointerScope()) {
      Tensor p = Tensors.fromDoubles(new double[] {1.0}, 1).set_requires_grad(true);
      Map<String, Tensor> reg = new LinkedHashMap<>();
      reg.put("w", p);
      Sgd sgd = new Sgd(new ParamGroups(reg, new LinkedHashMap<>()), 0.9, 0.0, true);
      sgd.setLr(0.1);
      sgd.zeroGrad();
      p.mul(p).sum().backward(); // g = 2
      sgd.step(); // buf = 2, d = 2 + 0.9 * 2 = 3.8
      assertThat(Tensors.toDoubles(p)[0]).isCloseTo(1.0 - 0.38, offset(1e-12));
      sgd.close();
    }
  }

  @Test
  void visslParameterGroups() {
    try (PointerScope s = new PointerScope()) {
      NpidModel model = new NpidModel(new ResNetSpec(18, "cifar", 1, 8, 1, 1, 64, 2, false), List.of(MlpHeadSpec.linear(64, 16)));
      ParamGroups g = ParamGroups.of(model, false, true);
      assertThat(g.unregularized().keySet()).allMatch(k -> k.contains("bn") || k.contains("downsample.1"));
      assertThat(g.unregularized()).containsKeys("trunk.bn1.weight", "trunk.bn1.bias", "trunk.layer2.0.downsample.1.weight");
      assertThat(g.regularized()).containsKeys("trunk.conv1.weight", "heads.0.clf.0.weight", "heads.0.clf.0.bias");
      ParamGroups noBias = ParamGroups.of(model, true, false);
      assertThat(noBias.unregularized().keySet()).containsExactly("heads.0.clf.0.bias");
      assertThat(noBias.regularized()).containsKey("trunk.bn1.weight");
    }
  }
}
