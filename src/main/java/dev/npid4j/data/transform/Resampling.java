package dev.npid4j.data.transform;

import dev.npid4j.data.Image;
import dev.npid4j.data.ImageBuffers;

/**
 * Pillow's separable resampling with the bilinear (triangle) filter, antialiased when shrinking:
 * the support widens with the scale, as {@code Image.resize(size, BILINEAR)} does. 8-bit images
 * are resampled with Pillow's own integer arithmetic (weights in 22-bit fixed point, rounded to
 * uint8 after each pass), so the pixels are Pillow's to the bit; tensors in floating point.
 */
final class Resampling {
  private Resampling() {}

  /**
   * Crops the box (x0, y0, w, h; may reach outside the image, zero-padded) and resizes it. A box
   * inside the image is resampled in place of a crop: the filter taps are clipped at the box's
   * edges exactly as on a cropped copy, so the result is the same without the copy.
   */
  static Image resizedCrop(Image img, int y0, int x0, int h, int w, int outH, int outW) {
    if (!inside(img, y0, x0, h, w)) {
      Image cropped = crop(img, y0, x0, h, w);
      Image out = resize(cropped, outH, outW);
      if (cropped != img && out.data() != cropped.data()) {
        ImageBuffers.recycle(cropped.data()); // our intermediate; the input is the caller's to give back
      }
      return out;
    }
    return resizeBox(img, y0, x0, h, w, outH, outW);
  }

  static Image crop(Image img, int y0, int x0, int h, int w) {
    if (y0 == 0 && x0 == 0 && h == img.height() && w == img.width()) {
      return img;
    }
    int n = img.channels() * h * w;
    float[] out = ImageBuffers.take(n);
    if (!inside(img, y0, x0, h, w)) {
      java.util.Arrays.fill(out, 0, n, 0f); // the padding
    }
    float[] src = img.data();
    int sx0 = Math.max(0, x0);
    int sx1 = Math.min(img.width(), x0 + w);
    for (int c = 0; c < img.channels(); c++) {
      for (int y = 0; y < h; y++) {
        int sy = y0 + y;
        if (sy < 0 || sy >= img.height() || sx1 <= sx0) {
          continue;
        }
        System.arraycopy(src, (c * img.height() + sy) * img.width() + sx0, out, (c * h + y) * w + (sx0 - x0), sx1 - sx0);
      }
    }
    return new Image(img.channels(), h, w, out, img.tensor());
  }

  /** Whether the box (y0, x0, h, w) lies wholly inside the image. */
  private static boolean inside(Image img, int y0, int x0, int h, int w) {
    return y0 >= 0 && x0 >= 0 && y0 + h <= img.height() && x0 + w <= img.width();
  }

  static Image resize(Image img, int outH, int outW) {
    return resizeBox(img, 0, 0, img.height(), img.width(), outH, outW);
  }

  /** Resizes the box (y0, x0, h, w), which lies inside the image, to outH x outW: horizontal pass, then vertical. */
  private static Image resizeBox(Image img, int y0, int x0, int h, int w, int outH, int outW) {
    boolean round = !img.tensor();
    if (outW != w) {
      Image horizontal = pass(img, y0, x0, h, w, outW, true, round);
      if (outH == h) {
        return horizontal;
      }
      Image out = pass(horizontal, 0, 0, h, outW, outH, false, round);
      ImageBuffers.recycle(horizontal.data());
      return out;
    }
    if (outH != h) {
      return pass(img, y0, x0, h, w, outH, false, round);
    }
    return crop(img, y0, x0, h, w);
  }

  /** One resampling pass over the box (y0, x0, h, w) of {@code img}, along x or along y. */
  private static Image pass(Image img, int y0, int x0, int boxH, int boxW, int outSize, boolean horizontal, boolean round) {
    int inSize = horizontal ? boxW : boxH;
    Coefficients k = Coefficients.of(inSize, outSize, horizontal);
    int h = horizontal ? boxH : outSize;
    int w = horizontal ? outSize : boxW;
    float[] src = img.data();
    float[] out = ImageBuffers.take(img.channels() * h * w);
    int inW = img.width();
    int inH = img.height();
    for (int c = 0; c < img.channels(); c++) {
      int srcPlane = c * inH * inW + y0 * inW + x0;
      int dstPlane = c * h * w;
      for (int y = 0; y < h; y++) {
        for (int x = 0; x < w; x++) {
          int o = horizontal ? x : y;
          int start = k.start[o];
          int n = k.count[o];
          int base = o * k.stride;
          int first = horizontal ? srcPlane + y * inW + start : srcPlane + start * inW + x;
          int step = horizontal ? 1 : inW;
          if (round) {
            int ss = ROUNDING;
            for (int i = 0; i < n; i++) {
              ss += (int) src[first + i * step] * k.fixed[base + i];
            }
            out[dstPlane + y * w + x] = clip8(ss);
          } else {
            double sum = 0;
            for (int i = 0; i < n; i++) {
              sum += src[first + i * step] * k.weights[base + i];
            }
            out[dstPlane + y * w + x] = (float) sum;
          }
        }
      }
    }
    return new Image(img.channels(), h, w, out, img.tensor());
  }

  /** Pillow's PRECISION_BITS for 8-bit resampling: 32 - 8 - 2. */
  static final int PRECISION_BITS = 22;
  /** Half of the last fixed-point unit: Pillow starts every sum there, so the shift rounds half up. */
  private static final int ROUNDING = 1 << (PRECISION_BITS - 1);

  /** Pillow's clip8: the fixed-point sum to a uint8 value. */
  static float clip8(int ss) {
    if (ss >= (1 << PRECISION_BITS << 8)) {
      return 255;
    }
    return ss <= 0 ? 0 : ss >> PRECISION_BITS;
  }

  /**
   * Pillow's precompute_coeffs for the bilinear filter over the box [0, inSize), in arrays kept
   * per thread and per axis (reused from image to image: no garbage in the loader).
   */
  private static final class Coefficients {
    private static final ThreadLocal<Coefficients[]> LOCAL = ThreadLocal.withInitial(
        () -> new Coefficients[] {new Coefficients(), new Coefficients()});

    int[] start = new int[0];
    int[] count = new int[0];
    double[] weights = new double[0];
    /** The weights in Pillow's fixed point (normalize_coeffs_8bpc), for 8-bit images. */
    int[] fixed = new int[0];
    int stride;

    static Coefficients of(int inSize, int outSize, boolean horizontal) {
      Coefficients k = LOCAL.get()[horizontal ? 0 : 1];
      k.compute(inSize, outSize);
      return k;
    }

    private void compute(int inSize, int outSize) {
      double scale = (double) inSize / outSize;
      double filterScale = Math.max(scale, 1.0);
      double support = 1.0 * filterScale;
      stride = (int) Math.ceil(support) * 2 + 1;
      if (start.length < outSize) {
        start = new int[outSize];
        count = new int[outSize];
      }
      if (weights.length < outSize * stride) {
        weights = new double[outSize * stride];
        fixed = new int[outSize * stride];
      }
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
        for (int x = 0; x < xmax; x++) {
          if (ww != 0) {
            weights[xx * stride + x] /= ww;
          }
          double v = weights[xx * stride + x] * (1 << PRECISION_BITS);
          fixed[xx * stride + x] = (int) (v < 0 ? v - 0.5 : v + 0.5);
        }
        start[xx] = xmin;
        count[xx] = xmax;
      }
    }
  }
}
