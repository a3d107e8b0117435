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

/** `npid4j bench norm`: see the command's description. */
@Command(name = "norm", mixinStandardHelpOptions = true,
    description = {"A training-mode BatchNorm2d (+ ReLU) forward and backward on CPU: npid4j's native kernels and",
        "libtorch's BatchNorm2d + relu_, interleaved in one process. Keys ms_fused and ms_libtorch (median",
        "forward + backward), fwd_ms_fused and fwd_ms_libtorch (median forward), speedup."})
public final class NormBench extends BenchBase {
  @Option(names = "--shape", defaultValue = "32,256,56,56", split = ",", description = "N,C,H,W (default: ${DEFAULT-VALUE})")
  long[] shape;
  @Option(names = "--relu", arity = "1", defaultValue = "true", description = "true | false: with the ReLU that follows it (default: ${DEFAULT-VALUE})")
  boolean relu;
  @Option(names = "--iters", defaultValue = "9")
  int iters;
  @Option(names = "--warmup", defaultValue = "2")
  int warmup;

  @Override
  public Integer call() throws Exception {
    start();
    if (shape.length != 4 || Arrays.stream(shape).anyMatch(d -> d < 1) || iters < 1 || warmup < 0) {
      throw new UserError("bench norm: --shape needs N,C,H,W (positive), --iters >= 1, --warmup >= 0");
    }
    if (!NativeKernels.available()) {
      throw new UserError("bench norm: the native kernels are off (" + NativeKernels.unavailableReason() + ")");
    }
    Torch.manualSeed(0);
    org.bytedeco.pytorch.BatchNorm2dImpl bn = Layers.batchNorm2d(shape[1]);
    List<List<Double>> total = List.of(new ArrayList<>(), new ArrayList<>());
    List<List<Double>> forward = List.of(new ArrayList<>(), new ArrayList<>());
    try (PointerScope s = new PointerScope()) {
      Tensor leaf = torch.randn(shape).requires_grad_(true);
      Tensor upstream = torch.randn(shape);
      for (int i = 0; i < warmup + iters; i++) {
        for (int fused = 0; fused < 2; fused++) {
          try (PointerScope step = new PointerScope()) {
            Tensor x = leaf.mul(new org.bytedeco.pytorch.Scalar(1.0)); // not a leaf, as a convolution's output
            long t0 = System.nanoTime();
            Tensor y;
            if (fused == 1) {
              y = FusedBatchNorm.forward(bn, x, relu);
            } else {
              y = relu ? torch.relu_(bn.forward(x)) : bn.forward(x);
            }
            long t1 = System.nanoTime();
            // the gradient of x only: x's own backward (the multiply) is not timed
            torch.backward(new org.bytedeco.pytorch.TensorVector(y), new org.bytedeco.pytorch.TensorVector(upstream),
                new org.bytedeco.pytorch.BoolOptional(false), false, new org.bytedeco.pytorch.TensorVector(x));
            long t2 = System.nanoTime();
            if (i >= warmup) {
              forward.get(fused).add((t1 - t0) / 1e6);
              total.get(fused).add((t2 - t0) / 1e6);
            }
          }
        }
      }
    }
    Map<String, Object> f = new LinkedHashMap<>();
    f.put("bench", "norm");
    f.put("shape", shape);
    f.put("relu", relu);
    f.put("ms_fused", BenchBase.median(total.get(1)));
    f.put("ms_libtorch", BenchBase.median(total.get(0)));
    f.put("fwd_ms_fused", BenchBase.median(forward.get(1)));
    f.put("fwd_ms_libtorch", BenchBase.median(forward.get(0)));
    f.put("speedup", BenchBase.median(total.get(0)) / BenchBase.median(total.get(1)));
    return emit(f);
  }
}
