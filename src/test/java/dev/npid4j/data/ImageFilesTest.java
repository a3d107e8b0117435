package dev.npid4j.data;

import dev.npid4j.formats.Npy;
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

class ImageFilesTest {
  @Test
  void imageFolderLayoutSortedWithGrayForBrokenFiles(@TempDir Path root) throws IOException {
    Files.createDirectories(root.resolve("cat"));
    Files.createDirectories(root.resolve("ant"));
    write(root.resolve("cat/b.png"), 0xff0000, 5, 4, "png");
    write(root.resolve("cat/a.jpg"), 0x00ff00, 6, 6, "jpg");
    write(root.resolve("ant/z.png"), 0x0000ff, 3, 2, "png");
    Files.writeString(root.resolve("ant/broken.png"), "not a png");
    Files.writeString(root.resolve("ant/readme.txt"), "ignored");
    ImageFiles ds = ImageFiles.folder(root, 8);
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
    assertThatThrownBy(() -> ImageFiles.folder(root.resolve("cat"), 8)).isInstanceOf(UserError.class).hasMessageContaining("no class sub-folders");
  }

  @Test
  void textFileListWithLabelsAndRelativePaths(@TempDir Path root) throws IOException {
    Files.createDirectories(root.resolve("img"));
    write(root.resolve("img/r.png"), 0xff0000, 4, 4, "png");
    write(root.resolve("img/g.jpg"), 0x00ff00, 4, 4, "jpg");
    Files.writeString(root.resolve("list.txt"), "# path label\nimg/r.png 2\n\n" + root.resolve("img/g.jpg") + " 0\nimg/missing.png 1\n");
    ImageFiles ds = FileLists.open(root.resolve("list.txt"), null, 8, "config.DATA.TRAIN.DATA_PATHS");
    assertThat(ds.size()).isEqualTo(3);
    assertThat(ds.numClasses()).isEqualTo(3);
    assertThat(new int[] {ds.label(0), ds.label(1), ds.label(2)}).containsExactly(2, 0, 1);
    assertThat(ds.image(0).get(0, 0, 0)).isEqualTo(255f);
    assertThat(ds.image(2).get(0, 0, 0)).isEqualTo(128f); // missing file: VISSL's gray image, counted
    assertThat(ds.unreadable()).hasSize(1);
    assertThat(ds.describe()).contains("disk_filelist").contains("3 images");

    Files.writeString(root.resolve("bad.txt"), "img/r.png 1\nimg/g.jpg\n");
    assertThatThrownBy(() -> FileLists.open(root.resolve("bad.txt"), null, 8, "K")).isInstanceOf(UserError.class)
        .hasMessageContaining("label on some lines only");
    Files.writeString(root.resolve("bad2.txt"), "img/r.png cat\n");
    assertThatThrownBy(() -> FileLists.open(root.resolve("bad2.txt"), null, 8, "K")).isInstanceOf(UserError.class)
        .hasMessageContaining("line 1: label 'cat' is not a class index");
    assertThatThrownBy(() -> FileLists.open(root.resolve("nope.txt"), null, 8, "K")).isInstanceOf(UserError.class)
        .hasMessageContaining("does not exist");
  }

  /** VISSL's format: np.save of a '<U' string array of paths, labels in an int64 .npy (LABEL_PATHS). */
  @Test
  void npyFileListWithNpyLabels(@TempDir Path root) throws IOException {
    write(root.resolve("a.png"), 0x0000ff, 3, 3, "png");
    write(root.resolve("b.png"), 0xffffff, 3, 3, "png");
    writeUnicodeNpy(root.resolve("images.npy"), root.resolve("a.png").toString(), "b.png");
    dev.npid4j.formats.Npy.writeLongs(root.resolve("labels.npy"), new long[] {1, 0}, 2);
    ImageFiles ds = FileLists.open(root.resolve("images.npy"), root.resolve("labels.npy"), 8, "K");
    assertThat(ds.size()).isEqualTo(2);
    assertThat(new int[] {ds.label(0), ds.label(1)}).containsExactly(1, 0);
    assertThat(ds.image(0).get(2, 1, 1)).isEqualTo(255f);
    assertThat(ds.image(1).get(1, 0, 0)).isEqualTo(255f);
    ImageFiles unlabelled = FileLists.open(root.resolve("images.npy"), null, 8, "K");
    assertThat(unlabelled.numClasses()).isZero();
    dev.npid4j.formats.Npy.writeLongs(root.resolve("three.npy"), new long[] {1, 0, 1}, 3);
    assertThatThrownBy(() -> FileLists.open(root.resolve("images.npy"), root.resolve("three.npy"), 8, "K"))
        .isInstanceOf(UserError.class).hasMessageContaining("has 3 labels for 2 images");
  }

  @Test
  void datasetCatalogMapsNamesToPaths(@TempDir Path root) throws IOException {
    Path catalog = root.resolve("catalog.json");
    Files.writeString(catalog, "{\"tiny_folder\": {\"train\": [\"/data/t/train\", \"<unused>\"], \"val\": [\"/data/t/val\", \"<unused>\"]},"
        + " \"tiny_list\": {\"train\": [\"/data/l/x.npy\", \"/data/l/y.npy\"]}}");
    var env = java.util.Map.of("NPID4J_DATASET_CATALOG", catalog.toString());
    assertThat(DatasetCatalog.paths("tiny_folder", "TRAIN", env, "K.")).containsExactly("/data/t/train", "");
    assertThat(DatasetCatalog.paths("tiny_folder", "TEST", env, "K.")).containsExactly("/data/t/val", "");
    assertThat(DatasetCatalog.paths("tiny_list", "TRAIN", env, "K.")).containsExactly("/data/l/x.npy", "/data/l/y.npy");
    assertThatThrownBy(() -> DatasetCatalog.paths("imagenet1k_folder", "TRAIN", env, "K.")).isInstanceOf(UserError.class)
        .hasMessageContaining("'imagenet1k_folder' is not in the dataset catalog").hasMessageContaining("tiny_folder");
    assertThatThrownBy(() -> DatasetCatalog.paths("tiny_list", "TEST", env, "K.")).isInstanceOf(UserError.class)
        .hasMessageContaining("has no test or val split");
    assertThatThrownBy(() -> DatasetCatalog.paths("x", "TRAIN", java.util.Map.of("NPID4J_DATASET_CATALOG", root.resolve("no.json").toString()), "K."))
        .isInstanceOf(UserError.class).hasMessageContaining("no dataset catalog at");
  }

  /** A 1-d NumPy '<U' array as np.save writes it (UTF-32LE, fixed width, NUL-padded). */
  static void writeUnicodeNpy(Path file, String... values) throws IOException {
    int width = java.util.Arrays.stream(values).mapToInt(String::length).max().orElse(1);
    String header = "{'descr': '<U" + width + "', 'fortran_order': False, 'shape': (" + values.length + ",), }";
    int pad = 64 - (10 + header.length() + 1) % 64;
    header = header + " ".repeat(pad % 64) + "\n";
    java.io.ByteArrayOutputStream out = new java.io.ByteArrayOutputStream();
    out.write(new byte[] {(byte) 0x93, 'N', 'U', 'M', 'P', 'Y', 1, 0});
    out.write(header.length() & 0xff);
    out.write(header.length() >> 8);
    out.write(header.getBytes(java.nio.charset.StandardCharsets.US_ASCII));
    for (String v : values) {
      byte[] b = v.getBytes(java.nio.charset.Charset.forName("UTF-32LE"));
      out.write(b);
      out.write(new byte[4 * width - b.length]);
    }
    Files.write(file, out.toByteArray());
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
