package dev.npid4j.data;

/**
 * A collated batch: images as one B x C x H x W float array, the sample index of each image
 * (NPID's target) and its class label (-1 when unknown).
 */
public record Batch(int size, int channels, int height, int width, float[] images, long[] indices, long[] labels) {
  public long[] shape() {
    return new long[] {size, channels, height, width};
  }
}
