package dev.npid4j.data;

/** Indexed images with optional class labels. Implementations are safe for concurrent reads. */
public interface Dataset {
  int size();

  /** The decoded image (0..255 values), a fresh array the caller may modify. */
  Image image(int index);

  /** Class label, or -1 when the data set has none. */
  int label(int index);

  /** Every sample's label, in index order. */
  default long[] labels() {
    long[] out = new long[size()];
    for (int i = 0; i < out.length; i++) {
      out[i] = label(i);
    }
    return out;
  }

  /** Number of classes (max label + 1), 0 when unlabelled. */
  int numClasses();

  /** A short description for logs: source, split, path. */
  String describe();

  /** Class names by label index, when known (empty otherwise). */
  default java.util.List<String> classNames() {
    return java.util.List.of();
  }

  /**
   * Whether the labels were given as class names (VISSL's string label files), mapped to ids in
   * sorted order: {@link #classNames} is then the map VISSL writes as {split}_label_to_index_map.json.
   */
  default boolean labelsFromNames() {
    return false;
  }

  /** Files that could not be decoded so far (replaced by a gray image, VISSL's rule), sorted. */
  default java.util.List<String> unreadable() {
    return java.util.List.of();
  }
}
