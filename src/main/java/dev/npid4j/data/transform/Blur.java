package dev.npid4j.data.transform;

import dev.npid4j.data.Image;
import dev.npid4j.data.ImageBuffers;
import java.util.SplittableRandom;

/**
 * torchvision's GaussianBlur on a PIL image: sigma drawn uniformly from [min, max] per image,
 * the same for both axes; the kernel is torchvision's (float32 samples of exp(-x^2 / 2 sigma^2)
 * on the odd grid -(k-1)/2 .. (k-1)/2, normalised), the border is reflected (no edge repeat),
 * and the result is rounded half to even back to uint8, as F.gaussian_blur does through a tensor.
 */
final class Blur {
  private Blur() {}

  /** kx, ky: kernel width and height (odd), as torchvision's kernel_size [kx, ky]. */
  record GaussianBlur(int kx, int ky, double sigmaMin, double sigmaMax) implements Transform {
    @Override
    public Image apply(Image img, SplittableRandom r) {
      double sigma = Geometry.uniform(r, sigmaMin, sigmaMax);
      return blur(img, kx, ky, sigma, sigma);
    }
  }

  static Image blur(Image img, int kx, int ky, double sigmaX, double sigmaY) {
    int h = img.height();
    int w = img.width();
    if (kx / 2 >= w || ky / 2 >= h) {
      // torchvision's reflect padding needs the pad below the size; it raises, npid4j leaves such an image as it is
      return img;
    }
    float[] gx = kernel(kx, sigmaX);
    float[] gy = kernel(ky, sigmaY);
    float[] src = img.data();
    float[] out = ImageBuffers.take(img.size());
    float[] rows = ImageBuffers.take(h * w);
    int plane = h * w;
    for (int c = 0; c < img.channels(); c++) {
      int o = c * plane;
      // along x, then along y: the separable form of torchvision's 2-d kernel outer(gy, gx)
      for (int y = 0; y < h; y++) {
        for (int x = 0; x < w; x++) {
          float s = 0;
          for (int i = 0; i < kx; i++) {
            s += gx[i] * src[o + y * w + reflect(x + i - kx / 2, w)];
          }
          rows[y * w + x] = s;
        }
      }
      for (int y = 0; y < h; y++) {
        for (int x = 0; x < w; x++) {
          float s = 0;
          for (int i = 0; i < ky; i++) {
            s += gy[i] * rows[reflect(y + i - ky / 2, h) * w + x];
          }
          out[o + y * w + x] = (float) Math.min(255, Math.max(0, Math.rint(s)));
        }
      }
    }
    ImageBuffers.recycle(rows);
    return img.withData(out, img.tensor());
  }

  /** torchvision's _get_gaussian_kernel1d, in float32. */
  static float[] kernel(int size, double sigma) {
    float[] k = new float[size];
    double half = (size - 1) * 0.5;
    float sum = 0;
    for (int i = 0; i < size; i++) {
      float x = (float) (-half + i * (size == 1 ? 0 : (2 * half) / (size - 1)));
      k[i] = (float) Math.exp(-0.5 * Math.pow(x / (float) sigma, 2));
      sum += k[i];
    }
    for (int i = 0; i < size; i++) {
      k[i] /= sum;
    }
    return k;
  }

  /** numpy/torch "reflect" padding index: -1 -> 1, n -> n - 2. */
  private static int reflect(int i, int n) {
    if (i < 0) {
      return -i;
    }
    if (i >= n) {
      return 2 * (n - 1) - i;
    }
    return i;
  }
}
