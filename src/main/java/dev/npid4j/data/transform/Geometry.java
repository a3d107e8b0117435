package dev.npid4j.data.transform;

import dev.npid4j.data.Image;
import dev.npid4j.data.ImageBuffers;
import java.util.SplittableRandom;

/** torchvision's geometric transforms: RandomResizedCrop, Resize, CenterCrop, RandomHorizontalFlip. */
final class Geometry {
  private Geometry() {}

  /** RandomResizedCrop(size, scale, ratio): 10 tries at a random area and log-uniform aspect, then the centre fallback. */
  record RandomResizedCrop(int outH, int outW, double scaleMin, double scaleMax, double ratioMin, double ratioMax) implements Transform {
    @Override
    public Image apply(Image img, SplittableRandom r) {
      int[] box = params(img.height(), img.width(), r);
      return Resampling.resizedCrop(img, box[0], box[1], box[2], box[3], outH, outW);
    }

    /** {top, left, h, w} exactly as torchvision's get_params. */
    int[] params(int height, int width, SplittableRandom r) {
      double area = (double) height * width;
      double logMin = Math.log(ratioMin);
      double logMax = Math.log(ratioMax);
      for (int attempt = 0; attempt < 10; attempt++) {
        double targetArea = area * uniform(r, scaleMin, scaleMax);
        double aspect = Math.exp(uniform(r, logMin, logMax));
        int w = (int) Math.rint(Math.sqrt(targetArea * aspect)); // Python round: half-even
        int h = (int) Math.rint(Math.sqrt(targetArea / aspect));
        if (w > 0 && w <= width && h > 0 && h <= height) {
          int top = r.nextInt(height - h + 1);
          int left = r.nextInt(width - w + 1);
          return new int[] {top, left, h, w};
        }
      }
      double inRatio = (double) width / height;
      int w;
      int h;
      if (inRatio < ratioMin) {
        w = width;
        h = (int) Math.rint(w / ratioMin);
      } else if (inRatio > ratioMax) {
        h = height;
        w = (int) Math.rint(h * ratioMax);
      } else {
        w = width;
        h = height;
      }
      return new int[] {(height - h) / 2, (width - w) / 2, h, w};
    }
  }

  /** Resize: an int resizes the shorter side keeping the aspect (torchvision truncates the long side); [h, w] is exact. */
  record Resize(int shorter, int outH, int outW) implements Transform {
    @Override
    public Image apply(Image img, SplittableRandom r) {
      int h;
      int w;
      if (shorter > 0) {
        int s = Math.min(img.height(), img.width());
        int l = Math.max(img.height(), img.width());
        int newLong = (int) ((long) shorter * l / s);
        boolean wide = img.width() >= img.height();
        h = wide ? shorter : newLong;
        w = wide ? newLong : shorter;
        if (img.height() == img.width()) {
          h = shorter;
          w = shorter;
        }
      } else {
        h = outH;
        w = outW;
      }
      return Resampling.resize(img, h, w);
    }
  }

  /** CenterCrop: torchvision's rounding of the offsets; pads with zeros when the crop is larger. */
  record CenterCrop(int outH, int outW) implements Transform {
    @Override
    public Image apply(Image img, SplittableRandom r) {
      int top = (int) Math.rint((img.height() - outH) / 2.0);
      int left = (int) Math.rint((img.width() - outW) / 2.0);
      return Resampling.crop(img, top, left, outH, outW);
    }
  }

  record RandomHorizontalFlip(double p) implements Transform {
    @Override
    public Image apply(Image img, SplittableRandom r) {
      if (!(r.nextDouble() < p)) {
        return img;
      }
      float[] src = img.data();
      float[] out = ImageBuffers.take(img.size());
      int w = img.width();
      int rows = img.channels() * img.height();
      for (int row = 0; row < rows; row++) {
        int off = row * w;
        for (int x = 0; x < w; x++) {
          out[off + x] = src[off + w - 1 - x];
        }
      }
      return img.withData(out, img.tensor());
    }
  }

  static double uniform(SplittableRandom r, double lo, double hi) {
    return lo + (hi - lo) * r.nextDouble();
  }
}
