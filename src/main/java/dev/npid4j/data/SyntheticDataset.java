package dev.npid4j.data;

import java.util.SplittableRandom;

/**
 * Deterministic generated images for benchmarks and tests: each class has a smooth random
 * prototype and every image is its class prototype plus per-image noise and a random shift,
 * so an embedding can learn something. Image i has label i mod classes.
 */
public final class SyntheticDataset implements Dataset {
  private final int size;
  private final int channels;
  private final int side;
  private final int classes;
  private final long seed;
  private final float[][] prototypes;

  public SyntheticDataset(int size, int channels, int side, int classes, long seed) {
    this.size = size;
    this.channels = channels;
    this.side = side;
    this.classes = Math.max(1, classes);
    this.seed = seed;
    this.prototypes = new float[this.classes][];
    for (int c = 0; c < this.classes; c++) {
      prototypes[c] = prototype(new SplittableRandom(seed * 1_000_003L + c));
    }
  }

  private float[] prototype(SplittableRandom r) {
    float[] p = new float[channels * side * side];
    // a few random blobs per channel: smooth structure that survives crops and resizes
    for (int ch = 0; ch < channels; ch++) {
      for (int blob = 0; blob < 4; blob++) {
        double cx = r.nextDouble() * side;
        double cy = r.nextDouble() * side;
        double rad = side * (0.1 + 0.25 * r.nextDouble());
        double amp = 60 + 120 * r.nextDouble();
        for (int y = 0; y < side; y++) {
          for (int x = 0; x < side; x++) {
            double d2 = ((x - cx) * (x - cx) + (y - cy) * (y - cy)) / (rad * rad);
            p[(ch * side + y) * side + x] += (float) (amp * Math.exp(-d2));
          }
        }
      }
    }
    return p;
  }

  @Override
  public int size() {
    return size;
  }

  @Override
  public Image image(int index) {
    SplittableRandom r = new SplittableRandom(seed ^ (0x9E3779B97F4A7C15L * (index + 1)));
    float[] proto = prototypes[label(index)];
    float[] out = ImageBuffers.take(proto.length);
    int dx = r.nextInt(5) - 2;
    int dy = r.nextInt(5) - 2;
    for (int ch = 0; ch < channels; ch++) {
      for (int y = 0; y < side; y++) {
        int sy = Math.min(side - 1, Math.max(0, y + dy));
        for (int x = 0; x < side; x++) {
          int sx = Math.min(side - 1, Math.max(0, x + dx));
          float v = proto[(ch * side + sy) * side + sx] + (float) (r.nextGaussian() * 20);
          out[(ch * side + y) * side + x] = Math.min(255f, Math.max(0f, v));
        }
      }
    }
    return new Image(channels, side, side, out, false);
  }

  @Override
  public int label(int index) {
    return index % classes;
  }

  @Override
  public int numClasses() {
    return classes;
  }

  @Override
  public String describe() {
    return "synthetic (" + size + " images, " + channels + "x" + side + "x" + side + ", " + classes + " classes)";
  }
}
