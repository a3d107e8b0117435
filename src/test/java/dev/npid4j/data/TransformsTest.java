package dev.npid4j.data;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.assertj.core.data.Offset.offset;

import dev.npid4j.config.ConfigError;
import dev.npid4j.data.transform.Transforms;
import java.util.List;
import java.util.Map;
import java.util.SplittableRandom;
import org.junit.jupiter.api.Test;

class TransformsTest {
  private static Transforms pipeline(Map<?, ?>... entries) {
    return Transforms.fromConfig(List.of((Object[]) entries), "TRANSFORMS");
  }

  private static Image ramp(int c, int h, int w) {
    float[] d = new float[c * h * w];
    for (int i = 0; i < d.length; i++) {
      d[i] = (i * 37) % 256;
    }
    return new Image(c, h, w, d, false);
  }

  @Test
  void randomResizedCropGivesTheSizeAndStaysInRange() {
    Transforms t = pipeline(Map.of("name", "RandomResizedCrop", "size", 28L, "scale", List.of(0.2, 1.0)));
    Image src = ramp(1, 28, 28);
    for (int seed = 0; seed < 50; seed++) {
      Image out = t.apply(src, new SplittableRandom(seed));
      assertThat(out.height()).isEqualTo(28);
      assertThat(out.width()).isEqualTo(28);
      for (float v : out.data()) {
        assertThat(v).isBetween(0f, 255f).isEqualTo((float) Math.rint(v)); // uint8 like PIL
      }
    }
    Image rect = t.apply(ramp(3, 40, 60), new SplittableRandom(1));
    assertThat(new int[] {rect.channels(), rect.height(), rect.width()}).containsExactly(3, 28, 28);
  }

  @Test
  void resizeOfAConstantImageIsConstantAndShorterSideIsKept() {
    float[] d = new float[3 * 30 * 50];
    java.util.Arrays.fill(d, 77f);
    Image c = new Image(3, 30, 50, d, false);
    Image out = pipeline(Map.of("name", "Resize", "size", 12L)).apply(c, new SplittableRandom(0));
    assertThat(out.height()).isEqualTo(12);
    assertThat(out.width()).isEqualTo(20); // int(12 * 50 / 30)
    for (float v : out.data()) {
      assertThat(v).isEqualTo(77f);
    }
    Image crop = pipeline(Map.of("name", "CenterCrop", "size", 10L)).apply(out, new SplittableRandom(0));
    assertThat(crop.width()).isEqualTo(10);
  }

  @Test
  void pilBilinearDownscaleAveragesPairs() {
    // Halving with PIL's antialiased bilinear: each output is a triangle-weighted mean over 4 inputs (1/8, 3/8, 3/8, 1/8).
    Image row = new Image(1, 1, 8, new float[] {0, 8, 16, 24, 32, 40, 48, 56}, false);
    Image out = pipeline(Map.of("name", "Resize", "size", List.of(1L, 4L))).apply(row, new SplittableRandom(0));
    // out[1] = (8*1 + 16*3 + 24*3 + 32*1) / 8 = 20 ; out[0] uses the clipped window {0,8,16}: (0*3+8*3+16*1)/7
    assertThat(out.data()[1]).isEqualTo(20f);
    assertThat(out.data()[0]).isEqualTo((float) Math.floor((0 * 3 + 8 * 3 + 16 * 1) / 7.0 + 0.5));
  }

  @Test
  void flipTwiceIsIdentityAndProbabilityIsRespected() {
    Transforms flip = pipeline(Map.of("name", "RandomHorizontalFlip", "p", 1.0));
    Image src = ramp(2, 5, 7);
    Image once = flip.apply(src, new SplittableRandom(0));
    assertThat(once.get(0, 2, 0)).isEqualTo(src.get(0, 2, 6));
    assertThat(flip.apply(once, new SplittableRandom(0)).data()).containsExactly(src.data());
    Transforms half = pipeline(Map.of("name", "RandomHorizontalFlip"));
    int flipped = 0;
    for (int s = 0; s < 1000; s++) {
      if (half.apply(src, new SplittableRandom(s)).get(0, 0, 0) != src.get(0, 0, 0)) {
        flipped++;
      }
    }
    assertThat(flipped).isBetween(430, 570);
  }

  @Test
  void colorJitterOnGrayTouchesOnlyBrightnessAndContrast() {
    Transforms jitter = pipeline(Map.of("name", "ColorJitter", "saturation", 0.4, "hue", 0.4));
    Image gray = ramp(1, 6, 6);
    assertThat(jitter.apply(gray, new SplittableRandom(3)).data()).containsExactly(gray.data());
    Transforms bright = pipeline(Map.of("name", "ColorJitter", "brightness", List.of(0.5, 0.5)));
    Image out = bright.apply(gray, new SplittableRandom(0));
    for (int i = 0; i < gray.data().length; i++) {
      assertThat(out.data()[i]).isEqualTo((float) Math.floor(gray.data()[i] * 0.5));
    }
  }

  @Test
  void hueShiftKeepsGraysAndRotatesColours() {
    float[] d = {255, 128, 0, 0, 128, 255}; // 3 channels x 1 x 2: pixel 0 = (255,0,0) red... laid out planar
    Image img = new Image(3, 1, 2, new float[] {255, 10, 0, 10, 0, 10}, false);
    Transforms hue = pipeline(Map.of("name", "ColorJitter", "hue", List.of(1.0 / 3, 1.0 / 3)));
    Image out = hue.apply(img, new SplittableRandom(0));
    // red (255,0,0) shifted by a third of the hue circle is (close to) green
    assertThat(out.get(0, 0, 0)).isLessThan(10f);
    assertThat(out.get(1, 0, 0)).isGreaterThan(240f);
    // gray (10,10,10) has no hue and stays
    assertThat(new float[] {out.get(0, 0, 1), out.get(1, 0, 1), out.get(2, 0, 1)}).containsExactly(10f, 10f, 10f);
    assertThat(d).hasSize(6);
  }

  @Test
  void grayscaleUsesPilLuma() {
    Image img = new Image(3, 1, 1, new float[] {100, 150, 200}, false);
    Image out = pipeline(Map.of("name", "RandomGrayscale", "p", 1.0)).apply(img, new SplittableRandom(0));
    float l = Math.round((100 * 299 + 150 * 587 + 200 * 114) / 1000f);
    assertThat(out.data()).containsExactly(l, l, l);
  }

  @Test
  void toTensorAndNormalize() {
    Image img = new Image(1, 1, 2, new float[] {0, 255}, false);
    Image out = pipeline(Map.of("name", "ToTensor"), Map.of("name", "Normalize", "mean", List.of(0.5), "std", List.of(0.25)))
        .apply(img, new SplittableRandom(0));
    assertThat(out.tensor()).isTrue();
    assertThat(out.data()[0]).isCloseTo(-2f, offset(1e-6f));
    assertThat(out.data()[1]).isCloseTo(2f, offset(1e-6f));
  }

  @Test
  void configMistakesNameTheEntry() {
    assertThatThrownBy(() -> pipeline(Map.of("name", "RandomResizeCrop", "size", 28L)))
        .isInstanceOf(ConfigError.class).hasMessageContaining("TRANSFORMS[0]").hasMessageContaining("did you mean 'RandomResizedCrop'");
    assertThatThrownBy(() -> pipeline(Map.of("name", "RandomResizedCrop", "size", 28L, "scales", List.of(0.2, 1.0))))
        .hasMessageContaining("unknown parameter 'scales'").hasMessageContaining("did you mean 'scale'");
    assertThatThrownBy(() -> pipeline(Map.of("name", "Normalize", "mean", List.of(0.5), "std", List.of(0.5))))
        .hasMessageContaining("put ToTensor before it");
    assertThatThrownBy(() -> pipeline(Map.of("name", "RandomResizedCrop")))
        .hasMessageContaining("'size' is required");
    assertThatThrownBy(() -> pipeline(Map.of("name", "ColorJitter", "hue", 0.7))).hasMessageContaining("[-0.5, 0.5]");
  }

  @Test
  void sameSeedSameAugmentation() {
    Transforms t = pipeline(Map.of("name", "ColorJitter", "brightness", 0.4, "contrast", 0.4, "saturation", 0.4, "hue", 0.4),
        Map.of("name", "RandomResizedCrop", "size", 16L), Map.of("name", "RandomHorizontalFlip"));
    Image src = ramp(3, 32, 32);
    assertThat(t.apply(src, new SplittableRandom(42)).data()).containsExactly(t.apply(src, new SplittableRandom(42)).data());
  }
}
