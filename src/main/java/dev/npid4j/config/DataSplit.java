package dev.npid4j.config;

import dev.npid4j.data.transform.Transforms;
import java.util.List;
import java.util.Set;

/**
 * One split of DATA (TRAIN or TEST).
 *
 * @param transforms TRANSFORMS, parsed; {@code transformsGiven} says whether the config had any
 */
public record DataSplit(
    String name,
    List<String> sources,
    List<String> datasetNames,
    List<String> dataPaths,
    List<String> labelSources,
    List<String> labelPaths,
    String labelType,
    int batchSize,
    Transforms transforms,
    boolean transformsGiven,
    long dataLimit,
    boolean dropLast,
    int syntheticImageSize,
    int syntheticClasses,
    long maxImagePixels) {
  public boolean isEmpty() {
    return sources.isEmpty();
  }

  static DataSplit read(ConfigTree t, String name) {
    String p = "config." + "DATA." + name + ".";
    List<String> sources = Values.strings(t, p + "DATA_SOURCES");
    Set<String> known = Set.of("fashion_mnist", "synthetic", "disk_folder", "disk_filelist");
    for (String s : sources) {
      if (!known.contains(s)) {
        String hint = Keys.closest(s, known);
        throw new ConfigError(p + "DATA_SOURCES: unknown data source '" + s + "'"
            + (hint != null ? "; did you mean '" + hint + "'?" : "") + " (available: fashion_mnist, disk_folder, disk_filelist, synthetic)");
      }
    }
    if (sources.size() > 1) {
      throw new ConfigError(p + "DATA_SOURCES: npid4j reads one data source per split, got " + sources);
    }
    String labelType = t.getString(p + "LABEL_TYPE");
    if (!Set.of("standard", "sample_index", "zero").contains(labelType)) {
      throw new ConfigError(p + "LABEL_TYPE must be standard, sample_index or zero, got '" + labelType + "'");
    }
    long limit = t.getLong(p + "DATA_LIMIT");
    if (sources.contains("synthetic") && limit <= 0) {
      throw new ConfigError(p + "DATA_LIMIT must be > 0 for the synthetic source (it is the number of images)");
    }
    return new DataSplit(name, sources, Values.strings(t, p + "DATASET_NAMES"), Values.strings(t, p + "DATA_PATHS"),
        Values.strings(t, p + "LABEL_SOURCES"), Values.strings(t, p + "LABEL_PATHS"), labelType, Values.positive(t, p + "BATCHSIZE_PER_REPLICA"),
        Transforms.fromConfig(t.getList(p + "TRANSFORMS"), p + "TRANSFORMS"), !t.getList(p + "TRANSFORMS").isEmpty(), limit, t.getBool(p + "DROP_LAST"), Values.positive(t, p + "DEFAULT_GRAY_IMG_SIZE"),
        Values.nonNegative(t, p + "RANDOM_SYNTHETIC_LABELS"), maxImagePixels(t));
  }

  /** config.DATA.MAX_IMAGE_PIXELS: images whose header declares more are refused before decoding, as Pillow's limit. */
  private static long maxImagePixels(ConfigTree t) {
    String key = "config.DATA.MAX_IMAGE_PIXELS";
    long v = t.getLong(key);
    long hard = dev.npid4j.data.Image.HARD_MAX_PIXELS;
    if (v < 1 || v > hard) {
      throw new ConfigError(key + " must be 1.." + hard + " (3 planes of float pixels fill one Java array), got " + v);
    }
    return v;
  }
}
