package dev.npid4j.vissl;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.npid4j.cli.CliTestAccess;
import dev.npid4j.data.DatasetCatalog;
import dev.npid4j.torch.Torch;
import java.awt.image.BufferedImage;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import javax.imageio.ImageIO;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The files VISSL's own data tools write, built here the way those tools build them (np.save of
 * Python lists, with Debian's numpy): convert_folder_to_filelist's image list with class-name
 * labels (a {@code <U} string array), create_imagenet_data_files' absolute paths with int labels,
 * and dataset_catalog.json entries. CI (NPID4J_REQUIRE_PYTORCH=1) has numpy; elsewhere the test is
 * skipped without it.
 */
@Tag("e2e") // an end-to-end run: left out by mvn -B test -DexcludedGroups=e2e
class VisslDataToolsTest {
  static final List<String> CLASSES = List.of("dogs", "cats", "birds"); // not in sorted order on purpose

  @BeforeAll
  static void load() {
    Torch.load();
  }

  static void python(String script, Path... args) throws IOException, InterruptedException {
    String py = Files.isExecutable(Path.of("/usr/bin/python3")) ? "/usr/bin/python3" : "python3";
    Process check = new ProcessBuilder(py, "-c", "import numpy").redirectErrorStream(true).start();
    boolean numpy = check.waitFor(60, TimeUnit.SECONDS) && check.exitValue() == 0;
    if (!numpy) {
      if ("1".equals(System.getenv("NPID4J_REQUIRE_PYTORCH"))) {
        throw new AssertionError(py + " cannot import numpy: apt-get install python3-numpy");
      }
      Assumptions.abort("numpy not installed (apt-get install python3-numpy); CI runs this test");
    }
    String[] cmd = new String[args.length + 3];
    cmd[0] = py;
    cmd[1] = "-c";
    cmd[2] = script;
    for (int i = 0; i < args.length; i++) {
      cmd[i + 3] = args[i].toString();
    }
    Process p = new ProcessBuilder(cmd).redirectErrorStream(true).start();
    String out = new String(p.getInputStream().readAllBytes());
    assertThat(p.waitFor()).as(out).isZero();
  }

  /** An ImageFolder of small coloured squares, one shade per class. */
  static void imageFolder(Path root, int perClass) throws IOException {
    for (int c = 0; c < CLASSES.size(); c++) {
      Path d = Files.createDirectories(root.resolve(CLASSES.get(c)));
      for (int i = 0; i < perClass; i++) {
        BufferedImage img = new BufferedImage(20, 20, BufferedImage.TYPE_INT_RGB);
        for (int y = 0; y < 20; y++) {
          for (int x = 0; x < 20; x++) {
            img.setRGB(x, y, ((60 + 80 * c) << 16) | ((x * 12 + i * 7) % 256 << 8) | (y * 12 % 256));
          }
        }
        ImageIO.write(img, "png", d.resolve("img" + i + ".png").toFile());
      }
    }
  }

  /** convert_folder_to_filelist.py's way: class folders listed, paths and class names saved as Python lists. */
  static final String CONVERT_FOLDER = String.join("\n",
      "import os, sys, numpy as np",
      "src, out = sys.argv[1], sys.argv[2]",
      "for split in ['train', 'test']:",
      "    paths, labels = [], []",
      "    for label in os.listdir(os.path.join(src, split)):",
      "        for image in os.listdir(os.path.join(src, split, label)):",
      "            paths.append(os.path.join(src, split, label, image))",
      "            labels.append(label)",
      "    np.save(os.path.join(out, split + '_images.npy'), paths)",
      "    np.save(os.path.join(out, split + '_labels.npy'), labels)");

  @Test
  void stringLabelFileListsTrainAndWriteVisslsLabelMap(@TempDir Path dir) throws Exception {
    imageFolder(dir.resolve("data/train"), 8);
    imageFolder(dir.resolve("data/test"), 4);
    Path lists = Files.createDirectories(dir.resolve("lists"));
    python(CONVERT_FOLDER, dir.resolve("data"), lists);
    Path run = dir.resolve("run");
    var r = CliTestAccess.cli("train", "config=quickstart/npid_image_folder", "config.CHECKPOINT.DIR=" + run,
        "config.DATA.TRAIN.DATA_SOURCES=[disk_filelist]", "config.DATA.TRAIN.LABEL_SOURCES=[disk_filelist]",
        "config.DATA.TRAIN.DATA_PATHS=[" + lists.resolve("train_images.npy") + "]",
        "config.DATA.TRAIN.LABEL_PATHS=[" + lists.resolve("train_labels.npy") + "]",
        "config.DATA.TEST.DATA_SOURCES=[disk_filelist]", "config.DATA.TEST.LABEL_SOURCES=[disk_filelist]",
        "config.DATA.TEST.DATA_PATHS=[" + lists.resolve("test_images.npy") + "]",
        "config.DATA.TEST.LABEL_PATHS=[" + lists.resolve("test_labels.npy") + "]",
        "config.OPTIMIZER.num_epochs=1", "config.DATA.TRAIN.BATCHSIZE_PER_REPLICA=8",
        "config.LOSS.nce_loss_with_memory.negative_sampling_params.num_negatives=8", "config.KNN_MONITOR.TOPK=5");
    assertThat(r.code()).as(r.err()).isZero();
    assertThat(r.out()).contains("[knn] epoch 1: top-1");
    JsonNode train = new ObjectMapper().readTree(run.resolve("train_label_to_index_map.json").toFile());
    assertThat(train.toString()).isEqualTo("{\"birds\":0,\"cats\":1,\"dogs\":2}"); // VISSL's ids: the names sorted
    assertThat(run.resolve("test_label_to_index_map.json")).exists();
  }

  @Test
  void absolutePathListsWithIntLabelsAndCatalogEntries(@TempDir Path dir) throws Exception {
    imageFolder(dir.resolve("data/train"), 6);
    Path lists = Files.createDirectories(dir.resolve("lists"));
    // create_imagenet_data_files.py's way: absolute paths and int labels, np.array of Python lists
    python(String.join("\n",
        "import os, sys, numpy as np",
        "src, out = sys.argv[1], sys.argv[2]",
        "classes = sorted(os.listdir(os.path.join(src, 'train')))",
        "imgs, lbls = [], []",
        "for i, c in enumerate(classes):",
        "    for f in sorted(os.listdir(os.path.join(src, 'train', c))):",
        "        imgs.append(os.path.abspath(os.path.join(src, 'train', c, f)))",
        "        lbls.append(i)",
        "np.save(os.path.join(out, 'train_images.npy'), np.array(imgs))",
        "np.save(os.path.join(out, 'train_labels.npy'), np.array(lbls))"), dir.resolve("data"), lists);
    Path catalog = dir.resolve("dataset_catalog.json");
    Files.writeString(catalog, "{\"my_set\": {\"train\": [\"" + lists.resolve("train_images.npy") + "\", \""
        + lists.resolve("train_labels.npy") + "\"], \"val\": [\"<unused>\", \"<unused>\"]}}");
    assertThat(DatasetCatalog.paths("my_set", "TRAIN", Map.of("VISSL_DATASET_CATALOG_PATH", catalog.toString()), "config.DATA.TRAIN."))
        .containsExactly(lists.resolve("train_images.npy").toString(), lists.resolve("train_labels.npy").toString());
    Path run = dir.resolve("run");
    var r = CliTestAccess.cli("train", "config=quickstart/npid_image_folder", "config.CHECKPOINT.DIR=" + run,
        "config.DATA.TRAIN.DATA_SOURCES=[disk_filelist]", "config.DATA.TRAIN.LABEL_SOURCES=[disk_filelist]",
        "config.DATA.TRAIN.DATA_PATHS=[" + lists.resolve("train_images.npy") + "]",
        "config.DATA.TRAIN.LABEL_PATHS=[" + lists.resolve("train_labels.npy") + "]", "config.DATA.TEST.DATA_SOURCES=[]",
        "config.OPTIMIZER.num_epochs=1", "config.DATA.TRAIN.BATCHSIZE_PER_REPLICA=6",
        "config.LOSS.nce_loss_with_memory.negative_sampling_params.num_negatives=8");
    assertThat(r.code()).as(r.err()).isZero();
    assertThat(r.out()).contains("disk_filelist").contains("18 images, 3 labels");
    assertThat(run.resolve("train_label_to_index_map.json")).doesNotExist(); // int labels need no map
  }
}
