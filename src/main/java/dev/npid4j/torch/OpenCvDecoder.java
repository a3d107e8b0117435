package dev.npid4j.torch;

import java.io.IOException;
import java.util.function.IntFunction;
import org.bytedeco.javacpp.BytePointer;
import org.bytedeco.javacpp.Loader;
import org.bytedeco.opencv.global.opencv_core;
import org.bytedeco.opencv.global.opencv_imgcodecs;
import org.bytedeco.opencv.opencv_core.Mat;

/**
 * OpenCV's image decoder (libjpeg-turbo) through bytedeco's presets, loaded on first use with the
 * same extract-first guard as libtorch ({@link Torch#load}); where it cannot load, callers decode
 * with ImageIO instead.
 */
public final class OpenCvDecoder {
  private static volatile Boolean available;

  private OpenCvDecoder() {}

  /** Decoded 8-bit pixels, interleaved (BGR for 3 channels), in a buffer from the caller's supplier. */
  public record Pixels(int height, int width, int channels, byte[] data) {}

  /**
   * The first {@code length} bytes of {@code file} decoded as they are (IMREAD_UNCHANGED), or null
   * when OpenCV cannot load or gives other than 8-bit 1- or 3-channel pixels.
   */
  public static Pixels decode(byte[] file, int length, IntFunction<byte[]> buffer) {
    if (!available()) {
      return null;
    }
    try (var scope = Scopes.open()) {
      BytePointer bytes = new BytePointer(length);
      bytes.put(file, 0, length);
      Mat m = opencv_imgcodecs.imdecode(new Mat(1, length, opencv_core.CV_8UC1, bytes), opencv_imgcodecs.IMREAD_UNCHANGED);
      if (m == null || m.empty() || m.depth() != opencv_core.CV_8U || (m.channels() != 3 && m.channels() != 1)) {
        return null;
      }
      int n = m.rows() * m.cols() * m.channels();
      byte[] px = buffer.apply(n);
      m.data().capacity(n).get(px, 0, n);
      return new Pixels(m.rows(), m.cols(), m.channels(), px);
    }
  }

  private static boolean available() {
    Boolean a = available;
    if (a == null) {
      synchronized (OpenCvDecoder.class) {
        if (available == null) {
          try {
            Loader.cacheResources("/org/bytedeco/opencv/" + Loader.getPlatform() + "/");
            Loader.load(opencv_imgcodecs.class);
            available = true;
          } catch (IOException | RuntimeException | LinkageError e) {
            System.err.println("npid4j: warning: OpenCV's JPEG decoder is not available (" + e + "); decoding with ImageIO");
            available = false;
          }
        }
        a = available;
      }
    }
    return a;
  }
}
