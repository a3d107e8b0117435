package dev.npid4j.data;

/**
 * Converts images to the channel count the model takes: gray to RGB by replication (PIL's
 * convert("RGB"), which VISSL applies to every image) and RGB to gray with PIL's L weights.
 */
final class ChannelAdapter implements Dataset {
  private final Dataset base;
  private final int channels;

  ChannelAdapter(Dataset base, int channels) {
    this.base = base;
    this.channels = channels;
  }

  static Image convert(Image img, int channels) {
    if (img.channels() == channels) {
      return img;
    }
    int plane = img.height() * img.width();
    float[] src = img.data();
    float[] out = ImageBuffers.take(channels * plane);
    if (img.channels() == 1 && channels == 3) {
      for (int c = 0; c < 3; c++) {
        System.arraycopy(src, 0, out, c * plane, plane);
      }
    } else if (img.channels() == 3 && channels == 1) {
      for (int i = 0; i < plane; i++) {
        out[i] = Image.luma(src[i], src[plane + i], src[2 * plane + i]);
      }
    } else {
      throw new IllegalArgumentException("cannot convert " + img.channels() + " channels to " + channels);
    }
    ImageBuffers.recycle(src);
    return new Image(channels, img.height(), img.width(), out, img.tensor());
  }

  @Override
  public int size() {
    return base.size();
  }

  @Override
  public Image image(int index) {
    return convert(base.image(index), channels);
  }

  @Override
  public int label(int index) {
    return base.label(index);
  }

  @Override
  public java.util.List<String> classNames() {
    return base.classNames();
  }

  @Override
  public boolean labelsFromNames() {
    return base.labelsFromNames();
  }

  @Override
  public int numClasses() {
    return base.numClasses();
  }

  @Override
  public String describe() {
    return base.describe();
  }

  @Override
  public java.util.List<String> unreadable() {
    return base.unreadable();
  }
}
