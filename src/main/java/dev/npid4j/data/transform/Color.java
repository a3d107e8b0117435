package dev.npid4j.data.transform;

import dev.npid4j.data.Image;
import dev.npid4j.data.ImageBuffers;
import java.util.SplittableRandom;

/**
 * torchvision's colour transforms on PIL-like images (0..255 values, uint8 semantics): the
 * adjustments are Pillow's ImageEnhance blends (truncating to uint8) and its HSV round trip.
 * One-channel images are PIL "L" images: saturation and hue leave them unchanged.
 */
final class Color {
  private Color() {}

  /**
   * ColorJitter: the four adjustments in a random order, each with a factor drawn uniformly
   * from its range (null range: skipped), as torchvision's get_params.
   */
  record ColorJitter(double[] brightness, double[] contrast, double[] saturation, double[] hue) implements Transform {
    @Override
    public Image apply(Image img, SplittableRandom r) {
      int[] order = {0, 1, 2, 3};
      for (int i = 3; i > 0; i--) {
        int j = r.nextInt(i + 1);
        int t = order[i];
        order[i] = order[j];
        order[j] = t;
      }
      Double b = brightness == null ? null : Geometry.uniform(r, brightness[0], brightness[1]);
      Double c = contrast == null ? null : Geometry.uniform(r, contrast[0], contrast[1]);
      Double s = saturation == null ? null : Geometry.uniform(r, saturation[0], saturation[1]);
      Double h = hue == null ? null : Geometry.uniform(r, hue[0], hue[1]);
      Image out = img;
      for (int op : order) {
        Image next = out;
        if (op == 0 && b != null) {
          next = Color.brightness(out, b);
        } else if (op == 1 && c != null) {
          next = Color.contrast(out, c);
        } else if (op == 2 && s != null) {
          next = Color.saturation(out, s);
        } else if (op == 3 && h != null) {
          next = Color.hue(out, h);
        }
        if (out != img && next.data() != out.data()) {
          ImageBuffers.recycle(out.data()); // an intermediate of this jitter; the input is the caller's
        }
        out = next;
      }
      return out;
    }
  }

  record RandomGrayscale(double p) implements Transform {
    @Override
    public Image apply(Image img, SplittableRandom r) {
      return r.nextDouble() < p ? grayscale(img) : img;
    }
  }

  /** PIL convert("L"), replicated back to the input's channel count. */
  static Image grayscale(Image img) {
    if (img.channels() == 1) {
      return img;
    }
    int plane = img.height() * img.width();
    float[] src = img.data();
    float[] out = ImageBuffers.take(img.size());
    for (int i = 0; i < plane; i++) {
      float l = Image.luma(src[i], src[plane + i], src[2 * plane + i]);
      out[i] = l;
      out[plane + i] = l;
      out[2 * plane + i] = l;
    }
    return img.withData(out, img.tensor());
  }

  static Image brightness(Image img, double f) {
    return blendAll(img, 0, f);
  }

  static Image contrast(Image img, double f) {
    float[] src = img.data();
    int plane = img.height() * img.width();
    double sum = 0;
    for (int i = 0; i < plane; i++) {
      sum += img.channels() == 1 ? src[i] : Image.luma(src[i], src[plane + i], src[2 * plane + i]);
    }
    float mean = (float) Math.floor(sum / plane + 0.5); // int(ImageStat mean + 0.5)
    return blendAll(img, mean, f);
  }

  private static final ThreadLocal<float[]> BLEND_TABLE = ThreadLocal.withInitial(() -> new float[256]);

  /**
   * blend(im1, v, alpha) for every value v. Decoded pixels are whole numbers 0..255, so a
   * 256-entry table computed with the same formula gives exactly the same result, faster;
   * any other value (synthetic data) takes the formula.
   */
  private static Image blendAll(Image img, float im1, double alpha) {
    float[] table = BLEND_TABLE.get();
    for (int v = 0; v < 256; v++) {
      table[v] = blend(im1, v, alpha);
    }
    float[] src = img.data();
    int n = img.size();
    float[] out = ImageBuffers.take(n);
    for (int i = 0; i < n; i++) {
      float v = src[i];
      int k = (int) v;
      out[i] = k == v && k >= 0 && k <= 255 ? table[k] : blend(im1, v, alpha);
    }
    return img.withData(out, img.tensor());
  }

  static Image saturation(Image img, double f) {
    if (img.channels() == 1) {
      return img;
    }
    // one pass: each pixel's luma (PIL's "L") blended with its three channels, no gray image in between
    float[] src = img.data();
    int plane = img.height() * img.width();
    float[] out = ImageBuffers.take(img.size());
    for (int i = 0; i < plane; i++) {
      float l = Image.luma(src[i], src[plane + i], src[2 * plane + i]);
      out[i] = blend(l, src[i], f);
      out[plane + i] = blend(l, src[plane + i], f);
      out[2 * plane + i] = blend(l, src[2 * plane + i], f);
    }
    return img.withData(out, img.tensor());
  }

  /** Pillow RGB -> HSV (uint8), h shifted by uint8(hue * 255) with wrap-around, HSV -> RGB. */
  static Image hue(Image img, double factor) {
    if (img.channels() == 1) {
      return img;
    }
    int shift = Math.floorMod((int) (factor * 255), 256);
    int plane = img.height() * img.width();
    float[] src = img.data();
    float[] out = ImageBuffers.take(img.size());
    for (int i = 0; i < plane; i++) {
      int r = (int) src[i];
      int g = (int) src[plane + i];
      int b = (int) src[2 * plane + i];
      int maxc = Math.max(r, Math.max(g, b));
      int minc = Math.min(r, Math.min(g, b));
      int h;
      int s;
      if (minc == maxc) {
        h = 0;
        s = 0;
      } else {
        float cr = maxc - minc;
        float sf = cr / maxc;
        float rc = (maxc - r) / cr;
        float gc = (maxc - g) / cr;
        float bc = (maxc - b) / cr;
        float hf;
        if (r == maxc) {
          hf = bc - gc;
        } else if (g == maxc) {
          hf = 2.0f + rc - bc;
        } else {
          hf = 4.0f + gc - rc;
        }
        hf = (float) ((hf / 6.0 + 1.0) % 1.0);
        h = clip8Int((int) (hf * 255.0));
        s = clip8Int((int) (sf * 255.0));
      }
      h = (h + shift) & 0xff;
      int v = maxc;
      int ro;
      int go;
      int bo;
      if (s == 0) {
        ro = v;
        go = v;
        bo = v;
      } else {
        int sector = (int) Math.floor(h * 6.0f / 255.0f);
        float fr = h * 6.0f / 255.0f - sector;
        float fs = s / 255.0f;
        int p = clip8Int(Math.round(v * (1.0f - fs)));
        int q = clip8Int(Math.round(v * (1.0f - fs * fr)));
        int t = clip8Int(Math.round(v * (1.0f - fs * (1.0f - fr))));
        switch (sector % 6) {
          case 0 -> { ro = v; go = t; bo = p; }
          case 1 -> { ro = q; go = v; bo = p; }
          case 2 -> { ro = p; go = v; bo = t; }
          case 3 -> { ro = p; go = q; bo = v; }
          case 4 -> { ro = t; go = p; bo = v; }
          default -> { ro = v; go = p; bo = q; }
        }
      }
      out[i] = ro;
      out[plane + i] = go;
      out[2 * plane + i] = bo;
    }
    return img.withData(out, img.tensor());
  }

  /** Pillow's ImagingBlend for uint8: im1 + alpha (im2 - im1), truncated and clipped. */
  static float blend(float im1, float im2, double alpha) {
    double t = im1 + alpha * (im2 - im1);
    if (t <= 0) {
      return 0;
    }
    return t >= 255 ? 255 : (float) Math.floor(t);
  }

  private static int clip8Int(int v) {
    return v < 0 ? 0 : (v > 255 ? 255 : v);
  }
}
