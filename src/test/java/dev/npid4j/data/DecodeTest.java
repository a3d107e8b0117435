package dev.npid4j.data;

import static org.assertj.core.api.Assertions.assertThat;

import dev.npid4j.formats.Npy;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * Every colour mode of a real image folder decodes to the RGB that Pillow's
 * Image.open(f).convert("RGB") gives (VISSL's loader), fixtures from
 * src/test/python/decode_fixtures.py.
 */
class DecodeTest {
  @ParameterizedTest
  @ValueSource(strings = {"rgb.png", "rgba.png", "gray.png", "gray_alpha.png", "palette.png", "gray16.png", "rgb.jpg", "gray.jpg"})
  void decodesLikePillow(String name) throws Exception {
    assertThat(largestDifference(name)).as(name).isLessThanOrEqualTo(name.endsWith(".jpg") ? 3f : 0f);
  }

  /** CMYK JPEG: Pillow's plain inversion, no colour management; npid4j must decode it, and close. */
  @ParameterizedTest
  @ValueSource(strings = {"cmyk.jpg"})
  void cmykJpegDecodes(String name) throws Exception {
    assertThat(largestDifference(name)).as(name).isLessThanOrEqualTo(8f);
  }

  /** Pillow refuses a truncated JPEG ("image file is truncated"); so does npid4j (ImageIO would fill the rest). */
  @org.junit.jupiter.api.Test
  void truncatedJpegIsUnreadable(@org.junit.jupiter.api.io.TempDir Path dir) throws Exception {
    byte[] whole = java.nio.file.Files.readAllBytes(resource("rgb.jpg"));
    Path cut = dir.resolve("cut.jpg");
    java.nio.file.Files.write(cut, java.util.Arrays.copyOf(whole, whole.length / 2));
    ImageFiles ds = ImageFiles.list("t", List.of(cut), new int[] {-1}, List.of(), 8);
    assertThat(ds.image(0).get(0, 0, 0)).isEqualTo(128f);
    assertThat(ds.unreadable()).hasSize(1);
  }

  private static float largestDifference(String name) throws Exception {
    Image ours = decode(name);
    Npy.Array ref = Npy.read(resource(name + ".rgb.npy"));
    int h = (int) ref.shape()[0];
    int w = (int) ref.shape()[1];
    assertThat(new int[] {ours.channels(), ours.height(), ours.width()}).containsExactly(3, h, w);
    float worst = 0;
    for (int y = 0; y < h; y++) {
      for (int x = 0; x < w; x++) {
        for (int c = 0; c < 3; c++) {
          worst = Math.max(worst, Math.abs(ours.get(c, y, x) - ref.floats()[(y * w + x) * 3 + c]));
        }
      }
    }
    System.out.printf("decode %-16s largest difference to Pillow %.0f/255%n", name, worst);
    return worst;
  }

  private static Image decode(String name) throws Exception {
    ImageFiles ds = ImageFiles.list("t", List.of(resource(name)), new int[] {-1}, List.of(), 8);
    Image img = ds.image(0);
    assertThat(ds.unreadable()).as(name + " decoded").isEmpty();
    return img;
  }

  private static Path resource(String name) throws Exception {
    return Path.of(DecodeTest.class.getResource("/decode/" + name).toURI());
  }
}
