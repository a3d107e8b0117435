package dev.npid4j.data;

import dev.npid4j.UserError;
import dev.npid4j.data.transform.Transform;
import java.util.ArrayDeque;
import java.util.Deque;
import java.util.Iterator;
import java.util.NoSuchElementException;
import java.util.SplittableRandom;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentLinkedDeque;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * Decodes, transforms and collates batches on background threads while the model trains
 * (PyTorch's DataLoader with {@code num_workers} workers and a bounded prefetch), delivering
 * them in sampler order. Each image's random stream is derived from (seed, epoch, sample index),
 * so augmentations do not depend on thread timing and a resumed epoch sees the same crops.
 *
 * <p>No garbage in the hot path: each worker decodes and transforms in reused arrays
 * ({@link ImageBuffers}), and batch arrays come from a pool of {@code prefetch + 2}. A batch's
 * {@code images} array is therefore reused once the consumer asks for the batch after next:
 * copy what you keep (every consumer here turns it into a tensor at once).
 */
public final class BatchLoader implements AutoCloseable {
  private final Dataset dataset;
  private final Transform transform;
  private final int batchSize;
  private final boolean dropLast;
  private final long seed;
  private final ExecutorService pool;
  private final int prefetch;
  /** Free batch arrays (all of one length: a batch's C x H x W is fixed by the transforms). */
  private final ConcurrentLinkedDeque<float[]> freeBatches = new ConcurrentLinkedDeque<>();
  private final AtomicInteger batchArraysAllocated = new AtomicInteger();
  /** The batches handed out last and before it (over epochs): the one before is the consumer's no more. */
  private Batch last;
  private Batch beforeLast;

  public BatchLoader(Dataset dataset, Transform transform, int batchSize, boolean dropLast, int workers, long seed) {
    this.dataset = dataset;
    this.transform = transform;
    this.batchSize = batchSize;
    this.dropLast = dropLast;
    this.seed = seed;
    AtomicInteger n = new AtomicInteger();
    this.pool = workers > 0 ? Executors.newFixedThreadPool(workers, r -> {
      Thread t = new Thread(r, "npid4j-loader-" + n.incrementAndGet());
      t.setDaemon(true);
      return t;
    }) : null;
    this.prefetch = Math.max(2, 2 * workers);
  }

  public int batchesPerEpoch(int samples) {
    return batchesPerEpoch(samples, batchSize, dropLast);
  }

  /** Batches an epoch of {@code samples} makes (a short last batch counts unless dropLast). */
  public static int batchesPerEpoch(int samples, int batchSize, boolean dropLast) {
    return dropLast ? samples / batchSize : (samples + batchSize - 1) / batchSize;
  }

  /** Batches over {@code order} (this rank's sample indices for the epoch), from batch {@code startBatch} on. */
  public Iterator<Batch> epoch(int epoch, int[] order, int startBatch) {
    int batches = batchesPerEpoch(order.length);
    return new Iterator<>() {
      private final Deque<CompletableFuture<Batch>> queue = new ArrayDeque<>();
      private int nextToSubmit = startBatch;
      private int delivered = startBatch;

      private void fill() {
        while (pool != null && queue.size() < prefetch && nextToSubmit < batches) {
          int b = nextToSubmit++;
          queue.add(CompletableFuture.supplyAsync(() -> build(epoch, order, b), pool));
        }
      }

      @Override
      public boolean hasNext() {
        return delivered < batches;
      }

      @Override
      public Batch next() {
        if (!hasNext()) {
          throw new NoSuchElementException();
        }
        if (pool == null) {
          return deliver(build(epoch, order, delivered++));
        }
        fill();
        CompletableFuture<Batch> f = queue.removeFirst();
        delivered++;
        fill();
        try {
          return deliver(f.get());
        } catch (InterruptedException e) {
          Thread.currentThread().interrupt();
          throw new IllegalStateException("interrupted while loading data", e);
        } catch (ExecutionException e) {
          if (e.getCause() instanceof RuntimeException re) {
            throw re;
          }
          throw new IllegalStateException("data loading failed", e.getCause());
        }
      }
    };
  }

  Batch build(int epoch, int[] order, int batchIndex) {
    int from = batchIndex * batchSize;
    int to = Math.min(order.length, from + batchSize);
    int n = to - from;
    long[] indices = new long[n];
    long[] labels = new long[n];
    float[] images = null;
    int c = 0;
    int h = 0;
    int w = 0;
    ImageBuffers buffers = ImageBuffers.enter();
    try {
      for (int i = 0; i < n; i++) {
        int idx = order[from + i];
        Image img = transform.apply(dataset.image(idx), imageRandom(epoch, idx));
        if (images == null) {
          c = img.channels();
          h = img.height();
          w = img.width();
          images = batchArray(n * c * h * w);
        } else if (img.channels() != c || img.height() != h || img.width() != w) {
          throw new UserError("the transforms give images of different sizes (" + c + "x" + h + "x" + w + " and "
              + img.channels() + "x" + img.height() + "x" + img.width() + "): add RandomResizedCrop, or Resize and CenterCrop");
        }
        System.arraycopy(img.data(), 0, images, i * c * h * w, c * h * w);
        ImageBuffers.recycle(img.data());
        indices[i] = idx;
        labels[i] = dataset.label(idx);
      }
    } finally {
      buffers.exit();
    }
    return new Batch(n, c, h, w, images, indices, labels);
  }

  /** A batch array of exactly {@code length} floats, reused when one is free. */
  private float[] batchArray(int length) {
    float[] a = freeBatches.pollFirst();
    if (a != null && a.length == length) {
      return a;
    }
    batchArraysAllocated.incrementAndGet();
    return new float[length]; // first batches, or the short last one
  }

  private void recycleBatch(float[] images) {
    if (images != null && freeBatches.size() < prefetch + 2) {
      freeBatches.addFirst(images);
    }
  }

  private synchronized Batch deliver(Batch b) {
    if (beforeLast != null) {
      recycleBatch(beforeLast.images());
    }
    beforeLast = last;
    last = b;
    return b;
  }

  /** Batch arrays allocated so far (a steady epoch reuses them: at most prefetch + 2, plus short last batches). */
  public int batchArraysAllocated() {
    return batchArraysAllocated.get();
  }

  SplittableRandom imageRandom(int epoch, int index) {
    long s = seed * 0x9E3779B97F4A7C15L + epoch * 0xC2B2AE3D27D4EB4FL + index * 0x165667B19E3779F9L;
    return new SplittableRandom(s);
  }

  @Override
  public void close() {
    if (pool != null) {
      pool.shutdownNow();
    }
  }
}
