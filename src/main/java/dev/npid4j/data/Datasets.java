package dev.npid4j.data;

import dev.npid4j.UserError;
import dev.npid4j.config.DataSplit;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;

/** Opens the data set a config split names, resolving where its files live. */
public final class Datasets {
  /** Where Debian's dataset-fashion-mnist package puts the files. */
  public static final Path DEBIAN_FASHION_MNIST = Path.of("/usr/share/datasets/fashion-mnist");

  private Datasets() {}

  /**
   * The split's data set, DATA_LIMIT applied, converted to {@code channels}. Fashion-MNIST is
   * looked for in DATA_PATHS[0], then $NPID4J_DATA, then Debian's location (installed on demand).
   */
  public static Dataset open(DataSplit split, int channels, long seed) {
    String key = "config.DATA." + split.name() + ".";
    String source = split.sources().get(0);
    Dataset ds = switch (source) {
      case "fashion_mnist" -> FashionMnist.read(fashionMnistDir(split, key), split.name().equals("TRAIN") ? "train" : "test");
      case "synthetic" -> new SyntheticDataset((int) split.dataLimit(), channels, split.syntheticImageSize(),
          split.syntheticClasses(), seed + (split.name().equals("TRAIN") ? 0 : 7919));
      case "disk_folder" -> {
        List<String> paths = paths(split, key);
        yield ImageFiles.folder(Path.of(paths.get(0)), split.syntheticImageSize()).withMaxPixels(split.maxImagePixels());
      }
      case "disk_filelist" -> {
        List<String> paths = paths(split, key);
        boolean labelled = split.labelSources().contains("disk_filelist");
        if (labelled && paths.get(1).isEmpty()) {
          throw new UserError(key + "LABEL_SOURCES has disk_filelist but " + key + "LABEL_PATHS is empty: give the .npy of labels");
        }
        yield FileLists.open(Path.of(paths.get(0)), labelled ? Path.of(paths.get(1)) : null, split.syntheticImageSize(),
            key + "DATA_PATHS").withMaxPixels(split.maxImagePixels());
      }
      default -> throw new IllegalStateException("unvalidated data source " + source);
    };
    if (split.dataLimit() >= 0 && split.dataLimit() < ds.size()) {
      ds = new SubsetDataset(ds, (int) split.dataLimit(), 0);
    }
    if (ds.size() == 0) {
      throw new UserError(key + "DATA_LIMIT leaves no images in " + ds.describe());
    }
    return new ChannelAdapter(ds, channels);
  }

  /**
   * Checks that the split's data is where the config says, without reading it: the folder or
   * file list exists (a missing ImageNet path is one line before any rank or loader starts).
   */
  public static void checkPresent(DataSplit split) {
    String key = "config.DATA." + split.name() + ".";
    String source = split.sources().get(0);
    switch (source) {
      case "fashion_mnist" -> fashionMnistDir(split, key);
      case "disk_folder", "disk_filelist" -> {
        List<String> p = paths(split, key);
        Path data = Path.of(p.get(0));
        boolean ok = source.equals("disk_folder") ? Files.isDirectory(data) : Files.isRegularFile(data);
        if (!ok) {
          throw new UserError(key + (split.dataPaths().isEmpty() ? "DATASET_NAMES (" + split.datasetNames().get(0) + ")" : "DATA_PATHS")
              + ": " + data + " is not " + (source.equals("disk_folder") ? "a folder" : "a file")
              + " here; point " + key + "DATA_PATHS at the " + split.name().toLowerCase(java.util.Locale.ROOT) + " images");
        }
      }
      default -> {
        // synthetic: nothing on disk
      }
    }
  }

  /**
   * [data path, label path or ""]: DATA_PATHS[0] and LABEL_PATHS[0], or, when DATA_PATHS is
   * empty, DATASET_NAMES[0] looked up in the dataset catalog (VISSL's rule).
   */
  static List<String> paths(DataSplit split, String key) {
    if (!split.dataPaths().isEmpty()) {
      return List.of(split.dataPaths().get(0), split.labelPaths().isEmpty() ? "" : split.labelPaths().get(0));
    }
    if (!split.datasetNames().isEmpty()) {
      List<String> p = DatasetCatalog.paths(split.datasetNames().get(0), split.name(), System.getenv(), key);
      return List.of(p.get(0), split.labelPaths().isEmpty() ? p.get(1) : split.labelPaths().get(0));
    }
    String what = split.sources().get(0).equals("disk_folder")
        ? "the ImageFolder root (class sub-folders of images), e.g. " + key + "DATA_PATHS=[/data/imagenet/train]"
        : "a file list (.npy of image paths, or a text file of 'path [label]' lines), e.g. " + key
            + "DATA_PATHS=[/data/imagenet/train_images.npy]";
    throw new UserError(key + "DATA_PATHS: " + split.sources().get(0) + " needs " + what + " (or DATASET_NAMES and a dataset catalog)");
  }

  static Path fashionMnistDir(DataSplit split, String key) {
    if (!split.dataPaths().isEmpty()) {
      Path p = Path.of(split.dataPaths().get(0));
      if (!FashionMnist.presentIn(p)) {
        throw new UserError(key + "DATA_PATHS: no Fashion-MNIST files in " + p
            + " (expected train-images-idx3-ubyte.gz, train-labels-idx1-ubyte.gz, t10k-images-idx3-ubyte.gz, t10k-labels-idx1-ubyte.gz)");
      }
      return p;
    }
    String env = System.getenv("NPID4J_DATA");
    if (env != null && !env.isBlank()) {
      Path root = Path.of(env);
      for (Path p : new Path[] {root, root.resolve("fashion-mnist")}) {
        if (FashionMnist.presentIn(p)) {
          return p;
        }
      }
      throw new UserError("NPID4J_DATA=" + env + " holds no Fashion-MNIST files (neither there nor in its fashion-mnist/ folder)");
    }
    if (!FashionMnist.presentIn(DEBIAN_FASHION_MNIST)) {
      DebianPackages.install("dataset-fashion-mnist", DEBIAN_FASHION_MNIST,
          ", or point " + key + "DATA_PATHS or $NPID4J_DATA at a folder with the Fashion-MNIST IDX files");
      if (!Files.isDirectory(DEBIAN_FASHION_MNIST) || !FashionMnist.presentIn(DEBIAN_FASHION_MNIST)) {
        throw new UserError(DEBIAN_FASHION_MNIST + " does not hold the Fashion-MNIST files after installing dataset-fashion-mnist");
      }
    }
    return DEBIAN_FASHION_MNIST;
  }
}
