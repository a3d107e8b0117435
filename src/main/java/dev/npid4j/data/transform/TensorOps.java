package dev.npid4j.data.transform;

import dev.npid4j.data.Image;
import dev.npid4j.data.ImageBuffers;
import java.util.SplittableRandom;

/** ToTensor and Normalize. */
final class TensorOps {
  private TensorOps() {}

  record ToTensor() implements Transform {
    @Override
    public Image apply(Image img, SplittableRandom r) {
      float[] src = img.data();
      int n = img.size();
      float[] out = ImageBuffers.take(n);
      for (int i = 0; i < n; i++) {
        out[i] = src[i] / 255f;
      }
      return img.withData(out, true);
    }
  }

  /** (x - mean[c]) / std[c]; a one-element mean/std applies to every channel. */
  record Normalize(float[] mean, float[] std) implements Transform {
    @Override
    public Image apply(Image img, SplittableRandom r) {
      if (!img.tensor()) {
        throw new IllegalStateException("Normalize needs ToTensor before it in TRANSFORMS");
      }
      int c = img.channels();
      if (mean.length != 1 && mean.length != c) {
        throw new IllegalArgumentException("Normalize has " + mean.length + " means but the image has " + c + " channels");
      }
      int plane = img.height() * img.width();
      float[] src = img.data();
      float[] out = ImageBuffers.take(img.size());
      for (int ch = 0; ch < c; ch++) {
        float m = mean[mean.length == 1 ? 0 : ch];
        float s = std[std.length == 1 ? 0 : ch];
        for (int i = ch * plane, end = i + plane; i < end; i++) {
          out[i] = (src[i] - m) / s;
        }
      }
      return img.withData(out, true);
    }
  }
}
