package dev.npid4j.bench;

import dev.npid4j.torch.Scopes;
import dev.npid4j.UserError;
import dev.npid4j.torch.FusedBatchNorm;
import dev.npid4j.torch.Layers;
import dev.npid4j.torch.NativeKernels;
import dev.npid4j.torch.Tensors;
import dev.npid4j.torch.Torch;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.bytedeco.pytorch.Tensor;
import org.bytedeco.pytorch.global.torch;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

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
    try (var s = Scopes.open()) {
      Tensor leaf = torch.randn(shape).requires_grad_(true);
      Tensor upstream = torch.randn(shape);
      for (int i = 0; i < warmup + iters; i++) {
        for (int fused = 0; fused < 2; fused++) {
          try (var step = Scopes.open()) {
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
            Tensors.backwardTo(y, upstream, x);
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
