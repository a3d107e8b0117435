package dev.npid4j.data;

import dev.npid4j.torch.OpenCvDecoder;

/**
 * Baseline colour and gray JPEGs through OpenCV's imdecode (libjpeg-turbo, as Pillow uses):
 * 2.4x the JDK's ImageIO decoder on 500 x 375 JPEGs here (1,001-1,066 against 357-444 img/s on
 * one thread). IMREAD_UNCHANGED keeps the stored pixels (no EXIF rotation, as Pillow's open).
 * Anything else (CMYK, 16-bit, a failed load of the natives) returns null and takes the ImageIO
 * path, whose semantics DecodeTest pins to Pillow's.
 */
final class OpenCvJpeg {
  private OpenCvJpeg() {}

  /** A whole JPEG (SOI ... EOI): a truncated one is left to ImageIO, which reports it. */
  static boolean isCompleteJpeg(byte[] b, int n) {
    return n > 4 && b[0] == (byte) 0xFF && b[1] == (byte) 0xD8 && b[n - 2] == (byte) 0xFF && b[n - 1] == (byte) 0xD9;
  }

  /**
   * Width and height from the JPEG's frame header (the first SOFn marker), or null where the
   * markers cannot be followed; read before decoding so that a pixel limit applies to the header.
   */
  static long[] frameSize(byte[] b, int n) {
    int i = 2;
    while (i + 9 < n) {
      if (b[i] != (byte) 0xFF) {
        return null;
      }
      int marker = b[i + 1] & 0xff;
      if (marker == 0xFF) {
        i++; // fill byte
        continue;
      }
      if (marker == 0xD8 || marker == 0x01 || (marker >= 0xD0 && marker <= 0xD7)) {
        i += 2; // markers without a length
        continue;
      }
      int len = ((b[i + 2] & 0xff) << 8) | (b[i + 3] & 0xff);
      boolean frame = marker >= 0xC0 && marker <= 0xCF && marker != 0xC4 && marker != 0xC8 && marker != 0xCC;
      if (frame) {
        long height = ((b[i + 5] & 0xff) << 8) | (b[i + 6] & 0xff);
        long width = ((b[i + 7] & 0xff) << 8) | (b[i + 8] & 0xff);
        return new long[] {width, height};
      }
      if (len < 2) {
        return null;
      }
      i += 2 + len;
    }
    return null;
  }

  /** 3 x H x W floats in 0..255, or null when OpenCV should not or cannot take this file. */
  static Image decode(byte[] jpeg, int length) {
    OpenCvDecoder.Pixels p = OpenCvDecoder.decode(jpeg, length, ImageBuffers::pixelBytes);
    if (p == null) {
      return null;
    }
    int h = p.height();
    int w = p.width();
    int plane = h * w;
    byte[] px = p.data();
    float[] out = ImageBuffers.take(3 * plane);
    if (p.channels() == 3) {
      for (int i = 0, o = 0; i < plane; i++, o += 3) { // OpenCV's BGR to planar RGB
        out[i] = px[o + 2] & 0xff;
        out[plane + i] = px[o + 1] & 0xff;
        out[2 * plane + i] = px[o] & 0xff;
      }
    } else {
      for (int i = 0; i < plane; i++) {
        float v = px[i] & 0xff;
        out[i] = v;
        out[plane + i] = v;
        out[2 * plane + i] = v;
      }
    }
    return new Image(3, h, w, out, false);
  }
}
