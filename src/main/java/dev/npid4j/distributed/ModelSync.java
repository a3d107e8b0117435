package dev.npid4j.distributed;

import dev.npid4j.torch.Scopes;
import dev.npid4j.torch.NoGrad;
import dev.npid4j.torch.StateDict;
import dev.npid4j.torch.Tensors;
import java.util.ArrayList;
import java.util.List;
import org.bytedeco.pytorch.Module;
import org.bytedeco.pytorch.Scalar;
import org.bytedeco.pytorch.Tensor;
import org.bytedeco.pytorch.TensorBase;
import org.bytedeco.pytorch.TensorTensorHook;

/**
 * What PyTorch's DistributedDataParallel does for a model, done explicitly (libtorch's C++
 * frontend has no DDP module): rank 0's parameters and buffers to every rank at the start, its
 * BatchNorm buffers before every forward (broadcast_buffers), and the gradients averaged over
 * ranks, packed into flat buckets of about {@value #BUCKET_BYTES} bytes (DDP's 25 MB).
 *
 * <p>As in DDP, the all-reduce overlaps the backward pass: a gradient hook on every parameter
 * copies its gradient into its bucket as soon as autograd has computed it, and a bucket whose
 * gradients are all there is all-reduced at once, on Gloo's threads, while the backward goes on.
 * Buckets hold the parameters in reverse order, the order in which the backward produces their
 * gradients, so the first bucket is ready early. {@link #averageGradients} then waits for the
 * buckets in flight, all-reduces any bucket still incomplete (parameters without a gradient
 * count as zeros), and copies the means back.
 *
 * <p>The flat buckets are allocated once; a step only copies gradients in and out of them.
 */
public final class ModelSync implements AutoCloseable {
  static final long BUCKET_BYTES = 25L << 20;

  private final Communicator comm;
  private final List<Tensor> params;
  private final List<Tensor> floatBuffers = new ArrayList<>();
  private final List<Tensor> otherBuffers = new ArrayList<>();
  private final List<List<Tensor>> buckets = new ArrayList<>();
  private final List<Tensor> flats = new ArrayList<>();
  private Tensor flatBuffers;
  private double commSeconds;
  /** Every parameter's place in the buckets, in bucket order. */
  private final List<Slot> slots = new ArrayList<>();
  private final Communicator.Pending[] inFlight;
  /** Per bucket, the parameters whose gradient has not arrived in this backward. */
  private final int[] missing;
  private boolean armed;
  private boolean reused;
  private RuntimeException failure;

  public ModelSync(Module model, Communicator comm) {
    this.comm = comm;
    this.params = new ArrayList<>(StateDict.parameters(model).values());
    for (Tensor b : StateDict.buffers(model).values()) {
      (b.is_floating_point() ? floatBuffers : otherBuffers).add(b);
    }
    List<Tensor> bucket = new ArrayList<>();
    long bytes = 0;
    List<Tensor> backwardOrder = new ArrayList<>(params);
    java.util.Collections.reverse(backwardOrder);
    for (Tensor p : backwardOrder) {
      long size = p.numel() * p.element_size();
      if (!bucket.isEmpty() && bytes + size > BUCKET_BYTES) {
        addBucket(bucket);
        bucket = new ArrayList<>();
        bytes = 0;
      }
      bucket.add(p);
      bytes += size;
    }
    if (!bucket.isEmpty()) {
      addBucket(bucket);
    }
    if (!floatBuffers.isEmpty()) {
      flatBuffers = Tensors.keep(Tensors.empty(floatBuffers.get(0).options(), count(floatBuffers)));
    }
    inFlight = new Communicator.Pending[buckets.size()];
    missing = new int[buckets.size()];
    for (int i = 0; i < buckets.size(); i++) {
      long off = 0;
      for (Tensor p : buckets.get(i)) {
        Slot slot = new Slot(p, i, flats.get(i).narrow(0, off, p.numel()));
        off += p.numel();
        slots.add(slot);
        slot.hook = new GradReady(slot);
        slot.hookHandle = p.register_hook(slot.hook);
      }
    }
  }

  /**
   * A parameter, its place in its bucket's flat buffer, whether this step's gradient is in it,
   * and its gradient hook (kept reachable: libtorch calls it back during every backward; removed
   * and freed by {@link #close}).
   */
  private static final class Slot {
    final Tensor param;
    final int bucket;
    final Tensor flat;
    boolean filled;
    GradReady hook;
    int hookHandle;

    Slot(Tensor param, int bucket, Tensor flat) {
      this.param = param;
      this.bucket = bucket;
      this.flat = flat;
    }
  }

  /** One hook per parameter (JavaCPP callbacks know nothing of the tensor they are called for). */
  private final class GradReady extends TensorTensorHook {
    private final Slot slot;

    GradReady(Slot slot) {
      this.slot = slot;
    }

    @Override
    public TensorBase call(TensorBase gradient) {
      Tensor grad = new Tensor(gradient);
      if (armed) {
        long start = System.nanoTime();
        if (slot.filled) {
          reused = true; // a parameter used twice in one forward: averageGradients repacks after the backward
        } else {
          slot.filled = true;
          slot.flat.copy_(grad.reshape(-1));
          if (--missing[slot.bucket] == 0 && !reused && failure == null) {
            try {
              inFlight[slot.bucket] = comm.startAllReduceSum(flats.get(slot.bucket));
            } catch (RuntimeException e) {
              failure = e; // thrown from averageGradients: an exception must not cross libtorch's backward
            }
          }
        }
        commSeconds += (System.nanoTime() - start) / 1e9;
      }
      return grad;
    }
  }

  /**
   * Call before the training backward: from here until {@link #averageGradients}, each
   * parameter's gradient goes into its bucket as the backward produces it, and full buckets are
   * all-reduced while the backward runs.
   */
  public void beginBackward() {
    for (Slot s : slots) {
      s.filled = false;
    }
    for (int i = 0; i < buckets.size(); i++) {
      missing[i] = buckets.get(i).size();
      inFlight[i] = null;
    }
    reused = false;
    armed = true;
  }

  private void addBucket(List<Tensor> bucket) {
    buckets.add(bucket);
    flats.add(Tensors.keep(Tensors.empty(bucket.get(0).options(), count(bucket))));
  }

  private static long count(List<Tensor> ts) {
    long n = 0;
    for (Tensor t : ts) {
      n += t.numel();
    }
    return n;
  }

  /** Rank 0's parameters and buffers everywhere (DDP's constructor); start-up, so not counted in {@link #takeCommSeconds}. */
  public void broadcastFromRankZero() {
    try (var s = Scopes.open(); var g = NoGrad.open()) {
      for (Tensor p : params) {
        comm.broadcast(p, 0);
      }
      sendBuffers();
    }
  }

  /** Rank 0's buffers (BatchNorm running statistics and counters) everywhere, before a forward. */
  public void broadcastBuffers() {
    long start = System.nanoTime();
    try (var s = Scopes.open(); var g = NoGrad.open()) {
      sendBuffers();
    }
    commSeconds += (System.nanoTime() - start) / 1e9;
  }

  private void sendBuffers() {
    if (flatBuffers != null) {
      pack(floatBuffers, flatBuffers);
      comm.broadcast(flatBuffers, 0);
      unpack(flatBuffers, floatBuffers);
    }
    for (Tensor b : otherBuffers) {
      comm.broadcast(b, 0);
    }
  }

  /**
   * Every parameter's gradient replaced by its mean over ranks (a missing gradient counts as
   * zeros). After {@link #beginBackward} and a backward, most buckets are already in flight;
   * without it (or when a parameter got two gradients in one backward) everything is packed and
   * all-reduced here.
   */
  public void averageGradients() {
    long start = System.nanoTime();
    boolean overlapped = armed && !reused;
    armed = false;
    if (failure != null) {
      RuntimeException e = failure;
      failure = null;
      throw e;
    }
    try (var s = Scopes.open(); var g = NoGrad.open()) {
      for (int b = 0; b < buckets.size(); b++) {
        if (overlapped && inFlight[b] == null) {
          fillMissing(b);
          inFlight[b] = comm.startAllReduceSum(flats.get(b));
        }
      }
      for (int b = 0; b < buckets.size(); b++) {
        if (inFlight[b] != null) {
          inFlight[b].await(); // also when falling back: every rank started the same all-reduces
          inFlight[b] = null;
        }
      }
      if (!overlapped) {
        forEachSlot((p, grad, slot) -> {
          if (grad.defined()) {
            slot.copy_(grad.reshape(-1));
          } else {
            slot.zero_();
          }
        });
        comm.allReduceMean(flats);
      } else {
        for (Tensor f : flats) {
          f.div_(new Scalar((double) comm.worldSize()));
        }
      }
      forEachSlot((p, grad, slot) -> {
        if (grad.defined()) {
          grad.copy_(slot.view_as(grad));
        } else {
          p.mutable_grad().put(slot.view_as(p).clone());
        }
      });
    }
    commSeconds += (System.nanoTime() - start) / 1e9;
  }

  /** Zeros in the slots of bucket {@code b} whose parameter got no gradient in this backward. */
  private void fillMissing(int b) {
    for (Slot slot : slots) {
      if (slot.bucket == b && !slot.filled) {
        slot.flat.zero_();
      }
    }
  }

  private interface SlotAction {
    void apply(Tensor param, Tensor grad, Tensor slot);
  }

  /** Every parameter with its gradient and its slot (same numel) in its bucket's flat buffer. */
  private void forEachSlot(SlotAction action) {
    for (Slot slot : slots) {
      action.apply(slot.param, slot.param.grad(), slot.flat);
    }
  }

  /** Seconds spent in collectives (with packing) since the last call. */
  public double takeCommSeconds() {
    double s = commSeconds;
    commSeconds = 0;
    return s;
  }

  private static void pack(List<Tensor> ts, Tensor flat) {
    long off = 0;
    for (Tensor t : ts) {
      flat.narrow(0, off, t.numel()).copy_(t.reshape(-1));
      off += t.numel();
    }
  }

  private static void unpack(Tensor flat, List<Tensor> ts) {
    long off = 0;
    for (Tensor t : ts) {
      t.copy_(flat.narrow(0, off, t.numel()).view_as(t));
      off += t.numel();
    }
  }

  @Override
  public void close() {
    // the parameters outlive this object: take the hooks off them, then free the callbacks here
    // (ranks run without JavaCPP's GC deallocation: see LocalLauncher)
    for (Slot slot : slots) {
      slot.param.remove_hook(slot.hookHandle);
      slot.hook.close();
      slot.flat.close();
    }
    for (Tensor f : flats) {
      f.close();
    }
    if (flatBuffers != null) {
      flatBuffers.close();
    }
  }
}
