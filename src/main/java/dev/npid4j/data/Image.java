package dev.npid4j.data;

/**
 * An image as planar float channels (C x H x W, row-major). Decoded images hold 0..255 like a
 * PIL uint8 image; after {@code ToTensor} they hold 0..1 and {@code tensor} is true.
 *
 * <p>The pixels are the first {@link #size()} values of {@code data}; in the loader the array is
 * a reused buffer ({@link ImageBuffers}) and may be longer.
 */
public record Image(int channels, int height, int width, float[] data, boolean tensor) {
  public Image {
    if (data.length < channels * height * width) {
      throw new IllegalArgumentException("image data has " + data.length + " values, expected " + channels + "x" + height + "x" + width);
    }
  }

  public static Image of(int channels, int height, int width) {
    return new Image(channels, height, width, new float[channels * height * width], false);
  }

  /** Number of pixel values, C x H x W. */
  public int size() {
    return channels * height * width;
  }

  /** The pixel values alone, as a new array of exactly {@link #size()} values. */
  public float[] pixels() {
    return java.util.Arrays.copyOf(data, size());
  }

  public float get(int c, int y, int x) {
    return data[(c * height + y) * width + x];
  }

  /** PIL's ITU-R 601-2 luma ("L" = R*299/1000 + G*587/1000 + B*114/1000), rounded to uint8 as PIL does. */
  public static float luma(float r, float g, float b) {
    return Math.round((r * 299 + g * 587 + b * 114) / 1000f);
  }

  public Image withData(float[] newData, boolean isTensor) {
    return new Image(channels, height, width, newData, isTensor);
  }

  /** A Java image as VISSL's loader sees it (Pillow's {@code convert("RGB")}: 3 x H x W in 0..255). */
  public static Image of(java.awt.image.BufferedImage image) {
    return ImageDecoder.convert(image);
  }

  /**
   * The image in {@code file} as VISSL's loader sees it, or null when it cannot be decoded;
   * refused (IllegalArgumentException) when its header declares more than {@code maxPixels}.
   */
  public static Image read(java.nio.file.Path file, long maxPixels) {
    try {
      return ImageDecoder.decode(file, maxPixels);
    } catch (ImageDecoder.TooManyPixels e) {
      throw new IllegalArgumentException(file + ": " + e.getMessage(), e);
    }
  }

  /** Pillow's default pixel limit (MAX_IMAGE_PIXELS), config.DATA.MAX_IMAGE_PIXELS's default. */
  public static final long PILLOW_MAX_PIXELS = ImageDecoder.PILLOW_MAX_PIXELS;

  /** The largest pixel limit there can be: 3 planes of float pixels must fit one Java array. */
  public static final long HARD_MAX_PIXELS = ImageDecoder.HARD_MAX_PIXELS;

  /** This image with {@code channels} channels: gray replicated to RGB, RGB to gray with PIL's L weights. */
  public Image withChannels(int channels) {
    return ChannelAdapter.convert(this, channels);
  }
}
