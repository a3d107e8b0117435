package dev.npid4j.bench;

import dev.npid4j.torch.Scopes;
import dev.npid4j.distributed.Communicator;
import dev.npid4j.loss.MemoryBankParams;
import dev.npid4j.loss.NceLossParams;
import dev.npid4j.loss.NceLossWithMemory;
import dev.npid4j.loss.RandomNegativeSampler;
import dev.npid4j.torch.Tensors;
import dev.npid4j.torch.Torch;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.bytedeco.pytorch.Tensor;
import org.bytedeco.pytorch.global.torch;
import org.bytedeco.pytorch.global.torch.ScalarType;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

/** `npid4j bench loss`: see the command's description. */
@Command(name = "loss", mixinStandardHelpOptions = true,
    description = {"One nce_loss_with_memory step (forward, gradient, momentum update of the bank) on random embeddings.",
        "Example (NPID++ scale): npid4j bench loss --n 1281167 --dim 128 --batch 32 --negatives 32000 --iters 10"})
public final class LossBench extends BenchBase {
  @Option(names = "--n", defaultValue = "1281167", description = "memory bank rows (default: ${DEFAULT-VALUE})")
  long n;
  @Option(names = "--dim", defaultValue = "128")
  int dim;
  @Option(names = "--batch", defaultValue = "256")
  int batch;
  @Option(names = "--negatives", defaultValue = "4096")
  int negatives;
  @Option(names = "--iters", defaultValue = "10")
  int iters;
  @Option(names = "--warmup", defaultValue = "2")
  int warmup;
  @Option(names = "--bank-dtype", defaultValue = "float32", description = "float32 | bfloat16 | float16: how the bank is stored")
  String bankDtype;

  @Option(names = "--loss-type", defaultValue = "nce", description = "nce | cross_entropy")
  String lossType;
  @Option(names = "--scores", defaultValue = "AUTO",
      description = "AUTO (training's choice) | DENSE (batch x whole bank, sampled scores picked out) | SAMPLED (a sampled matrix product"
          + " on the bank's rows in place) | GATHER (the sampled rows copied out, then multiplied)")
  NceLossWithMemory.Scores scores;
  @Option(names = "--sampling", defaultValue = "random",
      description = "random (VISSL: K rows per sample) | shared_random (npid4j fast mode: one set of K rows per step)")
  String sampling;

  @Override
  public Integer call() throws Exception {
    start();
    NceLossParams p = NceLossParams.npid().withLossType(lossType.equals("nce") ? NceLossParams.LossType.NCE
        : NceLossParams.LossType.CROSS_ENTROPY).withNegatives(negatives).withSampling(sampling);
    Torch.manualSeed(0);
    List<Double> ms = new ArrayList<>();
    java.util.Random r = new java.util.Random(0);
    String scoresUsed;
    ScalarType bankType;
    try {
      bankType = Tensors.floatTypeNamed(bankDtype);
    } catch (IllegalArgumentException e) {
      throw new picocli.CommandLine.ParameterException(new picocli.CommandLine(this), "--bank-dtype " + e.getMessage());
    }
    try (NceLossWithMemory loss = NceLossWithMemory.create(p, MemoryBankParams.npid(n).withEmbeddingDim(dim), ScalarType.Float, 0, new RandomNegativeSampler(0), Communicator.local(),
        dev.npid4j.torch.Devices.CPU, bankType).scores(scores)) {
      scoresUsed = p.sharedNegatives() ? "shared" : loss.scoresUsed().toString().toLowerCase(java.util.Locale.ROOT);
      for (int it = 0; it < warmup + iters; it++) {
        try (var s = Scopes.open()) {
          Tensor emb = torch.randn(batch, dim);
          long[] y = new long[batch];
          for (int i = 0; i < batch; i++) {
            y[i] = Math.floorMod(r.nextLong(), n);
          }
          long t0 = System.nanoTime();
          loss.forward(List.of(emb), y).loss();
          double dt = (System.nanoTime() - t0) / 1e6;
          if (it >= warmup) {
            ms.add(dt);
          }
        }
      }
    }
    Map<String, Object> f = new LinkedHashMap<>();
    f.put("bench", "loss");
    f.put("n", n);
    f.put("dim", dim);
    f.put("batch", batch);
    f.put("negatives", negatives);
    f.put("loss_type", lossType);
    f.put("sampling", sampling);
    f.put("bank_dtype", bankDtype);
    f.put("scores", scores.toString().toLowerCase(java.util.Locale.ROOT));
    f.put("scores_used", scoresUsed); // a 16-bit bank is always gathered; AUTO resolved
    f.put("iters", iters);
    f.put("ms_per_step", BenchBase.median(ms));
    f.put("ms_per_step_mean", ms.stream().mapToDouble(Double::doubleValue).average().orElse(0));
    return emit(f);
  }
}
