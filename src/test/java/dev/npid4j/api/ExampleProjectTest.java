package dev.npid4j.api;

import static org.assertj.core.api.Assertions.assertThat;

import dev.npid4j.torch.Torch;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * examples/embed-folder, a program with its own pom.xml that uses only dev.npid4j.api, built
 * against the artifact {@code mvn install} produces (from a copy of this project, so the build
 * under test is left alone) and run on a folder of images.
 */
@Tag("e2e")
class ExampleProjectTest {
  @Test
  void theExampleBuildsAgainstTheInstalledArtifactAndRuns(@TempDir Path dir) throws Exception {
    Path root = Path.of("").toAbsolutePath();
    Path project = dir.resolve("npid4j");
    for (String p : List.of("pom.xml", "src/main", "scripts/build-kernels.sh", "examples/embed-folder/pom.xml",
        "examples/embed-folder/src")) {
      copy(root.resolve(p), project.resolve(p));
    }
    run(project, List.of("mvn", "-B", "-q", "install", "-DskipTests"), 900);
    Path installed = Path.of(System.getProperty("user.home"), ".m2/repository/dev/npid4j/npid4j/0.1.0-SNAPSHOT");
    assertThat(installed.resolve("npid4j-0.1.0-SNAPSHOT.jar")).exists();
    assertThat(installed.resolve("npid4j-0.1.0-SNAPSHOT-sources.jar")).exists();
    assertThat(installed.resolve("npid4j-0.1.0-SNAPSHOT-javadoc.jar")).exists();
    Path example = project.resolve("examples/embed-folder");
    run(example, List.of("mvn", "-B", "-q", "package", "dependency:build-classpath", "-Dmdep.outputFile=target/classpath.txt"), 600);
    String cp = example.resolve("target/classes") + ":" + Files.readString(example.resolve("target/classpath.txt")).strip();
    assertThat(cp).doesNotContain(root.resolve("target").toString()); // the installed jar, not this build

    Torch.load();
    Path images = dir.resolve("images");
    ApiTest.images(images);
    Path run = dir.resolve("run");
    List<String> o = ApiTest.overrides(run, images);
    Training.of("quickstart/npid_fashion_mnist", o.toArray(String[]::new)).run();

    List<String> cmd = new ArrayList<>(List.of(Path.of(System.getProperty("java.home"), "bin", "java").toString(), "-cp", cp,
        "example.EmbedFolder", run.resolve("checkpoint.torch").toString(), "quickstart/npid_fashion_mnist", images.toString(), "2"));
    cmd.addAll(o);
    String out = run(dir, cmd, 300);
    assertThat(out).contains("a/img0.png ->").contains("b/img5.png ->").contains("12 images, 32-d embeddings (the model's head)");
    String line = out.lines().filter(l -> l.startsWith("a/img0.png ->")).findFirst().orElseThrow();
    assertThat(line.split("  ")).hasSize(3); // the image, then two neighbours with their similarities
  }

  private static String run(Path dir, List<String> cmd, int seconds) throws IOException, InterruptedException {
    ProcessBuilder pb = new ProcessBuilder(cmd).directory(dir.toFile()).redirectErrorStream(true);
    Map<String, String> env = pb.environment();
    env.put("JAVA_HOME", System.getProperty("java.home")); // surefire's points at bin/ (the test JVM's wrapper)
    Torch.NATIVE_ENV.forEach(env::putIfAbsent);
    Process p = pb.start();
    String out = new String(p.getInputStream().readAllBytes());
    assertThat(p.waitFor(seconds, TimeUnit.SECONDS)).as(out).isTrue();
    assertThat(p.exitValue()).as("%s\n%s", cmd, out).isZero();
    return out;
  }

  private static void copy(Path from, Path to) throws IOException {
    if (Files.isRegularFile(from)) {
      Files.createDirectories(to.getParent());
      Files.copy(from, to);
      return;
    }
    try (Stream<Path> walk = Files.walk(from)) {
      for (Path p : walk.sorted(Comparator.naturalOrder()).toList()) {
        Path t = to.resolve(from.relativize(p).toString());
        if (Files.isDirectory(p)) {
          Files.createDirectories(t);
        } else {
          Files.copy(p, t);
        }
      }
    }
  }
}
