package dev.npid4j.data;

import java.util.ArrayList;
import java.util.List;

/**
 * Reuse of pixel and byte arrays while the loader builds a batch, so that decoding and
 * transforming an image allocates no new arrays once a worker has warmed up (PyTorch's workers
 * hand the same job to malloc; on the JVM every 224 x 224 crop, every decoded 500 x 375 picture
 * and every file read would otherwise be 0.6-2 MB of garbage per step of the pipeline).
 *
 * <p>Reuse is switched on for one thread between {@link #enter()} and {@link #exit()}, which
 * {@link BatchLoader} brackets around each batch it builds. There, {@link #take} hands out a
 * free array at least as long as asked (an {@link Image} may sit in a longer array) and
 * {@link #recycle} takes one back. Everywhere else (tests, one-off calls) {@code take} is a plain
 * {@code new float[n]} and {@code recycle} does nothing, so an array a caller still holds is
 * never handed out twice.
 *
 * <p>Ownership rule while reuse is on: the image a dataset returns belongs to the pipeline, and
 * each step that returns a different array gives its input's array back.
 */
public final class ImageBuffers {
  private static final ThreadLocal<ImageBuffers> LOCAL = ThreadLocal.withInitial(ImageBuffers::new);
  /**
   * Free arrays kept per thread: a pipeline holds at most four at once (the decoded picture, a
   * resampling pass, the output, the blur's scratch). With the size cap below a worker keeps at
   * most 6 x 16 MB.
   */
  private static final int MAX_FREE = 6;
  /**
   * Larger arrays (pictures over ~1,300 x 1,000 once decoded to floats, rare in ImageNet) are left
   * to the collector rather than kept per thread.
   */
  private static final int MAX_POOLED = 1 << 22;

  private final List<float[]> free = new ArrayList<>();
  private byte[] fileBytes = new byte[0];
  private byte[] pixelBytes = new byte[0];
  private boolean active;
  private long arraysAllocated;

  private ImageBuffers() {}

  /** Switches reuse on for this thread until {@link #exit()}; returns this thread's buffers. */
  public static ImageBuffers enter() {
    ImageBuffers b = LOCAL.get();
    b.active = true;
    return b;
  }

  public void exit() {
    active = false;
  }

  /** Arrays this thread's buffers had to allocate while active (a warmed-up loader adds none). */
  public long arraysAllocated() {
    return arraysAllocated;
  }

  private static ImageBuffers activeHere() {
    ImageBuffers b = LOCAL.get();
    return b.active ? b : null;
  }

  /** An array of at least {@code length} floats; its contents are undefined. */
  public static float[] take(int length) {
    ImageBuffers b = activeHere();
    if (b == null) {
      return new float[length];
    }
    int best = -1;
    for (int i = 0; i < b.free.size(); i++) {
      int len = b.free.get(i).length;
      if (len >= length && (best < 0 || len < b.free.get(best).length)) {
        best = i;
      }
    }
    if (best >= 0) {
      return b.free.remove(best);
    }
    b.arraysAllocated++;
    // headroom so that the next, slightly larger picture fits too
    return new float[length > MAX_POOLED ? length : Math.min(MAX_POOLED, length + (length >> 3))];
  }

  /** Gives an array back for reuse (ignored unless reuse is on in this thread). */
  public static void recycle(float[] array) {
    ImageBuffers b = activeHere();
    if (b == null || array.length > MAX_POOLED) {
      return;
    }
    for (float[] f : b.free) {
      if (f == array) {
        return;
      }
    }
    b.free.add(array);
    if (b.free.size() > MAX_FREE) {
      int smallest = 0;
      for (int i = 1; i < b.free.size(); i++) {
        if (b.free.get(i).length < b.free.get(smallest).length) {
          smallest = i;
        }
      }
      b.free.remove(smallest);
    }
  }

  /** A byte array of at least {@code length} for a file's bytes; valid until the next call. */
  static byte[] fileBytes(int length) {
    ImageBuffers b = activeHere();
    return b == null ? new byte[length] : (b.fileBytes = b.atLeast(b.fileBytes, length));
  }

  /** A byte array of at least {@code length} for decoded 8-bit samples; valid until the next call. */
  static byte[] pixelBytes(int length) {
    ImageBuffers b = activeHere();
    return b == null ? new byte[length] : (b.pixelBytes = b.atLeast(b.pixelBytes, length));
  }

  private byte[] atLeast(byte[] current, int length) {
    if (current.length >= length) {
      return current;
    }
    arraysAllocated++;
    return new byte[(int) Math.min(Integer.MAX_VALUE - 8, length + (long) (length >> 3))];
  }
}
