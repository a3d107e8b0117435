package dev.npid4j.data;

import static org.assertj.core.api.Assertions.assertThat;

import dev.npid4j.data.transform.Transforms;
import java.awt.image.BufferedImage;
import java.io.IOException;
import java.lang.management.ManagementFactory;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Iterator;
import java.util.List;
import java.util.Map;
import java.util.Random;
import javax.imageio.ImageIO;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The loader's reused arrays (ImageBuffers, pooled batch arrays) change nothing in the batches,
 * and a warmed-up loader allocates no pixel, file or batch arrays.
 */
class LoaderReuseTest {
  /** An eval pipeline whose center crop is larger than the resized image (zero padding). */
  static Transforms paddedEvalTransforms() {
    return Transforms.fromConfig(List.of(
        Map.of("name", "Resize", "size", 40L),
        Map.of("name", "CenterCrop", "size", 48L),
        Map.of("name", "ToTensor")), "T");
  }

  /** VISSL's NPID training transforms (at 48 px), plus blur. */
  static Transforms npidTransforms() {
    return Transforms.fromConfig(List.of(
        Map.of("name", "RandomResizedCrop", "size", 48L),
        Map.of("name", "RandomGrayscale", "p", 0.2),
        Map.of("name", "ColorJitter", "brightness", 0.4, "contrast", 0.4, "saturation", 0.4, "hue", 0.4),
        Map.of("name", "GaussianBlur", "kernel_size", 5L, "sigma", List.of(0.1, 2.0)),
        Map.of("name", "RandomHorizontalFlip"),
        Map.of("name", "ToTensor"),
        Map.of("name", "Normalize", "mean", List.of(0.485, 0.456, 0.406), "std", List.of(0.229, 0.224, 0.225))), "T");
  }

  static ImageFiles folder(Path root, boolean jpegOnly) throws IOException {
    Random r = new Random(7);
    int[][] sizes = {{120, 90}, {97, 131}, {200, 150}, {64, 64}, {150, 200}, {33, 47}};
    for (int i = 0; i < 18; i++) {
      Path dir = root.resolve("c" + (i % 3));
      Files.createDirectories(dir);
      int[] s = sizes[i % sizes.length];
      boolean gray = i % 5 == 4;
      BufferedImage img = new BufferedImage(s[0], s[1], gray ? BufferedImage.TYPE_BYTE_GRAY : BufferedImage.TYPE_3BYTE_BGR);
      for (int y = 0; y < s[1]; y++) {
        for (int x = 0; x < s[0]; x++) {
          img.setRGB(x, y, (x * 255 / s[0]) << 16 | (y * 255 / s[1]) << 8 | r.nextInt(256));
        }
      }
      boolean png = !jpegOnly && i % 4 == 3;
      ImageIO.write(img, png ? "png" : "jpg", dir.resolve("img" + i + (png ? ".png" : ".jpg")).toFile());
    }
    if (!jpegOnly) {
      Files.writeString(root.resolve("c0/broken.jpg"), "not a jpeg"); // the gray fallback takes part too
    }
    return ImageFiles.folder(root, 40);
  }

  @Test
  void reusedArraysGiveTheSameBatchesAsFreshOnes(@TempDir Path root) throws IOException {
    ImageFiles data = folder(root, false);
    int[] order = new int[data.size()];
    for (int i = 0; i < order.length; i++) {
      order[i] = (i * 7) % order.length;
    }
    for (Transforms t : List.of(npidTransforms(), paddedEvalTransforms())) {
      for (int workers : new int[] {0, 2}) {
        assertBatchesMatchFreshTransforms(data, t, order, workers);
      }
    }
  }

  private static void assertBatchesMatchFreshTransforms(ImageFiles data, Transforms t, int[] order, int workers) {
    try (BatchLoader loader = new BatchLoader(data, t, 4, false, workers, 3)) {
      for (int epoch = 0; epoch < 3; epoch++) {
        Iterator<Batch> it = loader.epoch(epoch, order, 0);
        int pos = 0;
        while (it.hasNext()) {
          Batch b = it.next();
          int per = b.channels() * b.height() * b.width();
          for (int i = 0; i < b.size(); i++) {
            int idx = order[pos + i];
            // outside the loader: fresh arrays, no reuse
            Image fresh = t.apply(data.image(idx), loader.imageRandom(epoch, idx));
            float[] got = java.util.Arrays.copyOfRange(b.images(), i * per, (i + 1) * per);
            assertThat(got).as("workers %d epoch %d sample %d", workers, epoch, idx).containsExactly(fresh.pixels());
          }
          pos += b.size();
        }
      }
    }
  }

  @Test
  void warmLoaderAllocatesNoArrays(@TempDir Path root) throws IOException {
    ImageFiles data = folder(root, true); // the JPEG path (PNG goes through ImageIO, which allocates its own raster)
    Transforms t = npidTransforms();
    int[] order = new int[16]; // 4 full batches: no short last batch
    for (int i = 0; i < order.length; i++) {
      order[i] = i;
    }
    com.sun.management.ThreadMXBean mx = (com.sun.management.ThreadMXBean) ManagementFactory.getThreadMXBean();
    try (BatchLoader loader = new BatchLoader(data, t, 4, false, 0, 3)) { // 0 workers: built on this thread
      List<Long> perImage = new ArrayList<>();
      long arrays = 0;
      for (int epoch = 0; epoch < 6; epoch++) {
        if (epoch == 2) {
          arrays = ImageBuffers.enter().arraysAllocated();
          ImageBuffers.enter().exit();
        }
        long before = mx.getCurrentThreadAllocatedBytes();
        Iterator<Batch> it = loader.epoch(epoch, order, 0);
        while (it.hasNext()) {
          it.next();
        }
        perImage.add((mx.getCurrentThreadAllocatedBytes() - before) / order.length);
      }
      ImageBuffers mine = ImageBuffers.enter();
      mine.exit();
      System.out.println("loader bytes allocated per image, epochs 1-6: " + perImage + "; batch arrays allocated: "
          + loader.batchArraysAllocated());
      assertThat(mine.arraysAllocated()).as("pixel/file arrays allocated after two warm-up epochs").isEqualTo(arrays);
      assertThat(loader.batchArraysAllocated()).isLessThanOrEqualTo(4);
      // small objects remain (records, random streams, JavaCPP handles); a decoded picture alone is 100-360 KB
      for (long b : perImage.subList(2, perImage.size())) {
        assertThat(b).isLessThan(16_384);
      }
    }
  }
}
