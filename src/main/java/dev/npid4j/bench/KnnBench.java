package dev.npid4j.bench;

import dev.npid4j.UserError;
import dev.npid4j.config.RunConfig;
import dev.npid4j.data.Batch;
import dev.npid4j.data.BatchLoader;
import dev.npid4j.data.Dataset;
import dev.npid4j.data.Datasets;
import dev.npid4j.data.EpochSampler;
import dev.npid4j.data.transform.Transforms;
import dev.npid4j.dist.Communicator;
import dev.npid4j.engine.MetricsLog;
import dev.npid4j.engine.Trainer;
import dev.npid4j.engine.TrainingListener;
import dev.npid4j.eval.WeightedKnn;
import dev.npid4j.loss.NceLossParams;
import dev.npid4j.loss.NceLossWithMemory;
import dev.npid4j.loss.RandomNegativeSampler;
import dev.npid4j.torch.FusedBatchNorm;
import dev.npid4j.torch.Layers;
import dev.npid4j.torch.NativeKernels;
import dev.npid4j.torch.Ops;
import dev.npid4j.torch.Tensors;
import dev.npid4j.torch.Torch;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.Callable;
import org.bytedeco.javacpp.PointerScope;
import org.bytedeco.pytorch.Tensor;
import org.bytedeco.pytorch.global.torch;
import org.bytedeco.pytorch.global.torch.ScalarType;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;

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
    try (PointerScope s = new PointerScope()) {
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
