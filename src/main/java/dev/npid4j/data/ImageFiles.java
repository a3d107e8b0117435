package dev.npid4j.data;

import dev.npid4j.UserError;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Locale;
import java.util.Set;
import java.util.stream.Stream;

/**
 * A data set of image files with optional class labels: VISSL's {@code disk_folder}
 * ({@link #folder}: torchvision's ImageFolder layout, one sub-folder per class, classes sorted,
 * files sorted within each class, label = class index) and {@code disk_filelist}
 * ({@link #list}, see {@link FileLists}). Images are decoded to RGB as Pillow does ({@link ImageDecoder}). As in
 * VISSL, an image that cannot be read becomes a gray image (value 128) under its index, and is
 * counted.
 */
public final class ImageFiles implements Dataset {
  static final Set<String> EXTENSIONS = Set.of(".jpg", ".jpeg", ".png", ".ppm", ".bmp", ".pgm", ".tif", ".tiff", ".webp");

  private final String description;
  private final List<Path> files;
  private final int[] labels;
  private final List<String> classes;
  private final int grayFallbackSize;
  private boolean labelsFromNames;
  private long maxPixels = ImageDecoder.PILLOW_MAX_PIXELS;
  private final java.util.concurrent.ConcurrentSkipListSet<String> unreadable = new java.util.concurrent.ConcurrentSkipListSet<>();

  private ImageFiles(String description, List<Path> files, int[] labels, List<String> classes, int grayFallbackSize) {
    this.description = description;
    this.files = files;
    this.labels = labels;
    this.classes = classes;
    this.grayFallbackSize = grayFallbackSize;
  }

  /** Files with labels in [0, classes.size()) (or all -1 and no classes: unlabelled). */
  public static ImageFiles list(String description, List<Path> files, int[] labels, List<String> classes, int grayFallbackSize) {
    if (files.size() != labels.length) {
      throw new IllegalArgumentException(files.size() + " files but " + labels.length + " labels");
    }
    return new ImageFiles(description, List.copyOf(files), labels.clone(), List.copyOf(classes), grayFallbackSize);
  }

  /** The same files, decoded with a pixel limit of {@code maxPixels} (config.DATA.MAX_IMAGE_PIXELS). */
  ImageFiles withMaxPixels(long maxPixels) {
    this.maxPixels = maxPixels;
    return this;
  }

  /** The same files, their labels marked as read from class names (see {@link Dataset#labelsFromNames}). */
  ImageFiles withLabelsFromNames() {
    labelsFromNames = true;
    return this;
  }

  @Override
  public boolean labelsFromNames() {
    return labelsFromNames;
  }

  /** The ImageFolder layout under {@code root}. */
  public static ImageFiles folder(Path root, int grayFallbackSize) {
    if (!Files.isDirectory(root)) {
      throw new UserError("disk_folder: " + root + " is not a folder (expected class sub-folders of images)");
    }
    List<Path> classDirs;
    try (Stream<Path> s = Files.list(root)) {
      classDirs = s.filter(Files::isDirectory).sorted().toList();
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
    if (classDirs.isEmpty()) {
      throw new UserError("disk_folder: " + root + " has no class sub-folders (ImageFolder layout: root/<class>/<image>)");
    }
    List<Path> all = new ArrayList<>();
    List<Integer> lab = new ArrayList<>();
    List<String> classes = new ArrayList<>();
    for (int c = 0; c < classDirs.size(); c++) {
      classes.add(classDirs.get(c).getFileName().toString());
      try (Stream<Path> s = Files.walk(classDirs.get(c))) {
        for (Path p : s.filter(Files::isRegularFile).filter(ImageFiles::isImageName).sorted().toList()) {
          all.add(p);
          lab.add(c);
        }
      } catch (IOException e) {
        throw new UncheckedIOException(e);
      }
    }
    if (all.isEmpty()) {
      throw new UserError("disk_folder: no images (" + String.join(", ", EXTENSIONS.stream().sorted().toList()) + ") under " + root);
    }
    return new ImageFiles("disk_folder " + root + " (" + all.size() + " images, " + classes.size() + " classes)", all,
        lab.stream().mapToInt(Integer::intValue).toArray(), classes, grayFallbackSize);
  }

  static boolean isImageName(Path p) {
    String n = p.getFileName().toString().toLowerCase(Locale.ROOT);
    int dot = n.lastIndexOf('.');
    return dot >= 0 && EXTENSIONS.contains(n.substring(dot));
  }

  @Override
  public int size() {
    return files.size();
  }

  @Override
  public Image image(int index) {
    Image img;
    String why = "";
    try {
      img = ImageDecoder.decode(files.get(index), maxPixels);
    } catch (ImageDecoder.TooManyPixels e) {
      img = null;
      why = " (" + e.getMessage() + ")";
    }
    if (img == null) {
      if (unreadable.add(files.get(index).toString()) && (unreadable.size() <= 5 || !why.isEmpty())) {
        System.err.println("npid4j: warning: cannot decode " + files.get(index) + why + "; using a gray image (VISSL's rule)");
      }
      int n = 3 * grayFallbackSize * grayFallbackSize;
      float[] gray = ImageBuffers.take(n);
      Arrays.fill(gray, 0, n, 128f);
      return new Image(3, grayFallbackSize, grayFallbackSize, gray, false);
    }
    return img;
  }

  @Override
  public int label(int index) {
    return labels[index];
  }

  @Override
  public List<String> classNames() {
    return classes;
  }

  @Override
  public int numClasses() {
    return classes.size();
  }

  /** Images that could not be decoded so far. */
  public int unreadableCount() {
    return unreadable.size();
  }

  @Override
  public List<String> unreadable() {
    return List.copyOf(unreadable);
  }

  @Override
  public String describe() {
    return description;
  }
}
