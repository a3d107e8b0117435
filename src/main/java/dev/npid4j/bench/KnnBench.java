package dev.npid4j.bench;

import dev.npid4j.torch.Scopes;
import dev.npid4j.eval.WeightedKnn;
import dev.npid4j.torch.Ops;
import dev.npid4j.torch.Tensors;
import dev.npid4j.torch.Torch;
import java.util.LinkedHashMap;
import java.util.Map;
import org.bytedeco.pytorch.Tensor;
import org.bytedeco.pytorch.global.torch;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

/** `npid4j bench knn`: see the command's description. */
@Command(name = "knn", mixinStandardHelpOptions = true,
    description = {"Weighted kNN (cosine, sigma 0.07) of random unit vectors: train N x D against test M x D.",
        "Example: npid4j bench knn --train 60000 --test 10000 --dim 128 --k 200"})
public final class KnnBench extends BenchBase {
  @Option(names = "--train", defaultValue = "60000")
  int train;
  @Option(names = "--test", defaultValue = "10000")
  int test;
  @Option(names = "--dim", defaultValue = "128")
  int dim;
  @Option(names = "--k", defaultValue = "200")
  int k;
  @Option(names = "--classes", defaultValue = "10")
  int classes;

  @Override
  public Integer call() throws Exception {
    start();
    Torch.manualSeed(0);
    double seconds;
    double top1;
    try (var s = Scopes.open()) {
      Tensor tr = Ops.l2Normalize(torch.randn(train, dim));
      Tensor te = Ops.l2Normalize(torch.randn(test, dim));
      long[] trl = Tensors.toLongs(torch.randint(classes, new long[] {train}));
      long[] tel = Tensors.toLongs(torch.randint(classes, new long[] {test}));
      long t0 = System.nanoTime();
      top1 = WeightedKnn.evaluate(tr, trl, te, tel, k, 0.07, classes).top1();
      seconds = (System.nanoTime() - t0) / 1e9;
    }
    Map<String, Object> f = new LinkedHashMap<>();
    f.put("bench", "knn");
    f.put("train", train);
    f.put("test", test);
    f.put("dim", dim);
    f.put("k", k);
    f.put("seconds", seconds);
    f.put("top1", top1);
    return emit(f);
  }
}
