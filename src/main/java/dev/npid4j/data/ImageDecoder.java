package dev.npid4j.data;

import java.awt.color.ColorSpace;
import java.awt.image.BufferedImage;
import java.awt.image.DataBuffer;
import java.awt.image.DataBufferByte;
import java.awt.image.PixelInterleavedSampleModel;
import java.awt.image.IndexColorModel;
import java.awt.image.Raster;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.file.StandardOpenOption;
import java.nio.file.Path;
import java.util.Iterator;
import javax.imageio.ImageIO;
import javax.imageio.ImageReader;
import javax.imageio.stream.ImageInputStream;

/**
 * Any JPEG / PNG (and what else ImageIO reads) to 0..255 RGB, the way Pillow's
 * {@code Image.open(f).convert("RGB")} does it, which is what VISSL's loader sees:
 * <ul>
 *   <li>grayscale (with or without alpha): the gray value in all three channels. Java's getRGB
 *       would treat the gray as linear light and brighten it (128 becomes 186);
 *   <li>16-bit samples as Pillow reads them: a 16-bit gray image opens as 32-bit "I" and
 *       convert("RGB") clips it at 255 (most of a 16-bit PNG turns white, as VISSL sees it); 16-bit
 *       RGB and gray+alpha keep the high byte;
 *   <li>CMYK JPEG: Pillow's plain conversion R = 255 - C - K (no colour management);
 *   <li>alpha is dropped, not composited (convert("RGB")); palettes are looked up;
 *   <li>a truncated file is unreadable (Pillow raises), not half an image.
 * </ul>
 * Whole colour and gray JPEGs go through OpenCV's libjpeg-turbo ({@link OpenCvJpeg}); the rest
 * through ImageIO.
 */
final class ImageDecoder {
  private ImageDecoder() {}

  /** Pillow's Image.MAX_IMAGE_PIXELS, the default of config.DATA.MAX_IMAGE_PIXELS. */
  static final long PILLOW_MAX_PIXELS = 89_478_485;
  /** The most any limit may allow: 3 planes of float pixels must fit one Java array. */
  static final long HARD_MAX_PIXELS = (Integer.MAX_VALUE - 16) / 3;

  /** An image whose header declares more pixels than the limit: refused before its pixels are decoded. */
  static final class TooManyPixels extends RuntimeException {
    TooManyPixels(long width, long height, long limit) {
      super(width + " x " + height + " = " + width * height + " pixels, over the limit of " + limit
          + " (config.DATA.MAX_IMAGE_PIXELS, Pillow's MAX_IMAGE_PIXELS)");
    }
  }

  private static void checkPixels(long width, long height, long maxPixels) {
    // a zero or negative size is no bomb: the decoder reports such a file as unreadable
    if (width > 0 && height > 0 && width * height > Math.min(maxPixels, HARD_MAX_PIXELS)) {
      throw new TooManyPixels(width, height, Math.min(maxPixels, HARD_MAX_PIXELS));
    }
  }

  /**
   * ImageIO's decode, refusing what Pillow refuses: a reader warning (a truncated JPEG, which
   * ImageIO would hand back with its missing part filled) makes the file unreadable, as
   * Pillow's "image file is truncated" does for VISSL's loader.
   */
  private static BufferedImage read(byte[] file, int length, long maxPixels) {
    try (ImageInputStream in = ImageIO.createImageInputStream(new java.io.ByteArrayInputStream(file, 0, length))) {
      if (in == null) {
        return null;
      }
      Iterator<ImageReader> readers = ImageIO.getImageReaders(in);
      if (!readers.hasNext()) {
        return null;
      }
      ImageReader reader = readers.next();
      try {
        boolean[] warned = {false};
        reader.addIIOReadWarningListener((source, warning) -> warned[0] = true);
        reader.setInput(in, true, true);
        checkPixels(reader.getWidth(0), reader.getHeight(0), maxPixels); // the header only: nothing decoded yet
        BufferedImage img = reader.read(0);
        return warned[0] ? null : img;
      } finally {
        reader.dispose();
      }
    } catch (TooManyPixels e) {
      throw e;
    } catch (IOException | RuntimeException e) {
      return null;
    }
  }

  /**
   * The image as 3 x H x W floats in 0..255, or null when it cannot be decoded; {@link TooManyPixels}
   * when its header declares more than {@code maxPixels} pixels (a decompression bomb).
   */
  static Image decode(Path file, long maxPixels) {
    byte[] bytes;
    int length;
    try (FileChannel ch = FileChannel.open(file, StandardOpenOption.READ)) {
      long size = ch.size();
      if (size > Integer.MAX_VALUE - 16) {
        return null;
      }
      length = (int) size;
      bytes = ImageBuffers.fileBytes(length);
      ByteBuffer buf = ByteBuffer.wrap(bytes, 0, length);
      while (buf.hasRemaining() && ch.read(buf) >= 0) {
        // read the whole file into the (reused) array
      }
      if (buf.hasRemaining()) {
        return null; // the file shrank while being read
      }
    } catch (IOException | RuntimeException e) {
      return null;
    }
    long[] jpegSize = OpenCvJpeg.isCompleteJpeg(bytes, length) ? OpenCvJpeg.frameSize(bytes, length) : null;
    if (jpegSize != null) {
      checkPixels(jpegSize[0], jpegSize[1], maxPixels);
      Image fast = OpenCvJpeg.decode(bytes, length);
      if (fast != null) {
        return fast;
      }
    }
    BufferedImage img = read(bytes, length, maxPixels);
    return img == null ? null : convert(img);
  }

  /** A decoded BufferedImage to 3 x H x W floats in 0..255, as Pillow's convert("RGB") (see the class comment). */
  static Image convert(BufferedImage img) {
    int w = img.getWidth();
    int h = img.getHeight();
    int plane = w * h;
    float[] out = ImageBuffers.take(3 * plane);
    Raster raster = img.getRaster();
    int colorSpace = img.getColorModel().getColorSpace().getType();
    boolean indexed = img.getColorModel() instanceof IndexColorModel;
    boolean sixteen = raster.getTransferType() == DataBuffer.TYPE_USHORT;
    if (!indexed && colorSpace == ColorSpace.TYPE_GRAY) {
      int[] g = raster.getSamples(0, 0, w, h, 0, (int[]) null);
      boolean alpha = raster.getNumBands() > 1;
      for (int i = 0; i < plane; i++) {
        float v = !sixteen ? g[i] : alpha ? g[i] >> 8 : Math.min(g[i], 255);
        out[i] = v;
        out[plane + i] = v;
        out[2 * plane + i] = v;
      }
      return new Image(3, h, w, out, false);
    }
    if (!indexed && colorSpace == ColorSpace.TYPE_CMYK && raster.getNumBands() >= 4) {
      int[] c = raster.getSamples(0, 0, w, h, 0, (int[]) null);
      int[] m = raster.getSamples(0, 0, w, h, 1, (int[]) null);
      int[] y = raster.getSamples(0, 0, w, h, 2, (int[]) null);
      int[] k = raster.getSamples(0, 0, w, h, 3, (int[]) null);
      for (int i = 0; i < plane; i++) {
        out[i] = Math.max(0, 255 - c[i] - k[i]);
        out[plane + i] = Math.max(0, 255 - m[i] - k[i]);
        out[2 * plane + i] = Math.max(0, 255 - y[i] - k[i]);
      }
      return new Image(3, h, w, out, false);
    }
    if (!indexed && sixteen && colorSpace == ColorSpace.TYPE_RGB && raster.getNumBands() >= 3) {
      for (int b = 0; b < 3; b++) {
        int[] s = raster.getSamples(0, 0, w, h, b, (int[]) null);
        for (int i = 0; i < plane; i++) {
          out[b * plane + i] = s[i] >> 8;
        }
      }
      return new Image(3, h, w, out, false);
    }
    if (img.getType() == BufferedImage.TYPE_3BYTE_BGR && raster.getDataBuffer() instanceof DataBufferByte buffer
        && raster.getSampleModel() instanceof PixelInterleavedSampleModel sm && sm.getPixelStride() == 3
        && sm.getScanlineStride() == 3 * w && raster.getSampleModelTranslateX() == 0 && raster.getSampleModelTranslateY() == 0) {
      // what ImageIO gives for a colour JPEG: read the BGR bytes directly (getRGB goes through the colour model pixel by pixel)
      byte[] bgr = buffer.getData();
      int[] offsets = sm.getBandOffsets();
      for (int i = 0, o = 0; i < plane; i++, o += 3) {
        out[i] = bgr[o + offsets[0]] & 0xff;
        out[plane + i] = bgr[o + offsets[1]] & 0xff;
        out[2 * plane + i] = bgr[o + offsets[2]] & 0xff;
      }
      return new Image(3, h, w, out, false);
    }
    int[] argb = img.getRGB(0, 0, w, h, null, 0, w); // 8-bit sRGB and palettes: exact; alpha dropped
    for (int i = 0; i < plane; i++) {
      int p = argb[i];
      out[i] = (p >> 16) & 0xff;
      out[plane + i] = (p >> 8) & 0xff;
      out[2 * plane + i] = p & 0xff;
    }
    return new Image(3, h, w, out, false);
  }
}
