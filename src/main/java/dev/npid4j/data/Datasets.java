package dev.npid4j.data;

import dev.npid4j.UserError;
import dev.npid4j.config.RunConfig.DataSplit;
import java.nio.file.Files;
import java.nio.file.Path;

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
        if (split.dataPaths().isEmpty()) {
          throw new UserError(key + "DATA_PATHS: disk_folder needs the ImageFolder root (class sub-folders of images),"
              + " e.g. " + key + "DATA_PATHS=[/data/imagenet/train]");
        }
        yield new DiskFolder(Path.of(split.dataPaths().get(0)), split.syntheticImageSize());
      }
      default -> throw new UserError(key + "DATA_SOURCES: unknown source " + source);
    };
    if (split.dataLimit() >= 0 && split.dataLimit() < ds.size()) {
      ds = new SubsetDataset(ds, (int) split.dataLimit(), 0);
    }
    if (ds.size() == 0) {
      throw new UserError(key + "DATA_LIMIT leaves no images in " + ds.describe());
    }
    return new ChannelAdapter(ds, channels);
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
