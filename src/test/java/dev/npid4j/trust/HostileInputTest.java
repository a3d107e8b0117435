package dev.npid4j.trust;

import static org.assertj.core.api.Assertions.assertThat;

import dev.npid4j.cli.CliTestAccess;
import dev.npid4j.formats.Py;
import dev.npid4j.formats.TorchFiles;
import dev.npid4j.torch.Tensors;
import dev.npid4j.torch.Torch;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.stream.Stream;
import java.util.zip.ZipOutputStream;
import org.bytedeco.pytorch.Tensor;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.DynamicTest;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.TestFactory;

/**
 * Files crafted as an attacker would, through every entry point that takes a file: weights
 * (config.MODEL.WEIGHTS_INIT.PARAMS_FILE), a checkpoint found on resume, a config, a file list
 * and its labels, images, the run directory. Each must end in its one-line refusal (exit 2) or,
 * for images in a data set, VISSL's gray stand-in with a warning naming the limit (exit 0);
 * never a JVM crash, an internal error, or unbounded time and memory.
 *
 * <p>With NPID4J_HOSTILE_CORPUS=&lt;dir&gt; the corpus stays in that folder with a manifest.tsv,
 * from which scripts/hostile_inputs.sh measures each case's peak RSS and wall time as its own
 * bin/npid4j process (docs/security.md has the table).
 */
@Tag("e2e")
class HostileInputTest {
  private static Path root;
  private static boolean keep;
  private static final List<String> MANIFEST = new ArrayList<>();

  /** One crafted input: the command that meets it, and what it must end in. */
  record Case(String name, String entry, List<String> args, String expected, int code) {}

  @BeforeAll
  static void setUp() throws IOException {
    Torch.load();
    String dir = System.getenv("NPID4J_HOSTILE_CORPUS");
    keep = dir != null && !dir.isBlank();
    root = keep ? Files.createDirectories(Path.of(dir).toAbsolutePath()) : Files.createTempDirectory("npid4j-hostile");
  }

  @AfterAll
  static void tearDown() throws IOException {
    if (keep) {
      Files.write(root.resolve("manifest.tsv"), MANIFEST, StandardCharsets.UTF_8);
    } else {
      try (Stream<Path> s = Files.walk(root)) {
        s.sorted(java.util.Comparator.reverseOrder()).forEach(p -> p.toFile().delete());
      }
    }
  }

  @org.junit.jupiter.api.Test
  void aReadOnlyRunDirectoryIsOneLineBeforeAnyTraining() throws Exception {
    Path mnt = dir("read-only");
    Process p = new ProcessBuilder("mount", "-t", "tmpfs", "-o", "ro,size=1m", "tmpfs", mnt.toString()).redirectErrorStream(true).start();
    org.junit.jupiter.api.Assumptions.assumeTrue(p.waitFor() == 0, "cannot mount a read-only tmpfs here (needs root)");
    try {
      var r = CliTestAccess.cli(train(mnt.resolve("run")).toArray(String[]::new));
      assertThat(r.code()).as(r.err()).isEqualTo(2);
      assertThat(r.err().strip().lines()).hasSize(1);
      assertThat(r.err()).startsWith("npid4j: error: config.CHECKPOINT.DIR=" + mnt.resolve("run") + ": cannot write there (")
          .contains("Read-only file system");
    } finally {
      new ProcessBuilder("umount", mnt.toString()).start().waitFor();
    }
  }

  @TestFactory
  Stream<DynamicTest> everyCraftedInputIsRefusedCleanly() throws IOException {
    List<Case> cases = new ArrayList<>();
    weights(cases);
    checkpoints(cases);
    configs(cases);
    fileLists(cases);
    images(cases);
    runDirectories(cases);
    assertThat(cases).hasSizeGreaterThanOrEqualTo(25);
    return cases.stream().map(c -> DynamicTest.dynamicTest(c.name(), () -> check(c)));
  }

  private static void check(Case c) {
    // "-" for no expected text: tab-separated fields may not be empty (read collapses them)
    MANIFEST.add(String.join("\t", c.name(), c.entry(), Integer.toString(c.code()), c.expected().isEmpty() ? "-" : c.expected(),
        String.join("\u001f", c.args())));
    long start = System.nanoTime();
    var r = CliTestAccess.cli(c.args().toArray(String[]::new));
    double seconds = (System.nanoTime() - start) / 1e9;
    assertThat(r.code()).as("%s: exit code; stderr: %s", c.name(), r.err()).isEqualTo(c.code());
    assertThat(r.err()).as(c.name()).doesNotContain("internal error").doesNotContain("Exception").contains(c.expected());
    if (c.code() == 2) {
      assertThat(r.err().strip().lines()).as("%s: one line; stderr: %s", c.name(), r.err()).hasSize(1);
      assertThat(r.err()).startsWith("npid4j: error: ");
    }
    // a bound, not a benchmark: every case takes well under 2 s (scripts/hostile_inputs.sh); this catches a hang
    assertThat(seconds).as("%s: seconds", c.name()).isLessThan(30);
  }

  private static Path dir(String name) throws IOException {
    return Files.createDirectories(root.resolve(name));
  }

  private static List<String> knn(Path weights, Path out) {
    return List.of("knn", "config=quickstart/npid_fashion_mnist", "config.MODEL.WEIGHTS_INIT.PARAMS_FILE=" + weights,
        "config.CHECKPOINT.DIR=" + out);
  }

  /** A two-step synthetic training run in {@code run}, plus overrides. */
  static List<String> train(Path run, String... extra) {
    List<String> a = new ArrayList<>(List.of("train", "config=quickstart/npid_fashion_mnist", "config.CHECKPOINT.DIR=" + run,
        "config.DATA.TRAIN.DATA_SOURCES=[synthetic]", "config.DATA.TRAIN.DATA_LIMIT=64", "config.DATA.TRAIN.DEFAULT_GRAY_IMG_SIZE=12",
        "config.DATA.TRAIN.TRANSFORMS=[{name:ToTensor}]", "config.DATA.TEST.DATA_SOURCES=[synthetic]",
        "config.DATA.TEST.DATA_LIMIT=32", "config.DATA.TEST.DEFAULT_GRAY_IMG_SIZE=12", "config.DATA.TEST.TRANSFORMS=[{name:ToTensor}]",
        "config.KNN_MONITOR.FREQUENCY=-1", "config.DATA.TRAIN.BATCHSIZE_PER_REPLICA=32", "config.DATA.NUM_DATALOADER_WORKERS=1",
        "config.MODEL.HEAD.PARAMS=[[mlp,{dims:[128,32]}]]", "config.LOSS.nce_loss_with_memory.memory_params.embedding_dim=32",
        "config.LOSS.nce_loss_with_memory.negative_sampling_params.num_negatives=16", "config.OPTIMIZER.num_epochs=1"));
    a.addAll(List.of(extra));
    return a;
  }

  private static void weights(List<Case> cases) throws IOException {
    Path d = dir("weights");
    byte[] good = Crafted.stateDict("0", 4, 0, new long[] {2, 2}, new long[] {2, 1});
    Map<String, byte[]> rec4 = Map.of("archive/data/0", new byte[16]);

    cases.add(new Case("baseline: an honest state dict of another model", "knn WEIGHTS_INIT",
        knn(Crafted.torchZip(d.resolve("honest.pth"), good, rec4), d), "does not hold trunk.", 2));
    Path script = d.resolve("torchscript.pt");
    try (ZipOutputStream zip = new ZipOutputStream(Files.newOutputStream(script))) {
      Crafted.stored(zip, "archive/data.pkl", good);
      Crafted.stored(zip, "archive/constants.pkl", new Crafted.Pickle().op(')').stop());
      Crafted.stored(zip, "archive/code/__torch__.py", "def __setstate__(self, state):\n  torch.from_file('/etc/x', True, 8)\n"
          .getBytes(StandardCharsets.US_ASCII));
      Crafted.stored(zip, "archive/data/0", new byte[16]);
    }
    cases.add(new Case("TorchScript archive as weights (code/, constants.pkl)", "knn WEIGHTS_INIT", knn(script, d), "is a TorchScript archive", 2));
    cases.add(new Case("storage offset 2^40 past a 4-element storage", "knn WEIGHTS_INIT",
        knn(Crafted.torchZip(d.resolve("offset-far.pth"), Crafted.stateDict("0", 4, 1L << 40, new long[] {4}, new long[] {1}), rec4), d),
        "a tensor view reaching element 1099511627779 of a storage of 4", 2));
    cases.add(new Case("storage offset just past the storage", "knn WEIGHTS_INIT",
        knn(Crafted.torchZip(d.resolve("offset-near.pth"), Crafted.stateDict("0", 4, 4, new long[] {1}, new long[] {1}), rec4), d),
        "a tensor view reaching element 4 of a storage of 4", 2));
    cases.add(new Case("stride-0 view of 2^27 elements over 1 element (512 MB clone)", "knn WEIGHTS_INIT",
        knn(Crafted.torchZip(d.resolve("stride0.pth"), Crafted.stateDict("0", 1, 0, new long[] {1L << 27}, new long[] {0}),
            Map.of("archive/data/0", new byte[4])), d),
        "a tensor view of 134217728 elements over a storage of 1", 2));
    cases.add(new Case("storage declares 2^20 elements, record holds 16 bytes", "knn WEIGHTS_INIT",
        knn(Crafted.torchZip(d.resolve("short-record.pth"), Crafted.stateDict("0", 1 << 20, 0, new long[] {4}, new long[] {1}), rec4), d),
        "holds 16 bytes where 4194304 are declared", 2));
    byte[] selfList = new Crafted.Pickle().op(']').op('q').op(0).op('h').op(0).op('a').stop();
    cases.add(new Case("pickle list that contains itself", "knn WEIGHTS_INIT",
        knn(Crafted.torchZip(d.resolve("self-list.pth"), selfList, Map.of()), d), "a list that contains itself", 2));
    Crafted.Pickle dag = new Crafted.Pickle().op(']').op('q').op(0);
    for (int i = 1; i <= 64; i++) {
      dag.op(']').op('(').op('h').op(i - 1).op('h').op(i - 1).op('e').op('q').op(i);
    }
    cases.add(new Case("64 levels of a list shared twice (2^64 visits naively)", "knn WEIGHTS_INIT",
        knn(Crafted.torchZip(d.resolve("shared-dag.pth"), dag.stop(), Map.of()), d), "holds a list, not a state dict", 2));
    byte[] bigString = new Crafted.Pickle().op('X').le32(1 << 30).raw("abc".getBytes(StandardCharsets.US_ASCII)).stop();
    cases.add(new Case("BINUNICODE declaring 1 GiB in a tiny pickle", "knn WEIGHTS_INIT",
        knn(Crafted.torchZip(d.resolve("big-string.pth"), bigString, Map.of()), d), "a length of 1073741824 bytes where", 2));
    byte[] bigBytes = new Crafted.Pickle().op(0x8e).le64(1L << 40).stop();
    cases.add(new Case("BINBYTES8 declaring 1 TiB", "knn WEIGHTS_INIT",
        knn(Crafted.torchZip(d.resolve("big-bytes.pth"), bigBytes, Map.of()), d), "a length of 1099511627776 bytes where", 2));
    byte[] bigLong = new Crafted.Pickle().op(0x8b).le32(Integer.MAX_VALUE).stop();
    cases.add(new Case("LONG4 integer of 2^31-1 bytes", "knn WEIGHTS_INIT",
        knn(Crafted.torchZip(d.resolve("big-long.pth"), bigLong, Map.of()), d), "a LONG4 integer of 2147483647 bytes (the limit is 2048)", 2));
    Crafted.Pickle deep = new Crafted.Pickle();
    for (int i = 0; i < 5000; i++) {
      deep.op(']');
    }
    for (int i = 0; i < 4999; i++) {
      deep.op('a');
    }
    cases.add(new Case("lists nested 5000 deep", "knn WEIGHTS_INIT",
        knn(Crafted.torchZip(d.resolve("deep.pth"), deep.stop(), Map.of()), d), "values nested deeper than 1000 levels", 2));
    byte[] listKey = new Crafted.Pickle().op('}').op(']').op('N').op('s').stop();
    cases.add(new Case("dict keyed by a list", "knn WEIGHTS_INIT",
        knn(Crafted.torchZip(d.resolve("list-key.pth"), listKey, Map.of()), d), "unhashable type list", 2));
    Path pklBomb = d.resolve("pickle-bomb.pth");
    try (ZipOutputStream zip = new ZipOutputStream(Files.newOutputStream(pklBomb))) {
      Crafted.deflated(zip, "archive/data.pkl", new byte[48 << 20]);
    }
    cases.add(new Case("data.pkl deflated 48 MiB of zeros (zip bomb)", "knn WEIGHTS_INIT", knn(pklBomb, d), "over the limit of 100 (a zip bomb?)", 2));
    Path recBomb = d.resolve("record-bomb.pth");
    try (ZipOutputStream zip = new ZipOutputStream(Files.newOutputStream(recBomb))) {
      Crafted.stored(zip, "archive/data.pkl", Crafted.stateDict("0", 16 << 20, 0, new long[] {16 << 20}, new long[] {1}));
      Crafted.deflated(zip, "archive/data/0", new byte[64 << 20]);
    }
    cases.add(new Case("storage record deflated 64 MiB of zeros", "knn WEIGHTS_INIT", knn(recBomb, d), "over the limit of 100 (a zip bomb?)", 2));
    Crafted.Pickle many = new Crafted.Pickle().op('}');
    for (int i = 0; i < 200; i++) {
      many.str("w" + i).tensor(Integer.toString(i), 1 << 18, 0, new long[] {1 << 18}, new long[] {1}).op('s');
    }
    cases.add(new Case("200 zip records overlapping one 1 MiB record (200 MiB from 1 MiB)", "knn WEIGHTS_INIT",
        knn(Crafted.overlappingZip(d.resolve("overlap.pth"), many.stop(), 200, 1 << 20), d), "its records overlap", 2));
    ByteArrayOutputStream legacy = new ByteArrayOutputStream();
    legacy.writeBytes(new Crafted.Pickle().op(0x8a).op(10).raw(new byte[] {0x6c, (byte) 0xfc, (byte) 0x9c, 0x46, (byte) 0xf9, 0x20, 0x6a,
        (byte) 0xa8, 0x50, 0x19}).stop());
    legacy.writeBytes(new Crafted.Pickle().op('M').op(0xe9).op(0x03).stop());
    legacy.writeBytes(new Crafted.Pickle().op('}').stop());
    legacy.writeBytes(Crafted.stateDict("0", 4, 0, new long[] {4}, new long[] {1}));
    legacy.writeBytes(new Crafted.Pickle().op(']').op('(').str("0").op('e').stop());
    legacy.writeBytes(java.nio.ByteBuffer.allocate(8).order(java.nio.ByteOrder.LITTLE_ENDIAN).putLong(1L << 40).array());
    Path legacyFile = Files.write(d.resolve("legacy-count.pth"), legacy.toByteArray());
    cases.add(new Case("legacy torch.save storage claiming 2^40 elements", "knn WEIGHTS_INIT", knn(legacyFile, d),
        "storage 0 declares 1099511627776 elements but only 0 bytes remain", 2));
    byte[] noise = new byte[4096];
    new java.util.Random(7).nextBytes(noise);
    cases.add(new Case("4 KiB of random bytes", "knn WEIGHTS_INIT", knn(Files.write(d.resolve("noise.pth"), noise), d),
        "as a PyTorch file", 2));
    byte[] zip = Files.readAllBytes(script);
    cases.add(new Case("zip cut in half", "knn WEIGHTS_INIT",
        knn(Files.write(d.resolve("half.pth"), java.util.Arrays.copyOf(zip, zip.length / 2)), d), "as a PyTorch file", 2));
  }

  private static void checkpoints(List<Case> cases) throws IOException {
    Path base = dir("checkpoint-base");
    var r = CliTestAccess.cli(train(base.resolve("run")).toArray(String[]::new));
    assertThat(r.code()).as(r.err()).isZero();
    Path good = base.resolve("run/model_final_checkpoint_phase0.torch");

    cases.add(new Case("baseline: a two-step synthetic training run", "train", train(dir("baseline-train").resolve("run")), "", 0));
    Path bn = dir("checkpoint-bn");
    @SuppressWarnings("unchecked")
    Map<String, Object> value = (Map<String, Object>) TorchFiles.load(good);
    @SuppressWarnings("unchecked")
    Map<String, Object> model = (Map<String, Object>) value.get("model");
    String key = model.keySet().stream().filter(k -> k.endsWith("running_mean")).findFirst().orElseThrow();
    model.put(key, Tensors.fromFloats(new float[] {0f}, 1));
    TorchFiles.save(bn.resolve("run/model_phase0.torch"), value);
    cases.add(new Case("checkpoint with a 1-element BatchNorm running_mean", "train (resume)", train(bn.resolve("run"),
        "config.OPTIMIZER.num_epochs=2"), key + " is Float [1] but this run's is Float", 2));

    Path bank = dir("checkpoint-bank");
    @SuppressWarnings("unchecked")
    Map<String, Object> v2 = (Map<String, Object>) TorchFiles.load(good);
    @SuppressWarnings("unchecked")
    Map<String, Object> loss = (Map<String, Object>) v2.get("loss");
    loss.put("memory", Tensors.fromFloats(new float[4], 2, 2));
    TorchFiles.save(bank.resolve("run/model_phase0.torch"), v2);
    cases.add(new Case("checkpoint with a 2 x 2 memory bank", "train (resume)", train(bank.resolve("run"), "config.OPTIMIZER.num_epochs=2"),
        "holds a memory bank of [2, 2] but this run needs 64 x 32", 2));

    Path fmt = dir("checkpoint-format");
    TorchFiles.save(fmt.resolve("run/model_phase0.torch"), new LinkedHashMap<>(Map.of("format", 99L)));
    cases.add(new Case("checkpoint of format 99", "train (resume)", train(fmt.resolve("run"), "config.OPTIMIZER.num_epochs=2"),
        "incompatible npid4j (checkpoint format 99", 2));

    Path odd = dir("checkpoint-odd");
    TorchFiles.save(odd.resolve("run/model_phase0.torch"), new LinkedHashMap<>(Map.of("format", 2L, "model", List.of(1L, 2L))));
    cases.add(new Case("checkpoint whose model is a list", "train (resume)", train(odd.resolve("run"), "config.OPTIMIZER.num_epochs=2"),
        "no checkpoint in", 2));

    Path script = dir("checkpoint-script");
    Files.copy(root.resolve("weights/torchscript.pt"), Files.createDirectories(script.resolve("run")).resolve("model_phase0.torch"));
    cases.add(new Case("TorchScript archive as a run directory's checkpoint", "train (resume)",
        train(script.resolve("run"), "config.OPTIMIZER.num_epochs=2"), "is a TorchScript archive", 2));
  }

  private static void configs(List<Case> cases) throws IOException {
    Path d = dir("configs");
    StringBuilder y = new StringBuilder("# @package _global_\nbase: &a [");
    for (int i = 0; i < 1000; i++) {
      y.append(i == 0 ? "" : ",").append("x");
    }
    y.append("]\n");
    String prev = "a";
    for (int level = 0; level < 3; level++) {
      String name = "l" + level;
      y.append(name).append(": &").append(name).append(" [").append(String.join(",", java.util.Collections.nCopies(6, "*" + prev)))
          .append("]\n");
      prev = name;
    }
    y.append("config: {VERBOSE: true}\n");
    cases.add(new Case("YAML aliases expanding 216,000 times within 20 aliases", "train config=<file>",
        List.of("train", "config=" + Files.writeString(d.resolve("alias-expand.yaml"), y.toString()), "config.CHECKPOINT.DIR=" + d.resolve("r1")),
        "expands to more than 100000 values once its YAML aliases are copied", 2));
    StringBuilder laughs = new StringBuilder("a: &a [x,x,x,x,x,x,x,x,x]\n");
    for (int i = 0; i < 9; i++) {
      laughs.append((char) ('b' + i)).append(": &").append((char) ('b' + i)).append(" [")
          .append(String.join(",", java.util.Collections.nCopies(9, "*" + (char) ('a' + i)))).append("]\n");
    }
    cases.add(new Case("billion laughs (81 aliases)", "train config=<file>",
        List.of("train", "config=" + Files.writeString(d.resolve("laughs.yaml"), laughs.toString()), "config.CHECKPOINT.DIR=" + d.resolve("r2")),
        "Number of aliases for non-scalar nodes exceeds the specified max=20", 2));
    cases.add(new Case("YAML map that contains itself", "train config=<file>",
        List.of("train", "config=" + Files.writeString(d.resolve("recursive.yaml"), "config: &c {A: *c}\n"), "config.CHECKPOINT.DIR=" + d.resolve("r3")),
        "contains itself", 2));
    cases.add(new Case("YAML nested 10,000 deep", "train config=<file>",
        List.of("train", "config=" + Files.writeString(d.resolve("deep.yaml"), "config: " + "[".repeat(10000) + "]".repeat(10000) + "\n"),
            "config.CHECKPOINT.DIR=" + d.resolve("r4")), "Nesting Depth exceeded", 2));
  }

  private static void fileLists(List<Case> cases) throws IOException {
    Path d = dir("filelists");
    Path img = d.resolve("a.png");
    javax.imageio.ImageIO.write(new java.awt.image.BufferedImage(12, 12, java.awt.image.BufferedImage.TYPE_INT_RGB), "png", img.toFile());
    Path strings = Crafted.npy(d.resolve("strings.npy"), "{'descr': '<U10', 'fortran_order': False, 'shape': (2147483647,), }", new byte[0]);
    cases.add(new Case(".npy header claiming 2^31-1 strings in 160 bytes", "train disk_filelist", train(d.resolve("r1"),
        "config.DATA.TRAIN.DATA_SOURCES=[disk_filelist]", "config.DATA.TRAIN.DATA_PATHS=[" + strings + "]"),
        "declares shape (2147483647,) of <U10 but only 0 data bytes follow it", 2));
    Path header = d.resolve("header.npy");
    Files.write(header, new byte[] {(byte) 0x93, 'N', 'U', 'M', 'P', 'Y', 2, 0, (byte) 0xff, (byte) 0xff, (byte) 0xff, 0x7f, '{'});
    cases.add(new Case(".npy header length 2^31-1 in a 13-byte file", "train disk_filelist", train(d.resolve("r2"),
        "config.DATA.TRAIN.DATA_SOURCES=[disk_filelist]", "config.DATA.TRAIN.DATA_PATHS=[" + header + "]"),
        "the .npy header declares 2147483647 bytes but 1 remain", 2));
    Path list = Files.writeString(d.resolve("list.txt"), img + "\n");
    Path labels = Crafted.npy(d.resolve("labels.npy"), "{'descr': '<i8', 'fortran_order': False, 'shape': (1,), }",
        java.nio.ByteBuffer.allocate(8).order(java.nio.ByteOrder.LITTLE_ENDIAN).putLong(Integer.MAX_VALUE - 1).array());
    cases.add(new Case("label 2^31-2 (a class list of 2^31-1 names)", "train disk_filelist", train(d.resolve("r3"),
        "config.DATA.TRAIN.DATA_SOURCES=[disk_filelist]", "config.DATA.TRAIN.DATA_PATHS=[" + list + "]",
        "config.DATA.TRAIN.LABEL_SOURCES=[disk_filelist]", "config.DATA.TRAIN.LABEL_PATHS=[" + labels + "]"),
        "implies 2147483647 classes, over the limit of 1048576", 2));
    Path longLine = Files.writeString(d.resolve("long-line.txt"), "x".repeat(1 << 20));
    cases.add(new Case("file list of one 1 MiB line", "train disk_filelist", train(d.resolve("r4"),
        "config.DATA.TRAIN.DATA_SOURCES=[disk_filelist]", "config.DATA.TRAIN.DATA_PATHS=[" + longLine + "]"),
        "line 1 is longer than 65536 characters", 2));
    Path nul = Files.writeString(d.resolve("nul.txt"), "a\u0000b.png\n");
    cases.add(new Case("file list with a NUL in a path", "train disk_filelist", train(d.resolve("r5"),
        "config.DATA.TRAIN.DATA_SOURCES=[disk_filelist]", "config.DATA.TRAIN.DATA_PATHS=[" + nul + "]"), "is not a path", 2));
  }

  private static void images(List<Case> cases) throws IOException {
    Path png = dir("images/png/a");
    javax.imageio.ImageIO.write(new java.awt.image.BufferedImage(12, 12, java.awt.image.BufferedImage.TYPE_INT_RGB), "png",
        png.resolve("ok.png").toFile());
    Crafted.pngHeader(png.resolve("bomb.png"), 100_000, 100_000);
    cases.add(new Case("PNG declaring 100,000 x 100,000 pixels", "train disk_folder", imageRun(png.getParent(), "r"),
        "10000000000 pixels, over the limit of 89478485", 0));
    Path jpg = dir("images/jpg/a");
    javax.imageio.ImageIO.write(new java.awt.image.BufferedImage(12, 12, java.awt.image.BufferedImage.TYPE_INT_RGB), "png",
        jpg.resolve("ok.png").toFile());
    Crafted.jpegHeader(jpg.resolve("bomb.jpg"), 65_500, 65_500);
    cases.add(new Case("JPEG declaring 65,500 x 65,500 pixels (int overflow in 3 x pixels)", "train disk_folder",
        imageRun(jpg.getParent(), "r"), "4290250000 pixels, over the limit of 89478485", 0));
    Path small = dir("images/limit/a");
    javax.imageio.ImageIO.write(new java.awt.image.BufferedImage(12, 12, java.awt.image.BufferedImage.TYPE_INT_RGB), "png",
        small.resolve("ok.png").toFile());
    javax.imageio.ImageIO.write(new java.awt.image.BufferedImage(40, 40, java.awt.image.BufferedImage.TYPE_INT_RGB), "png",
        small.resolve("big.png").toFile());
    List<String> limited = new ArrayList<>(imageRun(small.getParent(), "r"));
    limited.add("config.DATA.MAX_IMAGE_PIXELS=1000");
    cases.add(new Case("40 x 40 PNG under config.DATA.MAX_IMAGE_PIXELS=1000", "train disk_folder", limited,
        "1600 pixels, over the limit of 1000", 0));
  }

  private static List<String> imageRun(Path folder, String run) {
    return train(folder.resolveSibling(folder.getFileName() + "-" + run), "config.DATA.TRAIN.DATA_SOURCES=[disk_folder]",
        "config.DATA.TRAIN.DATA_PATHS=[" + folder + "]", "config.MODEL.INPUT_TYPE=rgb", "config.DATA.TRAIN.BATCHSIZE_PER_REPLICA=2",
        "config.DATA.TRAIN.DATA_LIMIT=-1", "config.DATA.TRAIN.TRANSFORMS=[{name:Resize,size:12},{name:CenterCrop,size:12},{name:ToTensor}]");
  }

  private static void runDirectories(List<Case> cases) throws IOException {
    Path d = dir("rundirs");
    Path file = Files.writeString(d.resolve("a-file"), "x");
    cases.add(new Case("config.CHECKPOINT.DIR below a regular file", "train", train(file.resolve("run")),
        "cannot write there (a file is in the way of a folder", 2));
  }
}
