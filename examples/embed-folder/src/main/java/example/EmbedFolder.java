package example;

import dev.npid4j.api.Embedder;
import dev.npid4j.api.NeighborIndex;
import dev.npid4j.api.Npid4jException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.List;
import java.util.Locale;
import java.util.stream.Stream;

/**
 * Embeds every image of a folder with a trained model and prints each image's nearest
 * neighbours, using only npid4j's public API (dev.npid4j.api).
 *
 * <p>usage: EmbedFolder WEIGHTS CONFIG FOLDER [K] [OVERRIDES...], e.g.
 * {@code EmbedFolder runs/tux/checkpoint.torch quickstart/npid_image_folder /tmp/tuxpaint 3}
 */
public final class EmbedFolder {
  private EmbedFolder() {}

  public static void main(String[] args) throws Exception {
    if (args.length < 3) {
      System.err.println("usage: EmbedFolder WEIGHTS CONFIG FOLDER [K] [OVERRIDES...]");
      System.exit(2);
    }
    Path weights = Path.of(args[0]);
    Path folder = Path.of(args[2]);
    int k = args.length > 3 ? Integer.parseInt(args[3]) : 3;
    String[] overrides = args.length > 4 ? Arrays.copyOfRange(args, 4, args.length) : new String[0];
    List<Path> files;
    try (Stream<Path> walk = Files.walk(folder)) {
      files = walk.filter(f -> f.getFileName().toString().toLowerCase(Locale.ROOT).matches(".*\\.(png|jpe?g)")).sorted().toList();
    }
    long start = System.nanoTime();
    try (Embedder embedder = Embedder.open(weights, args[1], overrides)) {
      float[][] vectors = embedder.embed(files);
      try (NeighborIndex index = NeighborIndex.of(vectors, null)) {
        List<List<NeighborIndex.Neighbor>> all = index.search(vectors, k + 1);
        for (int i = 0; i < files.size(); i++) {
          StringBuilder line = new StringBuilder(folder.relativize(files.get(i)).toString()).append(" ->");
          for (NeighborIndex.Neighbor n : all.get(i)) {
            if (n.id() != i) {
              line.append(String.format(Locale.ROOT, "  %s (%.3f)", folder.relativize(files.get(n.id())), n.similarity()));
            }
          }
          System.out.println(line);
        }
      }
      System.out.printf(Locale.ROOT, "%d images, %d-d embeddings (%s), in %.1f s%n", files.size(), embedder.dimension(),
          embedder.usesHead() ? "the model's head" : "the trunk's features", (System.nanoTime() - start) / 1e9);
    } catch (Npid4jException e) {
      System.err.println("EmbedFolder: " + e.getMessage());
      System.exit(2);
    }
  }
}
