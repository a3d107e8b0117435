package dev.npid4j.dist;

import dev.npid4j.torch.StateDict;
import dev.npid4j.torch.Tensors;
import java.util.ArrayList;
import java.util.List;
import org.bytedeco.javacpp.PointerScope;
import org.bytedeco.pytorch.MemoryFormatOptional;
import org.bytedeco.pytorch.Module;
import org.bytedeco.pytorch.NoGradGuard;
import org.bytedeco.pytorch.Tensor;
import org.bytedeco.pytorch.global.torch;

/**
 * What PyTorch's DistributedDataParallel does for a model, done explicitly (libtorch's C++
 * frontend has no DDP module): rank 0's parameters and buffers to every rank at the start, its
 * BatchNorm buffers before every forward (broadcast_buffers), and after every backward the
 * gradients averaged over ranks, packed into flat buckets of about {@value #BUCKET_BYTES} bytes
 * (DDP's 25 MB) that are all-reduced together.
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

  public ModelSync(Module model, Communicator comm) {
    this.comm = comm;
    this.params = new ArrayList<>(StateDict.parameters(model).values());
    for (Tensor b : StateDict.buffers(model).values()) {
      (b.is_floating_point() ? floatBuffers : otherBuffers).add(b);
    }
    List<Tensor> bucket = new ArrayList<>();
    long bytes = 0;
    for (Tensor p : params) {
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
      flatBuffers = Tensors.keep(torch.empty(new long[] {count(floatBuffers)}, floatBuffers.get(0).options(), new MemoryFormatOptional()));
    }
  }

  private void addBucket(List<Tensor> bucket) {
    buckets.add(bucket);
    flats.add(Tensors.keep(torch.empty(new long[] {count(bucket)}, bucket.get(0).options(), new MemoryFormatOptional())));
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
    try (PointerScope s = new PointerScope(); NoGradGuard g = new NoGradGuard()) {
      for (Tensor p : params) {
        comm.broadcast(p, 0);
      }
      sendBuffers();
    }
  }

  /** Rank 0's buffers (BatchNorm running statistics and counters) everywhere, before a forward. */
  public void broadcastBuffers() {
    long start = System.nanoTime();
    try (PointerScope s = new PointerScope(); NoGradGuard g = new NoGradGuard()) {
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

  /** Every parameter's gradient replaced by its mean over ranks (a missing gradient counts as zeros). */
  public void averageGradients() {
    long start = System.nanoTime();
    try (PointerScope s = new PointerScope(); NoGradGuard g = new NoGradGuard()) {
      forEachSlot((p, grad, slot) -> {
        if (grad.defined()) {
          slot.copy_(grad.reshape(-1));
        } else {
          slot.zero_();
        }
      });
      comm.allReduceMean(flats);
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

  private interface SlotAction {
    void apply(Tensor param, Tensor grad, Tensor slot);
  }

  /** Every parameter with its gradient and its slot (same numel) in its bucket's flat buffer. */
  private void forEachSlot(SlotAction action) {
    for (int i = 0; i < buckets.size(); i++) {
      long off = 0;
      for (Tensor p : buckets.get(i)) {
        action.apply(p, p.grad(), flats.get(i).narrow(0, off, p.numel()));
        off += p.numel();
      }
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
    for (Tensor f : flats) {
      f.close();
    }
    if (flatBuffers != null) {
      flatBuffers.close();
    }
  }
}
