package dev.npid4j.distributed;

import static org.assertj.core.api.Assertions.assertThat;

import dev.npid4j.model.NpidModel;
import dev.npid4j.model.ResNetSpec;
import dev.npid4j.torch.StateDict;
import dev.npid4j.torch.Torch;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.bytedeco.javacpp.PointerScope;
import org.bytedeco.pytorch.Tensor;
import org.bytedeco.pytorch.global.torch;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/** The gradient buckets are all-reduced during the backward, as DDP does, and the gradients come out right. */
class ModelSyncTest {
  @BeforeAll
  static void load() {
    Torch.load();
  }

  /** One rank, recording when each bucket's all-reduce starts: before or after the backward returned. */
  static final class Recording extends LocalCommunicator {
    boolean backwardDone;
    final List<Boolean> startedDuringBackward = new ArrayList<>();

    @Override
    public Pending startAllReduceSum(Tensor t) {
      startedDuringBackward.add(!backwardDone);
      return () -> {};
    }
  }

  @Test
  void bucketsAreAllReducedWhileTheBackwardRuns() {
    try (PointerScope s = new PointerScope()) {
      torch.manual_seed(0);
      // ResNet-18 at ImageNet width: 44.7 MB of gradients, two 25 MB buckets
      NpidModel model = new NpidModel(new ResNetSpec(18, "cifar", 3, 64, 1, 1, 64, 2, false), List.of());
      model.train(true);
      Recording comm = new Recording();
      try (ModelSync sync = new ModelSync(model, comm)) {
        for (int step = 0; step < 2; step++) {
          comm.backwardDone = false;
          comm.startedDuringBackward.clear();
          for (Tensor p : StateDict.parameters(model).values()) {
            if (p.grad().defined()) {
              p.grad().zero_();
            }
          }
          Tensor out = model.forward(torch.randn(4, 3, 8, 8));
          sync.beginBackward();
          out.square().sum().backward();
          comm.backwardDone = true;
          Map<String, Tensor> before = new LinkedHashMap<>();
          StateDict.parameters(model).forEach((k, p) -> before.put(k, p.grad().clone()));
          sync.averageGradients();

          assertThat(comm.startedDuringBackward).as("step " + step).containsExactly(true, true);
          // one rank: the mean over ranks is the gradient itself, copied out of the buckets and back
          StateDict.parameters(model).forEach((k, p) -> assertThat(p.grad().equal(before.get(k))).as(k).isTrue());
        }
      }
    }
  }

  @Test
  void withoutBeginBackwardEverythingIsAllReducedAfterwards() {
    try (PointerScope s = new PointerScope()) {
      NpidModel model = new NpidModel(new ResNetSpec(18, "cifar", 1, 16, 1, 1, 64, 2, false), List.of());
      Recording comm = new Recording();
      try (ModelSync sync = new ModelSync(model, comm)) {
        model.forward(torch.randn(2, 1, 8, 8)).sum().backward();
        comm.backwardDone = true;
        sync.averageGradients();
        assertThat(comm.startedDuringBackward).isEmpty(); // the whole-list allReduceMean path
      }
    }
  }
}
