package dev.npid4j.data;

import dev.npid4j.UserError;
import java.io.DataInputStream;
import java.io.IOException;
import java.io.InputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.zip.GZIPInputStream;

/**
 * Fashion-MNIST from its IDX files ({@code train-images-idx3-ubyte[.gz]} and friends), held in
 * memory as bytes: 60,000 training or 10,000 test images of 28x28, 10 classes.
 */
public final class FashionMnist implements Dataset {
  public static final String[] CLASSES = {
      "T-shirt/top", "Trouser", "Pullover", "Dress", "Coat", "Sandal", "Shirt", "Sneaker", "Bag", "Ankle boot"};

  private final String split;
  private final Path dir;
  private final byte[] pixels;
  private final byte[] labels;
  private final int rows;
  private final int cols;

  private FashionMnist(String split, Path dir, byte[] pixels, byte[] labels, int rows, int cols) {
    this.split = split;
    this.dir = dir;
    this.pixels = pixels;
    this.labels = labels;
    this.rows = rows;
    this.cols = cols;
  }

  /** Reads split "train" or "test" ("t10k" files) from {@code dir}. */
  public static FashionMnist read(Path dir, String split) {
    String prefix = split.equals("train") ? "train" : "t10k";
    Path images = find(dir, prefix + "-images-idx3-ubyte");
    Path labelFile = find(dir, prefix + "-labels-idx1-ubyte");
    try (DataInputStream in = open(images)) {
      expectMagic(in.readInt(), 0x00000803, images);
      int n = in.readInt();
      int r = in.readInt();
      int c = in.readInt();
      byte[] px = new byte[Math.multiplyExact(Math.multiplyExact(n, r), c)];
      in.readFully(px);
      byte[] lb;
      try (DataInputStream lin = open(labelFile)) {
        expectMagic(lin.readInt(), 0x00000801, labelFile);
        int m = lin.readInt();
        if (m != n) {
          throw new UserError(labelFile + " has " + m + " labels but " + images + " has " + n + " images");
        }
        lb = new byte[m];
        lin.readFully(lb);
      }
      return new FashionMnist(split, dir, px, lb, r, c);
    } catch (java.io.EOFException e) {
      throw new UserError("Fashion-MNIST file in " + dir + " is truncated (" + e.getMessage() + "); reinstall it");
    } catch (IOException e) {
      throw new UserError("cannot read Fashion-MNIST from " + dir + ": " + e.getMessage());
    }
  }

  /** True when {@code dir} holds both splits' files (plain or .gz). */
  public static boolean presentIn(Path dir) {
    for (String f : new String[] {"train-images-idx3-ubyte", "train-labels-idx1-ubyte", "t10k-images-idx3-ubyte", "t10k-labels-idx1-ubyte"}) {
      if (!Files.isRegularFile(dir.resolve(f)) && !Files.isRegularFile(dir.resolve(f + ".gz"))) {
        return false;
      }
    }
    return true;
  }

  private static Path find(Path dir, String name) {
    Path gz = dir.resolve(name + ".gz");
    if (Files.isRegularFile(gz)) {
      return gz;
    }
    Path plain = dir.resolve(name);
    if (Files.isRegularFile(plain)) {
      return plain;
    }
    throw new UserError("Fashion-MNIST file " + name + "[.gz] not found in " + dir);
  }

  private static DataInputStream open(Path p) throws IOException {
    InputStream raw = new java.io.BufferedInputStream(Files.newInputStream(p), 1 << 16);
    return new DataInputStream(p.toString().endsWith(".gz") ? new GZIPInputStream(raw, 1 << 16) : raw);
  }

  private static void expectMagic(int got, int want, Path p) {
    if (got != want) {
      throw new UserError(p + " is not an IDX file of the expected kind (magic 0x" + Integer.toHexString(got) + ")");
    }
  }

  @Override
  public int size() {
    return labels.length;
  }

  @Override
  public Image image(int index) {
    int n = rows * cols;
    float[] data = ImageBuffers.take(n);
    int off = index * n;
    for (int i = 0; i < n; i++) {
      data[i] = pixels[off + i] & 0xff;
    }
    return new Image(1, rows, cols, data, false);
  }

  @Override
  public int label(int index) {
    return labels[index];
  }

  @Override
  public java.util.List<String> classNames() {
    return java.util.List.of("T-shirt/top", "Trouser", "Pullover", "Dress", "Coat", "Sandal", "Shirt", "Sneaker", "Bag", "Ankle boot");
  }

  @Override
  public int numClasses() {
    return CLASSES.length;
  }

  @Override
  public String describe() {
    return "fashion_mnist " + split + " (" + size() + " images, " + dir + ")";
  }
}
