package dev.npid4j.engine;

import static org.assertj.core.api.Assertions.assertThat;

import dev.npid4j.data.Batch;
import dev.npid4j.data.BatchLoader;
import dev.npid4j.data.SyntheticDataset;
import dev.npid4j.data.transform.Transforms;
import dev.npid4j.distributed.Communicator;
import dev.npid4j.loss.MemoryBankParams;
import dev.npid4j.loss.NceLossParams;
import dev.npid4j.loss.NceLossWithMemory;
import dev.npid4j.loss.RandomNegativeSampler;
import dev.npid4j.model.MlpHeadSpec;
import dev.npid4j.model.NpidModel;
import dev.npid4j.model.ResNetSpec;
import dev.npid4j.torch.Ops;
import dev.npid4j.torch.StateDict;
import dev.npid4j.torch.Tensors;
import dev.npid4j.torch.Torch;
import java.util.Iterator;
import java.util.List;
import java.util.Map;
import java.util.stream.IntStream;
import org.bytedeco.javacpp.PointerScope;
import org.bytedeco.pytorch.NoGradGuard;
import org.bytedeco.pytorch.Tensor;
import org.bytedeco.pytorch.global.torch;
import org.bytedeco.pytorch.global.torch.ScalarType;
import org.junit.jupiter.api.Test;

/** memory_params.init_from_model: the bank holds the untrained model's embeddings, and the model's weights are left as they were. */
class BankWarmStartTest {
  @Test
  void everyBankRowIsTheNormalisedEmbeddingOfItsImageAndTheWeightsAreUntouched() {
    Torch.load();
    int n = 40;
    int batch = 16; // batches of 16, 16 and 8
    var data = new SyntheticDataset(n, 1, 12, 4, 7);
    Transforms toTensor = Transforms.fromConfig(List.of(Map.of("name", "ToTensor")), "test");
    try (PointerScope scope = new PointerScope()) {
      torch.manual_seed(3);
      NpidModel model = new NpidModel(new ResNetSpec(18, "cifar", 1, 16, 1, 1, 64, 2, false), List.of(MlpHeadSpec.linear(128, 32)));
      model.train(true);
      NceLossParams p = NceLossParams.npid().withNegatives(8);
      try (NceLossWithMemory loss = NceLossWithMemory.create(p, MemoryBankParams.npid(n).withEmbeddingDim(32), ScalarType.Float, 0, new RandomNegativeSampler(0), Communicator.local())) {
        Tensor randomBank = loss.memory().clone();
        Map<String, Tensor> before = new java.util.LinkedHashMap<>();
        StateDict.of(model).forEach((k, t) -> before.put(k, t.clone()));

        double seconds = BankWarmStart.fill(model, data, toTensor, batch, 1, loss, Communicator.local(), false);

        assertThat(seconds).isPositive();
        Map<String, Tensor> after = StateDict.of(model);
        assertThat(after.keySet()).isEqualTo(before.keySet());
        for (String k : after.keySet()) {
          // the weights are untouched; the BatchNorm running statistics have seen the pass
          boolean statistic = k.endsWith("running_mean") || k.endsWith("running_var") || k.endsWith("num_batches_tracked");
          assertThat(torch.equal(after.get(k), before.get(k))).as(k).isEqualTo(!statistic);
        }
        Tensor bank = loss.memory();
        assertThat(torch.equal(bank, randomBank)).isFalse();
        // the same batches through the model in training mode (batch statistics), normalised
        try (NoGradGuard g = new NoGradGuard(); BatchLoader loader = new BatchLoader(data, toTensor, batch, false, 1, 0)) {
          Iterator<Batch> it = loader.epoch(0, IntStream.range(0, n).toArray(), 0);
          int row = 0;
          while (it.hasNext()) {
            Batch b = it.next();
            Tensor expected = Ops.l2Normalize(model.forward(Tensors.fromFloats(b.images(), b.shape())));
            Tensor got = bank.narrow(0, row, b.size());
            assertThat(got.sub(expected).abs().max().item_double()).as("rows %d..%d", row, row + b.size()).isLessThan(1e-6);
            row += b.size();
          }
          assertThat(row).isEqualTo(n);
        }
        // unit rows, and different images give different rows
        assertThat(Ops.rowNorm(bank).sub(torch.ones_like(Ops.rowNorm(bank))).abs().max().item_double()).isLessThan(1e-5);
        assertThat(bank.select(0, 0).dot(bank.select(0, 1)).item_double()).isLessThan(1 - 1e-4);
      }
    }
  }
}
