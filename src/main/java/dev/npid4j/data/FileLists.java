package dev.npid4j.data;

import dev.npid4j.UserError;
import dev.npid4j.formats.Npy;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Locale;

/**
 * VISSL's {@code disk_filelist}: the images of a split listed in a file instead of a folder tree.
 *
 * <ul>
 *   <li>{@code .npy}: a 1-d string array of image paths (VISSL's format), with labels, when
 *       LABEL_SOURCES holds disk_filelist, in a 1-d int array given by LABEL_PATHS.
 *   <li>any other file: plain text, one image per line, {@code path} or {@code path label}
 *       (whitespace-separated, the label an integer); blank lines and lines starting with # are
 *       skipped.
 * </ul>
 *
 * Relative paths are resolved against the list file's folder. Labels are class indices; the
 * classes are 0..max label.
 */
public final class FileLists {
  private FileLists() {}

  /**
   * @param list the list file
   * @param labelFile a .npy of labels, or null
   * @param where the config key that named the list (for messages)
   */
  public static ImageFiles open(Path list, Path labelFile, int grayFallbackSize, String where) {
    if (!Files.isRegularFile(list)) {
      throw new UserError(where + ": the file list " + list + " does not exist");
    }
    List<Path> files = new ArrayList<>();
    int[] labels;
    try {
      if (list.getFileName().toString().toLowerCase(Locale.ROOT).endsWith(".npy")) {
        for (String p : Npy.readStrings(list)) {
          files.add(resolve(list, p));
        }
        labels = new int[files.size()];
        Arrays.fill(labels, -1);
      } else {
        List<Integer> lab = new ArrayList<>();
        int lineNo = 0;
        for (String line : lines(list, where)) {
          lineNo++;
          String t = line.strip();
          if (t.isEmpty() || t.startsWith("#")) {
            continue;
          }
          String[] parts = t.split("\\s+");
          if (parts.length > 2) {
            throw new UserError(where + ": " + list + " line " + lineNo + " has " + parts.length
                + " fields; expected 'path' or 'path label' (a path with spaces needs the .npy format)");
          }
          files.add(resolve(list, parts[0]));
          lab.add(parts.length == 2 ? parseLabel(parts[1], list, lineNo, where) : -1);
        }
        labels = lab.stream().mapToInt(Integer::intValue).toArray();
        boolean some = lab.stream().anyMatch(x -> x >= 0);
        boolean all = lab.stream().allMatch(x -> x >= 0);
        if (some && !all) {
          throw new UserError(where + ": " + list + " gives a label on some lines only; give one on every line or on none");
        }
      }
    } catch (IOException e) {
      String m = String.valueOf(e.getMessage());
      throw new UserError(where + ": cannot read the file list " + list + ": " + (m.startsWith(list + ": ") ? m.substring(list.toString().length() + 2) : m));
    }
    if (files.isEmpty()) {
      throw new UserError(where + ": the file list " + list + " holds no images");
    }
    List<String> classes = new ArrayList<>();
    boolean named = false;
    if (labelFile != null) {
      named = namedLabels(labelFile, where);
      if (named) {
        List<String> names = readNames(labelFile, files.size(), where);
        classes.addAll(new java.util.TreeSet<>(names)); // VISSL's ids: the names in sorted order
        labels = names.stream().mapToInt(n -> java.util.Collections.binarySearch(classes, n)).toArray();
      } else {
        labels = readLabels(labelFile, files.size(), where);
      }
    }
    if (!named && labels.length > 0 && labels[0] >= 0) {
      int max = Arrays.stream(labels).max().orElse(-1);
      if (max >= MAX_CLASSES) {
        throw new UserError(where + ": label " + max + " implies " + (max + 1L) + " classes, over the limit of " + MAX_CLASSES
            + " (labels are class indices 0..classes-1)");
      }
      for (int c = 0; c <= max; c++) {
        classes.add(Integer.toString(c));
      }
    }
    String what = classes.isEmpty() ? "unlabelled" : Arrays.stream(labels).distinct().count() + " labels";
    ImageFiles images = ImageFiles.list("disk_filelist " + list + " (" + files.size() + " images, " + what + ")", files, labels, classes,
        grayFallbackSize);
    return named ? images.withLabelsFromNames() : images;
  }

  /** Longest line of a text file list: far above any path (PATH_MAX is 4096). */
  static final int MAX_LINE = 65_536;
  /** Most classes the labels may imply (0..max label): ImageNet-22k has 21,841. */
  static final int MAX_CLASSES = 1 << 20;

  /** The lines of a text file list, each checked for length as it is read (a file without newlines is not held whole). */
  private static List<String> lines(Path list, String where) throws IOException {
    List<String> out = new ArrayList<>();
    try (java.io.Reader r = new java.io.InputStreamReader(Files.newInputStream(list),
        StandardCharsets.UTF_8.newDecoder().onMalformedInput(java.nio.charset.CodingErrorAction.REPORT))) {
      StringBuilder line = new StringBuilder();
      char[] buf = new char[1 << 16];
      int n;
      while ((n = r.read(buf)) > 0) {
        for (int i = 0; i < n; i++) {
          char c = buf[i];
          if (c == '\n') {
            out.add(line.toString());
            line.setLength(0);
          } else if (line.length() >= MAX_LINE) {
            throw new UserError(where + ": " + list + " line " + (out.size() + 1) + " is longer than " + MAX_LINE
                + " characters: not a file list");
          } else {
            line.append(c);
          }
        }
      }
      if (line.length() > 0) {
        out.add(line.toString());
      }
    }
    return out;
  }

  private static boolean namedLabels(Path labelFile, String where) {
    if (!Files.isRegularFile(labelFile)) {
      throw new UserError(where + ": the label file " + labelFile + " does not exist");
    }
    try {
      return labelFile.getFileName().toString().endsWith(".npy") && Npy.holdsStrings(labelFile);
    } catch (IOException e) {
      throw new UserError(where + ": cannot read the labels " + labelFile + ": " + e.getMessage());
    }
  }

  /** Class names, one per image (VISSL's convert_folder_to_filelist saves the class folders' names). */
  private static List<String> readNames(Path labelFile, int count, String where) {
    List<String> names;
    try {
      names = Npy.readStrings(labelFile);
    } catch (IOException e) {
      throw new UserError(where + ": cannot read the labels " + labelFile + ": " + e.getMessage());
    }
    if (names.size() != count) {
      throw new UserError(where + ": " + labelFile + " has " + names.size() + " labels for " + count + " images");
    }
    return names;
  }

  private static int[] readLabels(Path labelFile, int count, String where) {
    if (!Files.isRegularFile(labelFile)) {
      throw new UserError(where + ": the label file " + labelFile + " does not exist");
    }
    Npy.Array a;
    try {
      a = Npy.read(labelFile);
    } catch (IOException e) {
      throw new UserError(where + ": cannot read the labels " + labelFile + ": " + e.getMessage());
    }
    if (a.longs() == null) {
      throw new UserError(where + ": " + labelFile + " must hold integer labels (int64 or int32), not floats");
    }
    if (a.longs().length != count) {
      throw new UserError(where + ": " + labelFile + " has " + a.longs().length + " labels for " + count + " images");
    }
    int[] out = new int[count];
    for (int i = 0; i < count; i++) {
      long l = a.longs()[i];
      if (l < 0 || l > Integer.MAX_VALUE) {
        throw new UserError(where + ": " + labelFile + " label " + i + " is " + l + "; labels are class indices >= 0");
      }
      out[i] = (int) l;
    }
    return out;
  }

  private static int parseLabel(String s, Path list, int lineNo, String where) {
    try {
      int l = Integer.parseInt(s);
      if (l < 0) {
        throw new NumberFormatException();
      }
      return l;
    } catch (NumberFormatException e) {
      throw new UserError(where + ": " + list + " line " + lineNo + ": label '" + s + "' is not a class index (an integer >= 0)");
    }
  }

  private static Path resolve(Path list, String p) {
    Path path;
    try {
      path = Path.of(p);
    } catch (java.nio.file.InvalidPathException e) {
      throw new UserError(list + ": '" + p.replace("\0", "\\0") + "' is not a path (" + e.getReason() + ")");
    }
    return path.isAbsolute() ? path : list.toAbsolutePath().getParent().resolve(path).normalize();
  }
}
