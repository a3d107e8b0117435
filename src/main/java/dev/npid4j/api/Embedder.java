package dev.npid4j.api;

import dev.npid4j.config.RunConfig;
import dev.npid4j.data.Image;
import dev.npid4j.data.transform.Transforms;
import dev.npid4j.eval.TrainedModel;
import dev.npid4j.model.NpidModel;
import dev.npid4j.torch.NoGrad;
import dev.npid4j.torch.Ops;
import dev.npid4j.torch.Scopes;
import dev.npid4j.torch.Tensors;
import java.awt.image.BufferedImage;
import dev.npid4j.engine.MetricsLog;
import dev.npid4j.formats.TorchFiles;
import dev.npid4j.weights.CheckpointFile;
import java.io.IOException;
import java.io.OutputStream;
import java.nio.file.Files;
import java.io.PrintStream;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.SplittableRandom;
import org.bytedeco.pytorch.Tensor;

/**
 * Embeds images with a trained model: an npid4j checkpoint, a VISSL checkpoint or a torchvision
 * state dict, with the config that describes the model (a bundled name or a YAML file, and
 * overrides). Each image goes through the config's evaluation transforms (DATA.TEST.TRANSFORMS,
 * else the standard ones for its data) and the model in eval mode; the embedding is the head's
 * output (NPID's 128-d) when the file holds the head, else the trunk's pooled features (a
 * torchvision file), L2-normalised either way, so that a dot product is the cosine similarity.
 *
 * <pre>{@code
 * try (Embedder e = Embedder.open(Path.of("runs/quickstart/checkpoint.torch"), "quickstart/npid_fashion_mnist")) {
 *   float[] v = e.embed(Path.of("shoe.png"));
 * }
 * }</pre>
 *
 * <p>Thread-safe: calls from several threads run one at a time (one forward already uses every
 * core libtorch was given). Each call frees its native memory before it returns, so a service
 * may call it any number of times.
 */
public final class Embedder implements AutoCloseable {
  private static final PrintStream QUIET = new PrintStream(OutputStream.nullOutputStream());
  private static final int BATCH = 32;

  private TrainedModel trained;
  private final Transforms transforms;
  private final int channels;
  private final long maxPixels;
  private final boolean headLoaded;
  private int dimension;

  private Embedder(TrainedModel trained, Transforms transforms, int channels, long maxPixels) {
    this.trained = trained;
    this.headLoaded = trained.headLoaded();
    this.transforms = transforms;
    this.channels = channels;
    this.maxPixels = maxPixels;
  }

  /**
   * Opens {@code weights} as the model {@code config} describes.
   *
   * @param weights an npid4j checkpoint, a VISSL checkpoint or a torchvision state dict (read as
   *     data only: a TorchScript archive is refused)
   * @param config a bundled config name (e.g. {@code quickstart/npid_fashion_mnist},
   *     {@code pretrain/npid/npid_8gpu_resnet}) or a YAML file
   * @param overrides VISSL-style overrides, e.g. {@code config.MODEL.WEIGHTS_INIT.REMOVE_PREFIX=module.}
   * @return the open Embedder
   * @throws Npid4jException when the config or the file is not what it should be
   */
  public static Embedder open(Path weights, String config, String... overrides) {
    return Npid4jException.wrap(() -> {
      List<String> args = new ArrayList<>();
      args.add("config=" + config);
      args.add("config.MODEL.WEIGHTS_INIT.PARAMS_FILE=" + weights.toAbsolutePath());
      args.addAll(Arrays.asList(overrides));
      RunConfig cfg = RunConfig.fromArgs(args);
      TrainedModel t = TrainedModel.open(cfg, cfg.eval(), true, QUIET);
      Transforms transforms = TrainedModel.evalTransforms(cfg, QUIET);
      Embedder e = new Embedder(t, transforms, cfg.model().trunk().inputChannels(), cfg.train().maxImagePixels());
      // the length of a blank image's embedding: one forward, whatever the trunk and head
      int side = cfg.train().syntheticImageSize();
      e.dimension = e.embed(new BufferedImage(side, side, BufferedImage.TYPE_INT_RGB)).length;
      return e;
    });
  }

  /**
   * Opens {@code weights} without naming a config: an npid4j checkpoint carries the resolved
   * config it was trained with, which describes its model exactly; any other file (a VISSL
   * checkpoint, a torchvision state dict) is taken as VISSL's NPID ResNet-50
   * ({@code pretrain/npid/npid_8gpu_resnet} on the CPU).
   *
   * @param weights an npid4j checkpoint, a VISSL checkpoint or a torchvision state dict
   * @return the open Embedder
   * @throws Npid4jException when the file is not what it should be
   */
  public static Embedder open(Path weights) {
    String yaml = Npid4jException.wrap(() -> trainedConfig(weights));
    if (yaml == null) {
      return open(weights, "pretrain/npid/npid_8gpu_resnet", "config.MACHINE.DEVICE=cpu", "config.DISTRIBUTED.NUM_PROC_PER_NODE=1");
    }
    try {
      Path dir = Files.createTempDirectory("npid4j-embedder");
      Path file = dir.resolve("train_config.yaml");
      try {
        Files.writeString(file, yaml);
        return open(weights, file.toString(), "config.MACHINE.DEVICE=cpu", "config.DISTRIBUTED.NUM_NODES=1",
            "config.DISTRIBUTED.NUM_PROC_PER_NODE=1");
      } finally {
        Files.deleteIfExists(file);
        Files.deleteIfExists(dir);
      }
    } catch (IOException e) {
      throw new Npid4jException("cannot write the checkpoint's config to a temp file: " + e.getMessage(), e);
    }
  }

  /** The resolved config an npid4j checkpoint was trained with, or null for any other weights file. */
  private static String trainedConfig(Path weights) {
    if (!Files.isRegularFile(weights)) {
      throw new Npid4jException(weights + ": no such file");
    }
    var checkpoint = CheckpointFile.of(TorchFiles.read(weights).value(), weights);
    if (checkpoint.isEmpty()) {
      return null;
    }
    try (CheckpointFile ck = checkpoint.get()) {
      String yaml = MetricsLog.JSON.readTree(ck.metaJson()).path("config_yaml").asText("");
      return yaml.isEmpty() ? null : yaml;
    } catch (com.fasterxml.jackson.core.JsonProcessingException e) {
      return null;
    }
  }

  /**
   * The length of every embedding.
   *
   * @return the embedding's dimension (128 for NPID's head)
   */
  public int dimension() {
    return dimension;
  }

  /**
   * Whether embeddings are the head's output or the trunk's pooled features (a file without the head).
   *
   * @return true for the head's output
   */
  public boolean usesHead() {
    return headLoaded;
  }

  /**
   * The embedding of a Java image (converted as Pillow's {@code convert("RGB")} would, then transformed).
   *
   * @param image any image ImageIO or Java2D made
   * @return its L2-normalised embedding
   */
  public float[] embed(BufferedImage image) {
    return embedImages(List.of(Image.of(image)))[0];
  }

  /**
   * The embedding of the image in {@code file}.
   *
   * @param file a JPEG, PNG or other image ImageIO reads
   * @return its L2-normalised embedding
   * @throws Npid4jException when the file cannot be read or decoded, or declares more pixels
   *     than config.DATA.MAX_IMAGE_PIXELS
   */
  public float[] embed(Path file) {
    return embed(List.of(file))[0];
  }

  /**
   * The embeddings of {@code files}, in order, computed in batches.
   *
   * @param files image files
   * @return one L2-normalised embedding per file
   * @throws Npid4jException when a file cannot be read or decoded, naming it
   */
  public float[][] embed(List<Path> files) {
    List<Image> images = new ArrayList<>(files.size());
    for (Path f : files) {
      Image img;
      try {
        img = Image.read(f, maxPixels);
      } catch (IllegalArgumentException e) {
        throw new Npid4jException(e.getMessage(), e);
      }
      if (img == null) {
        throw new Npid4jException(f + " cannot be read as an image (JPEG, PNG, or another format ImageIO reads)");
      }
      images.add(img);
    }
    return embedImages(images);
  }

  private synchronized float[][] embedImages(List<Image> images) {
    if (trained == null) {
      throw new IllegalStateException("this Embedder is closed");
    }
    float[][] out = new float[images.size()][];
    int next = 0; // the next image to transform; each is transformed once
    Image carried = null; // transformed, of another size than the batch before it
    int done = 0;
    while (done < images.size()) {
      List<Image> batch = new ArrayList<>();
      batch.add(carried != null ? carried : prepare(images.get(next++)));
      carried = null;
      Image first = batch.get(0);
      while (next < images.size() && batch.size() < BATCH) {
        Image img = prepare(images.get(next++));
        if (img.height() != first.height() || img.width() != first.width()) {
          carried = img; // a batch holds one size; this one starts the next
          break;
        }
        batch.add(img);
      }
      float[][] vectors = forward(batch);
      System.arraycopy(vectors, 0, out, done, vectors.length);
      done += vectors.length;
    }
    return out;
  }

  /** The model's input for {@code img}: its channels converted, then the evaluation transforms (which draw nothing). */
  private Image prepare(Image img) {
    return transforms.apply(img.withChannels(channels), new SplittableRandom(0));
  }

  private float[][] forward(List<Image> batch) {
    Image first = batch.get(0);
    int size = first.size();
    float[] flat = new float[batch.size() * size];
    for (int k = 0; k < batch.size(); k++) {
      System.arraycopy(batch.get(k).data(), 0, flat, k * size, size);
    }
    NpidModel model = trained.model();
    try (var scope = Scopes.open(); var g = NoGrad.open()) {
      Tensor x = Tensors.fromFloats(flat, batch.size(), first.channels(), first.height(), first.width());
      Tensor y = headLoaded ? model.forward(x) : model.trunk().forward(x);
      Tensor n = Ops.l2Normalize(y.reshape(batch.size(), -1));
      float[] v = Tensors.toFloats(n);
      int d = (int) n.size(1);
      float[][] out = new float[batch.size()][d];
      for (int k = 0; k < batch.size(); k++) {
        System.arraycopy(v, k * d, out[k], 0, d);
      }
      return out;
    }
  }

  /**
   * Ends the use of this Embedder: later calls fail. The model's native memory goes back when the
   * Embedder is no longer referenced (npid4j never deletes a libtorch module by hand: its
   * registered submodules are shared with the parent, and deleting one twice would crash).
   */
  @Override
  public synchronized void close() {
    trained = null;
  }
}
