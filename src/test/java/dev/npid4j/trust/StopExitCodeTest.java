package dev.npid4j.trust;

import static org.assertj.core.api.Assertions.assertThat;

import dev.npid4j.cli.Main;
import java.lang.management.ManagementFactory;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * A SIGTERM stop (SLURM's or Kubernetes' preemption) writes its checkpoint and exits 143, not 0:
 * a Job or a requeue script must see an unfinished run. Foreign files in the run directory that
 * merely look like temp files stay.
 */
@Tag("e2e")
class StopExitCodeTest {
  @Test
  void sigtermCheckpointsThenExits143(@TempDir Path dir) throws Exception {
    Path run = Files.createDirectories(dir.resolve("run"));
    List<Path> foreign = List.of(run.resolve(".notes.tmp"), run.resolve(".data.tmp-123"), run.resolve(".model_phase0.torch.tmp-4242"));
    for (Path f : foreign) {
      Files.writeString(f, "not npid4j's");
    }
    List<String> cmd = new ArrayList<>();
    cmd.add(ProcessHandle.current().info().command().orElseThrow());
    cmd.addAll(ManagementFactory.getRuntimeMXBean().getInputArguments().stream().filter(a -> !a.startsWith("-agentlib")).toList());
    cmd.addAll(List.of("-cp", System.getProperty("java.class.path"), Main.class.getName()));
    cmd.addAll(HostileInputTest.train(run, "config.OPTIMIZER.num_epochs=500", "config.LOG_FREQUENCY=1"));
    Path log = dir.resolve("log");
    Process p = new ProcessBuilder(cmd).redirectErrorStream(true).redirectOutput(log.toFile()).start();
    long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(120);
    while (p.isAlive() && System.nanoTime() < deadline && !Files.readString(log).contains("epoch 2/")) {
      Thread.sleep(50);
    }
    p.destroy(); // SIGTERM
    assertThat(p.waitFor(120, TimeUnit.SECONDS)).isTrue();
    String out = Files.readString(log);
    assertThat(p.exitValue()).as(out).isEqualTo(143);
    assertThat(out).contains("stopped at global step").contains("run the same command again to resume");
    try (var files = Files.list(run)) {
      assertThat(files.map(f -> f.getFileName().toString())).anyMatch(f -> f.startsWith("model_"));
    }
    for (Path f : foreign) {
      assertThat(f).as("a file npid4j did not write stays").hasContent("not npid4j's");
    }
  }
}
