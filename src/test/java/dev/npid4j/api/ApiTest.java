package dev.npid4j.api;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.assertj.core.api.Assertions.within;

import dev.npid4j.cli.CliTestAccess;
import dev.npid4j.engine.TrainSummary;
import dev.npid4j.engine.TrainingListener;
import dev.npid4j.formats.Npy;
import dev.npid4j.formats.TorchFiles;
import java.awt.image.BufferedImage;
import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Random;
import javax.imageio.ImageIO;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The library as a JVM service uses it: train, embed, search; the same numbers as the command line. */
@Tag("e2e")
class ApiTest {
  static List<String> overrides(Path run, Path images) {
    return List.of("config.CHECKPOINT.DIR=" + run, "config.DATA.TRAIN.DATA_SOURCES=[disk_folder]",
        "config.DATA.TRAIN.DATA_PATHS=[" + images + "]", "config.DATA.TEST.DATA_SOURCES=[disk_folder]",
        "config.DATA.TEST.DATA_PATHS=[" + images + "]", "config.MODEL.INPUT_TYPE=rgb", "config.DATA.TRAIN.BATCHSIZE_PER_REPLICA=4",
        "config.DATA.TEST.BATCHSIZE_PER_REPLICA=4", "config.DATA.TRAIN.DEFAULT_GRAY_IMG_SIZE=12", "config.DATA.TEST.DEFAULT_GRAY_IMG_SIZE=12",
        "config.DATA.TRAIN.TRANSFORMS=[{name:RandomResizedCrop,size:12},{name:ToTensor}]", "config.DATA.TEST.TRANSFORMS=[{name:Resize,size:12},{name:CenterCrop,size:12},{name:ToTensor}]",
        "config.MODEL.HEAD.PARAMS=[[mlp,{dims:[128,32]}]]", "config.LOSS.nce_loss_with_memory.memory_params.embedding_dim=32",
        "config.LOSS.nce_loss_with_memory.negative_sampling_params.num_negatives=8", "config.OPTIMIZER.num_epochs=2",
        "config.KNN_MONITOR.FREQUENCY=-1", "config.DATA.NUM_DATALOADER_WORKERS=1");
  }

  /** Two classes of six small images each, in ImageFolder order (class, then name). */
  static List<Path> images(Path root) throws Exception {
    Random r = new Random(5);
    List<Path> files = new ArrayList<>();
    for (String cls : new String[] {"a", "b"}) {
      Files.createDirectories(root.resolve(cls));
      for (int i = 0; i < 6; i++) {
        BufferedImage img = new BufferedImage(14 + i, 12 + i, BufferedImage.TYPE_INT_RGB);
        for (int y = 0; y < img.getHeight(); y++) {
          for (int x = 0; x < img.getWidth(); x++) {
            int base = cls.equals("a") ? 0xc04020 : 0x2040c0;
            img.setRGB(x, y, base ^ (r.nextInt(64) * 0x010101));
          }
        }
        Path f = root.resolve(cls).resolve("img" + i + ".png");
        ImageIO.write(img, "png", f.toFile());
        files.add(f);
      }
    }
    return files;
  }

  @Test
  void trainEmbedSearch(@TempDir Path dir) throws Exception {
    Path imgs = dir.resolve("images");
    List<Path> files = images(imgs);
    Path run = dir.resolve("run");
    List<String> o = overrides(run, imgs);

    long[] steps = {0};
    PrintStream stdout = System.out;
    ByteArrayOutputStream printed = new ByteArrayOutputStream();
    TrainSummary s;
    try {
      System.setOut(new PrintStream(printed, true));
      s = Training.of("quickstart/npid_fashion_mnist", o.toArray(String[]::new))
          .listener(TrainingListener.onEachStep(step -> steps[0]++)).run();
    } finally {
      System.setOut(stdout);
    }
    assertThat(s.steps()).isEqualTo(6);
    assertThat(steps[0]).isEqualTo(6);
    assertThat(printed.toString()).as("the library prints nothing unless asked").isEmpty();
    assertThat(run.resolve("checkpoint.torch")).exists();

    try (Embedder e = Embedder.open(run.resolve("checkpoint.torch"), "quickstart/npid_fashion_mnist", o.toArray(String[]::new))) {
      assertThat(e.dimension()).isEqualTo(32);
      assertThat(e.usesHead()).isTrue();
      float[][] v = e.embed(files);
      for (float[] x : v) {
        double n = 0;
        for (float f : x) {
          n += f * f;
        }
        assertThat(Math.sqrt(n)).isCloseTo(1.0, within(1e-4));
      }
      assertThat(e.embed(files.get(3))).containsExactly(v[3], within(1e-5f));
      assertThat(e.embed(ImageIO.read(files.get(7).toFile()))).containsExactly(v[7], within(1e-5f));

      // the command line's extract gives the same embeddings
      var r = CliTestAccess.cli(concat(List.of("extract", "config=quickstart/npid_fashion_mnist", "--split", "test",
          "config.MODEL.WEIGHTS_INIT.PARAMS_FILE=" + run.resolve("checkpoint.torch")), o));
      assertThat(r.code()).as(r.err()).isZero();
      Npy.Array cli = Npy.read(run.resolve("eval/rank0_chunk0_test_heads_features.npy"));
      assertThat(cli.shape()).containsExactly(12, 32);
      for (int i = 0; i < 12; i++) {
        float[] row = java.util.Arrays.copyOfRange(cli.floats(), i * 32, i * 32 + 32);
        double n = 0;
        for (float f : row) {
          n += f * f;
        }
        for (int j = 0; j < 32; j++) {
          row[j] /= (float) Math.sqrt(n);
        }
        assertThat(v[i]).as("image %d", i).containsExactly(row, within(1e-4f));
      }

      int[] labels = {0, 0, 0, 0, 0, 0, 1, 1, 1, 1, 1, 1};
      try (NeighborIndex index = NeighborIndex.of(v, labels)) {
        List<NeighborIndex.Neighbor> nn = index.search(v[2], 3);
        assertThat(nn).hasSize(3);
        assertThat(nn.get(0).id()).isEqualTo(2);
        assertThat(nn.get(0).similarity()).isCloseTo(1f, within(1e-4f));
        assertThat(nn.get(0).similarity()).isGreaterThanOrEqualTo(nn.get(1).similarity());
        assertThat(index.classify(v[2], 3, 0.07)).isBetween(0, 1);
        Path file = dir.resolve("index.torch");
        index.save(file);
        try (NeighborIndex back = NeighborIndex.load(file)) {
          assertThat(back.size()).isEqualTo(12);
          assertThat(back.search(v[2], 3)).isEqualTo(nn);
        }
      }
      try (NeighborIndex bank = NeighborIndex.fromCheckpoint(run.resolve("checkpoint.torch"), labels)) {
        assertThat(bank.size()).isEqualTo(12);
        assertThat(bank.dimension()).isEqualTo(32);
        assertThat(bank.search(v[0], 12)).hasSize(12);
      }

      // callers on several threads get what one caller gets (the calls run one at a time)
      var pool = java.util.concurrent.Executors.newFixedThreadPool(4);
      try {
        List<java.util.concurrent.Future<float[]>> results = new ArrayList<>();
        for (int i = 0; i < 12; i++) {
          Path f = files.get(i);
          results.add(pool.submit(() -> e.embed(f)));
        }
        for (int i = 0; i < 12; i++) {
          assertThat(results.get(i).get()).containsExactly(v[i], within(1e-5f));
        }
      } finally {
        pool.shutdownNow();
      }
      try (Embedder fromItsOwnConfig = Embedder.open(run.resolve("checkpoint.torch"))) {
        assertThat(fromItsOwnConfig.embed(files.get(4))).containsExactly(v[4], within(1e-5f));
      }

      var bench = CliTestAccess.cli(concat(List.of("bench", "embed", "--weights", run.resolve("checkpoint.torch").toString(), "--folder",
          imgs.toString(), "--calls", "3", "config=quickstart/npid_fashion_mnist"), o));
      assertThat(bench.code()).as(bench.err()).isZero();
      assertThat(CliTestAccess.json(bench.out().strip()).get("images").asInt()).isEqualTo(12);

      Path text = Files.writeString(dir.resolve("notes.jpg"), "not an image");
      // images of several sizes (no resizing transform): batches break where the size changes, each image transformed once
      List<String> unresized = new ArrayList<>(o);
      unresized.add("config.DATA.TEST.TRANSFORMS=[{name:ToTensor}]");
      try (Embedder sizes = Embedder.open(run.resolve("checkpoint.torch"), "quickstart/npid_fashion_mnist",
          unresized.toArray(String[]::new))) {
        List<Path> mixed = List.of(files.get(0), files.get(0), files.get(1), files.get(6), files.get(6));
        float[][] together = sizes.embed(mixed);
        for (int i = 0; i < mixed.size(); i++) {
          assertThat(together[i]).as("image %d", i).containsExactly(sizes.embed(mixed.get(i)), within(1e-5f));
        }
      }
      assertThatThrownBy(() -> e.embed(text)).isInstanceOf(Npid4jException.class).hasMessageContaining("cannot be read as an image");
    }
  }

  @Test
  void userErrorsAreTypedOneLineExceptions(@TempDir Path dir) throws Exception {
    assertThatThrownBy(() -> Training.of("quickstart/npid_fashion_mnist", "config.LOSS.nce_loss_with_memory.temprature=0.1"))
        .isInstanceOf(Npid4jException.class).hasMessageContaining("did you mean 'config.LOSS.nce_loss_with_memory.temperature'");
    assertThatThrownBy(() -> Training.of("quickstart/npid_fashion_mnist", "config.DISTRIBUTED.NUM_PROC_PER_NODE=2"))
        .isInstanceOf(Npid4jException.class).hasMessageContaining("the library trains in this process only");
    assertThatThrownBy(() -> Embedder.open(dir.resolve("missing.torch"), "quickstart/npid_fashion_mnist"))
        .isInstanceOf(Npid4jException.class).hasMessageContaining("no such file");
    Map<String, Object> other = new LinkedHashMap<>();
    other.put("format", "something else");
    TorchFiles.save(dir.resolve("other.torch"), other);
    assertThatThrownBy(() -> NeighborIndex.load(dir.resolve("other.torch"))).isInstanceOf(Npid4jException.class)
        .hasMessageContaining("is not an npid4j neighbour index");
    assertThatThrownBy(() -> NeighborIndex.of(new float[][] {{1, 0}, {0, 1, 0}}, null)).isInstanceOf(Npid4jException.class)
        .hasMessageContaining("vector 1 has 3 values");
  }

  private static String[] concat(List<String> a, List<String> b) {
    List<String> all = new ArrayList<>(a);
    all.addAll(b);
    return all.toArray(String[]::new);
  }
}
