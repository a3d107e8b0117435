package dev.npid4j.torch;

import java.util.Collections;
import java.util.IdentityHashMap;
import java.util.Set;
import org.bytedeco.javacpp.PointerScope;
import org.bytedeco.pytorch.BatchNorm2dImpl;
import org.bytedeco.pytorch.BatchNormOptions;
import org.bytedeco.pytorch.BoolOptional;
import org.bytedeco.pytorch.DoubleOptional;
import org.bytedeco.pytorch.GradMode;
import org.bytedeco.pytorch.MemoryFormatOptional;
import org.bytedeco.pytorch.Module;
import org.bytedeco.pytorch.Node;
import org.bytedeco.pytorch.Tensor;
import org.bytedeco.pytorch.TensorBase;
import org.bytedeco.pytorch.TensorTensorHook;
import org.bytedeco.pytorch.TensorVector;
import org.bytedeco.pytorch.global.torch;
import org.bytedeco.pytorch.global.torch.ScalarType;

/**
 * A BatchNorm2d layer in training mode, optionally followed by ReLU, computed by npid4j's own
 * kernels ({@link NativeKernels}) on CPU float32 NCHW input: the same maths as libtorch's
 * BatchNorm (batch statistics, running-statistics update, gradients), about twice as fast, with
 * the ReLU folded into the same passes. libtorch's CPU BatchNorm gathers its statistics with a
 * scalar loop that takes most of its time (ResNet-50: BatchNorm and ReLU are a fifth of a step).
 *
 * <p>How the gradient gets into autograd without a custom autograd function (which Java cannot
 * define): the output gets, as its gradient edge, the backward node of a free view of the input
 * ({@code x.view(x.sizes())}, whose backward only reshapes), and a gradient hook on the output
 * replaces the incoming dy by dx, computed by the native backward. The gradients of the layer's
 * weight and bias go to their accumulators through a nested backward call from the hook, so
 * their own gradient hooks (data-parallel bucketing) fire as for any parameter.
 */
public final class FusedBatchNorm {
  /**
   * Hooks whose backward has not run yet, when no PointerScope holds them: a JavaCPP callback
   * must stay reachable while libtorch can call it.
   */
  private static final Set<Backward> UNSCOPED = Collections.synchronizedSet(Collections.newSetFromMap(new IdentityHashMap<>()));

  private FusedBatchNorm() {}

  /** Whether {@link #forward} runs for this layer and input; otherwise use the layer's own forward. */
  public static boolean applies(Module norm, Tensor x) {
    if (!(norm instanceof BatchNorm2dImpl bn) || !norm.is_training()) {
      return false;
    }
    if (x.dim() != 4 || !x.device().is_cpu() || !Tensors.isType(x, ScalarType.Float) || !x.is_contiguous()
        || x.size(0) * x.size(2) * x.size(3) <= 1) {
      return false; // (one value per channel: libtorch's own forward says what is wrong)
    }
    Tensor w = bn.weight();
    Tensor b = bn.bias();
    if (!usable(w) || !usable(b) || !runningStatsUsable(bn) || sizeMismatch(bn, x.size(1)) != null) {
      return false; // libtorch's own forward reports what is wrong
    }
    boolean paramsNeedGrad = (w.defined() && w.requires_grad()) || (b.defined() && b.requires_grad());
    if (GradMode.is_enabled() && paramsNeedGrad && !x.requires_grad()) {
      return false; // the gradient rides on x's graph, and x has none
    }
    return NativeKernels.available();
  }

  private static boolean usable(Tensor p) {
    return p == null || !p.defined()
        || (p.device().is_cpu() && Tensors.isType(p, ScalarType.Float) && p.is_contiguous() && p.dim() == 1);
  }

  /** The running statistics the kernel updates in place: float32 and int64 on the CPU, or not tracked. */
  private static boolean runningStatsUsable(BatchNorm2dImpl bn) {
    if (!bn.options().track_running_stats().get()) {
      return true;
    }
    Tensor batches = bn.num_batches_tracked();
    return usable(bn.running_mean()) && usable(bn.running_var()) && bn.running_mean().defined() && bn.running_var().defined()
        && (batches == null || !batches.defined()
            || (batches.device().is_cpu() && Tensors.isType(batches, ScalarType.Long) && batches.numel() == 1));
  }

  /**
   * The kernel reads and writes c values through each of these pointers and knows nothing else
   * of them: a weight or running statistic of another size (a crafted checkpoint's 1-element
   * running_mean) would have it write past the buffer. Null when every size is c.
   */
  private static String sizeMismatch(BatchNorm2dImpl bn, long c) {
    boolean track = bn.options().track_running_stats().get();
    Tensor[] ts = {bn.weight(), bn.bias(), track ? bn.running_mean() : null, track ? bn.running_var() : null};
    String[] names = {"weight", "bias", "running_mean", "running_var"};
    for (int i = 0; i < ts.length; i++) {
      if (ts[i] != null && ts[i].defined() && ts[i].numel() != c) {
        return names[i] + " has " + ts[i].numel() + " values for " + c + " channels";
      }
    }
    return null;
  }

  /** BatchNorm (then ReLU when {@code relu}) of x in training mode; call only where {@link #applies}. */
  public static Tensor forward(BatchNorm2dImpl bn, Tensor x, boolean relu) {
    long n = x.size(0);
    long c = x.size(1);
    String mismatch = sizeMismatch(bn, c);
    if (mismatch != null || x.dim() != 4 || !x.is_contiguous()) {
      throw new IllegalArgumentException("the native BatchNorm kernel cannot take this layer: "
          + (mismatch != null ? mismatch : "input " + java.util.Arrays.toString(Tensors.shape(x)) + " is not a contiguous N x C x H x W"));
    }
    long hw = x.size(2) * x.size(3);
    releaseReturned();
    Tensor w = bn.weight();
    Tensor b = bn.bias();
    Tensor y = torch.empty_like(x);
    Tensor stats = torch.empty(new long[] {3, c}, x.options(), new MemoryFormatOptional());
    Tensor mean = stats.select(0, 0);
    Tensor var = stats.select(0, 1);
    Tensor invstd = stats.select(0, 2);
    BatchNormOptions options = bn.options();
    boolean track = options.track_running_stats().get();
    Tensor runningMean = track ? bn.running_mean() : null;
    Tensor runningVar = track ? bn.running_var() : null;
    Tensor batches = track ? bn.num_batches_tracked() : null;
    DoubleOptional momentum = options.momentum();
    NativeKernels.batchNormForward(dataAddress(x), dataAddress(y), dataAddress(w), dataAddress(b), dataAddress(mean),
        dataAddress(var), dataAddress(invstd), dataAddress(runningMean), dataAddress(runningVar), dataAddress(batches),
        momentum.has_value() ? momentum.get() : -1, n, c, hw, options.eps().get(), relu, torch.get_num_threads());
    if (GradMode.is_enabled() && x.requires_grad()) {
      Node reshape = x.view(x.sizes()).grad_fn();
      reshape.clear_input_metadata();
      torch.create_gradient_edge(y, reshape);
      Backward hook = new Backward(x, w, b, stats, relu);
      if (PointerScope.getInnerScope() == null) {
        UNSCOPED.add(hook);
      }
      y.register_hook(hook);
    }
    return y;
  }

  private static long dataAddress(Tensor t) {
    return t == null || !t.defined() ? 0 : t.data_ptr().address();
  }

  /**
   * The layer's backward, as a gradient hook on its output: returns dx for the incoming dy and
   * hands dw and db to the parameters' accumulators. It holds the forward's input and statistics
   * as long as the graph holds it (the input is the previous layer's output, which the step
   * keeps anyway).
   */
  private static final class Backward extends TensorTensorHook {
    private final Tensor x;
    private final Tensor w;
    private final Tensor b;
    private final Tensor stats;
    private final boolean relu;

    Backward(Tensor x, Tensor w, Tensor b, Tensor stats, boolean relu) {
      this.x = new Tensor(x);
      this.w = w;
      this.b = b;
      this.stats = stats;
      this.relu = relu;
    }

    @Override
    public TensorBase call(TensorBase gradient) {
      UNSCOPED.remove(this);
      releaseReturned();
      if (!gradient.defined()) {
        return gradient;
      }
      Tensor incoming = new Tensor(gradient);
      Tensor dy = incoming.contiguous();
      // JavaCPP hands the hook its own copy of the gradient, freed only with the step's
      // PointerScope; dropping it here lets the gradient go when libtorch is done with it (with
      // it kept, every layer's gradient stayed: ResNet-50's peak grew from 4.3 to 5.6 GB).
      gradient.reset();
      long n = x.size(0);
      long c = x.size(1);
      long hw = x.size(2) * x.size(3);
      boolean needW = w != null && w.defined() && w.requires_grad();
      boolean needB = b != null && b.defined() && b.requires_grad();
      Tensor dx = torch.empty_like(x);
      Tensor dw = needW ? torch.empty_like(w) : null;
      Tensor db = needB ? torch.empty_like(b) : null;
      NativeKernels.batchNormBackward(dataAddress(dy), dataAddress(x), dataAddress(dx), dataAddress(w), dataAddress(b),
          dataAddress(stats.select(0, 0)), dataAddress(stats.select(0, 2)), dataAddress(dw), dataAddress(db), n, c, hw,
          relu, torch.get_num_threads());
      // The Java wrappers would keep these buffers until the step's PointerScope closes; autograd
      // frees them as the backward goes on, and so does this. (x and the statistics stay: a
      // backward with retain_graph may call this hook again.)
      incoming.reset();
      dy.reset();
      if (needW || needB) {
        TensorVector params = new TensorVector();
        TensorVector grads = new TensorVector();
        if (needW) {
          params.push_back(w);
          grads.push_back(dw);
        }
        if (needB) {
          params.push_back(b);
          grads.push_back(db);
        }
        // a nested backward from the parameters' own gradient edges (their accumulators)
        torch.backward(params, grads, new BoolOptional(false), false, new TensorVector());
        grads.clear();
        if (needW) {
          dw.reset();
        }
        if (needB) {
          db.reset();
        }
      }
      RETURNED.set(dx);
      return dx;
    }
  }

  /**
   * The dx a hook returned last on this thread. libtorch takes its own reference to it when the
   * hook returns; the Java wrapper's reference is dropped at the next hook call (or the next
   * forward), not when the step's PointerScope closes, so each gradient buffer is freed as soon
   * as the backward is done with it.
   */
  private static final ThreadLocal<Tensor> RETURNED = new ThreadLocal<>();

  private static void releaseReturned() {
    Tensor last = RETURNED.get();
    if (last != null) {
      RETURNED.remove();
      if (!last.isNull()) {
        last.reset();
      }
    }
  }
}
