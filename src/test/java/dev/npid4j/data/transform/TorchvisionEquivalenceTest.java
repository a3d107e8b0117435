package dev.npid4j.data.transform;

import static org.assertj.core.api.Assertions.assertThat;

import dev.npid4j.data.Image;
import dev.npid4j.formats.Npy;
import java.io.IOException;
import java.net.URISyntaxException;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.SplittableRandom;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

/**
 * The deterministic parts of the training and eval transforms against torchvision's output on
 * PIL images (fixtures from src/test/python/transform_fixtures.py, torchvision 0.14 + Pillow 9.4):
 * every pixel within 2/255.
 */
class TorchvisionEquivalenceTest {
  static final float TOLERANCE = 2f; // on the 0..255 scale

  @Test
  void resizeCropAndFlip() throws Exception {
    Image big = load("in_big");
    Image small = load("in_small");
    // resampling runs Pillow's own integer arithmetic: the same pixels to the bit
    assertExact("resize down", Resampling.resize(big, 17, 23), load("resize_big_17x23"));
    assertExact("resize up", Resampling.resize(small, 25, 31), load("resize_small_25x31"));
    assertExact("resize shorter side", apply(big, Map.of("name", "Resize", "size", 20L)), load("resize_big_short20"));
    assertExact("resized crop at a box", Resampling.resizedCrop(big, 3, 5, 20, 17, 16, 16), load("resized_crop_big"));
    assertExact("center crop", apply(big, Map.of("name", "CenterCrop", "size", List.of(20L, 14L))), load("center_crop_big_20x14"));
    assertExact("horizontal flip", apply(big, Map.of("name", "RandomHorizontalFlip", "p", 1.0)), load("hflip_big"));
  }

  @ParameterizedTest(name = "{0} {1}")
  @CsvSource({"brightness, 0.6", "brightness, 1.4", "contrast, 0.6", "contrast, 1.4", "saturation, 0.6", "saturation, 1.4",
      "hue, -0.35", "hue, 0.2"})
  void eachJitterOpAtAGivenFactor(String op, double factor) throws Exception {
    Image big = load("in_big");
    Image out = switch (op) {
      case "brightness" -> Color.brightness(big, factor);
      case "contrast" -> Color.contrast(big, factor);
      case "saturation" -> Color.saturation(big, factor);
      default -> Color.hue(big, factor);
    };
    assertClose(op + " " + factor, out, load(op + "_" + factor));
  }

  @Test
  void grayscaleBlurAndNormalize() throws Exception {
    Image big = load("in_big");
    assertClose("grayscale", Color.grayscale(big), load("grayscale_big"));
    assertClose("gaussian blur 5x5 sigma 1.3", Blur.blur(big, 5, 5, 1.3, 1.3), load("blur_5x5_1.3"));
    assertClose("gaussian blur kx 7, ky 3, sigma 0.8", Blur.blur(big, 7, 3, 0.8, 0.8), load("blur_7x3_0.8"));
    Image t = Transforms.fromConfig(List.of(Map.of("name", "ToTensor"),
        Map.of("name", "Normalize", "mean", List.of(0.485, 0.456, 0.406), "std", List.of(0.229, 0.224, 0.225))), "T")
        .apply(big, new SplittableRandom(0));
    Npy.Array ref = Npy.read(fixture("to_tensor_normalize_big"));
    float worst = 0;
    for (int i = 0; i < ref.floats().length; i++) {
      worst = Math.max(worst, Math.abs(ref.floats()[i] - t.data()[i]));
    }
    assertThat(worst).as("ToTensor + Normalize").isLessThanOrEqualTo(1e-5f);
  }

  private static Image apply(Image img, Map<String, Object> step) {
    return Transforms.fromConfig(List.of(step), "T").apply(img, new SplittableRandom(0));
  }

  private static void assertExact(String what, Image ours, Image theirs) {
    assertClose(what, ours, theirs);
    assertThat(ours.data()).as(what + ": every pixel").startsWith(theirs.data());
  }

  private static void assertClose(String what, Image ours, Image theirs) {
    assertThat(new int[] {ours.channels(), ours.height(), ours.width()}).as(what + " shape")
        .containsExactly(theirs.channels(), theirs.height(), theirs.width());
    float worst = 0;
    for (int i = 0; i < ours.data().length; i++) {
      worst = Math.max(worst, Math.abs(ours.data()[i] - theirs.data()[i]));
    }
    System.out.printf("torchvision equivalence: %-40s largest difference %.0f/255%n", what, worst);
    assertThat(worst).as(what + ": largest difference on the 0..255 scale").isLessThanOrEqualTo(TOLERANCE);
  }

  /** A uint8 H x W x 3 fixture as a C x H x W image of 0..255 values. */
  static Image load(String name) throws IOException, URISyntaxException {
    Npy.Array a = Npy.read(fixture(name));
    int h = (int) a.shape()[0];
    int w = (int) a.shape()[1];
    int c = (int) a.shape()[2];
    float[] chw = new float[c * h * w];
    for (int y = 0; y < h; y++) {
      for (int x = 0; x < w; x++) {
        for (int k = 0; k < c; k++) {
          chw[k * h * w + y * w + x] = a.floats()[(y * w + x) * c + k];
        }
      }
    }
    return new Image(c, h, w, chw, false);
  }

  static Path fixture(String name) throws URISyntaxException {
    return Path.of(TorchvisionEquivalenceTest.class.getResource("/torchvision/" + name + ".npy").toURI());
  }
}
