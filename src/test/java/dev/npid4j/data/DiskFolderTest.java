package dev.npid4j.data;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.npid4j.UserError;
import java.awt.image.BufferedImage;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import javax.imageio.ImageIO;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class DiskFolderTest {
  @Test
  void imageFolderLayoutSortedWithGrayForBrokenFiles(@TempDir Path root) throws IOException {
    Files.createDirectories(root.resolve("cat"));
    Files.createDirectories(root.resolve("ant"));
    write(root.resolve("cat/b.png"), 0xff0000, 5, 4, "png");
    write(root.resolve("cat/a.jpg"), 0x00ff00, 6, 6, "jpg");
    write(root.resolve("ant/z.png"), 0x0000ff, 3, 2, "png");
    Files.writeString(root.resolve("ant/broken.png"), "not a png");
    Files.writeString(root.resolve("ant/readme.txt"), "ignored");
    DiskFolder ds = new DiskFolder(root, 8);
    assertThat(ds.size()).isEqualTo(4);
    assertThat(ds.numClasses()).isEqualTo(2);
    // ant (0): broken.png, z.png ; cat (1): a.jpg, b.png
    assertThat(new int[] {ds.label(0), ds.label(1), ds.label(2), ds.label(3)}).containsExactly(0, 0, 1, 1);
    Image broken = ds.image(0);
    assertThat(new int[] {broken.channels(), broken.height(), broken.width()}).containsExactly(3, 8, 8);
    assertThat(broken.get(1, 0, 0)).isEqualTo(128f);
    assertThat(ds.unreadableCount()).isEqualTo(1);
    Image blue = ds.image(1);
    assertThat(new int[] {blue.height(), blue.width()}).containsExactly(2, 3);
    assertThat(new float[] {blue.get(0, 0, 0), blue.get(1, 0, 0), blue.get(2, 0, 0)}).containsExactly(0f, 0f, 255f);
    Image red = ds.image(3);
    assertThat(red.get(0, 1, 1)).isEqualTo(255f);
    assertThatThrownBy(() -> new DiskFolder(root.resolve("cat"), 8)).isInstanceOf(UserError.class).hasMessageContaining("no class sub-folders");
  }

  private static void write(Path p, int rgb, int w, int h, String format) throws IOException {
    BufferedImage img = new BufferedImage(w, h, BufferedImage.TYPE_INT_RGB);
    for (int y = 0; y < h; y++) {
      for (int x = 0; x < w; x++) {
        img.setRGB(x, y, rgb);
      }
    }
    ImageIO.write(img, format, p.toFile());
  }
}
