package dev.npid4j.data.transform;

import dev.npid4j.data.Image;

/**
 * Pillow's separable resampling with the bilinear (triangle) filter, antialiased when shrinking:
 * the support widens with the scale, as {@code Image.resize(size, BILINEAR)} does. For 8-bit
 * images Pillow rounds to uint8 after each pass; we round the same way so results match PIL.
 */
final class Resampling {
  private Resampling() {}

  /** Crops the box (x0, y0, w, h; may reach outside the image, zero-padded) and resizes it. */
  static Image resizedCrop(Image img, int y0, int x0, int h, int w, int outH, int outW) {
    return resize(crop(img, y0, x0, h, w), outH, outW);
  }

  static Image crop(Image img, int y0, int x0, int h, int w) {
    if (y0 == 0 && x0 == 0 && h == img.height() && w == img.width()) {
      return img;
    }
    float[] out = new float[img.channels() * h * w];
    for (int c = 0; c < img.channels(); c++) {
      for (int y = 0; y < h; y++) {
        int sy = y0 + y;
        if (sy < 0 || sy >= img.height()) {
          continue;
        }
        for (int x = 0; x < w; x++) {
          int sx = x0 + x;
          if (sx >= 0 && sx < img.width()) {
            out[(c * h + y) * w + x] = img.get(c, sy, sx);
          }
        }
      }
    }
    return new Image(img.channels(), h, w, out, img.tensor());
  }

  static Image resize(Image img, int outH, int outW) {
    Image cur = img;
    boolean round = !img.tensor();
    if (outW != cur.width()) {
      cur = pass(cur, outW, true, round);
    }
    if (outH != cur.height()) {
      cur = pass(cur, outH, false, round);
    }
    return cur;
  }

  private static Image pass(Image img, int outSize, boolean horizontal, boolean round) {
    int inSize = horizontal ? img.width() : img.height();
    Coefficients k = coefficients(inSize, outSize);
    int h = horizontal ? img.height() : outSize;
    int w = horizontal ? outSize : img.width();
    float[] src = img.data();
    float[] out = new float[img.channels() * h * w];
    int inW = img.width();
    int inH = img.height();
    for (int c = 0; c < img.channels(); c++) {
      int srcPlane = c * inH * inW;
      int dstPlane = c * h * w;
      for (int y = 0; y < h; y++) {
        for (int x = 0; x < w; x++) {
          int o = horizontal ? x : y;
          int start = k.start[o];
          int n = k.count[o];
          int base = o * k.stride;
          double sum = 0;
          if (horizontal) {
            int row = srcPlane + y * inW + start;
            for (int i = 0; i < n; i++) {
              sum += src[row + i] * k.weights[base + i];
            }
          } else {
            int col = srcPlane + start * inW + x;
            for (int i = 0; i < n; i++) {
              sum += src[col + i * inW] * k.weights[base + i];
            }
          }
          out[dstPlane + y * w + x] = round ? clip8(sum) : (float) sum;
        }
      }
    }
    return new Image(img.channels(), h, w, out, img.tensor());
  }

  static float clip8(double v) {
    // Pillow: fixed point with half-up rounding, then clip to [0, 255]
    double r = Math.floor(v + 0.5);
    return (float) (r < 0 ? 0 : (r > 255 ? 255 : r));
  }

  private record Coefficients(int[] start, int[] count, double[] weights, int stride) {}

  /** Pillow's precompute_coeffs for the bilinear filter over the box [0, inSize). */
  private static Coefficients coefficients(int inSize, int outSize) {
    double scale = (double) inSize / outSize;
    double filterScale = Math.max(scale, 1.0);
    double support = 1.0 * filterScale;
    int stride = (int) Math.ceil(support) * 2 + 1;
    int[] start = new int[outSize];
    int[] count = new int[outSize];
    double[] weights = new double[outSize * stride];
    for (int xx = 0; xx < outSize; xx++) {
      double center = (xx + 0.5) * scale;
      double ss = 1.0 / filterScale;
      int xmin = (int) (center - support + 0.5);
      if (xmin < 0) {
        xmin = 0;
      }
      int xmax = (int) (center + support + 0.5);
      if (xmax > inSize) {
        xmax = inSize;
      }
      xmax -= xmin;
      double ww = 0;
      for (int x = 0; x < xmax; x++) {
        double t = Math.abs((x + xmin - center + 0.5) * ss);
        double wgt = t < 1.0 ? 1.0 - t : 0.0;
        weights[xx * stride + x] = wgt;
        ww += wgt;
      }
      if (ww != 0) {
        for (int x = 0; x < xmax; x++) {
          weights[xx * stride + x] /= ww;
        }
      }
      start[xx] = xmin;
      count[xx] = xmax;
    }
    return new Coefficients(start, count, weights, stride);
  }
}
