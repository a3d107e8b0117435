package dev.npid4j.data.transform;

import dev.npid4j.data.Image;
import java.util.SplittableRandom;

/** One torchvision-style image transform; random choices come from the per-image stream. */
public interface Transform {
  Image apply(Image img, SplittableRandom random);
}
