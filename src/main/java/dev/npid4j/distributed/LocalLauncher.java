package dev.npid4j.distributed;

import dev.npid4j.torch.Torch;
import java.io.IOException;
import java.io.PrintStream;
import java.io.UncheckedIOException;
import java.lang.management.ManagementFactory;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import sun.misc.Signal;

/**
 * VISSL's launcher for one node: one child JVM per local rank, each running
 * {@code <main class> <args>} with torchrun's environment (RANK, LOCAL_RANK, WORLD_SIZE,
 * LOCAL_WORLD_SIZE, MASTER_ADDR, MASTER_PORT). It forwards SIGTERM / SIGINT to the children
 * (they checkpoint and stop together), and when one child fails it gives the others a grace
 * period to notice and report, then stops them: nothing is left running.
 */
public final class LocalLauncher {
  private final Launch.Spawn plan;
  private final PrintStream out;

  public LocalLauncher(Launch.Spawn plan, PrintStream out) {
    this.plan = plan;
    this.out = out;
  }

  /** Runs the children to the end; returns 0 when all succeeded, else the first failure's exit code. */
  public int run(String mainClass, List<String> args) {
    List<Process> children = new ArrayList<>();
    installSignalForwarding(children);
    out.printf("[launch] node %d: starting ranks %d-%d of %d (%s)%n", plan.nodeId(), plan.firstRank(),
        plan.firstRank() + plan.localRanks() - 1, plan.worldSize(),
        plan.initMethod().equals("tcp") ? "tcp://" + plan.host() + ":" + plan.port() : "file://" + plan.file());
    try {
      for (int local = 0; local < plan.localRanks(); local++) {
        ProcessBuilder pb = new ProcessBuilder(command(mainClass, args)).inheritIO();
        Map<String, String> env = pb.environment();
        Torch.NATIVE_ENV.forEach(env::putIfAbsent);
        env.put("RANK", Integer.toString(plan.firstRank() + local));
        env.put("LOCAL_RANK", Integer.toString(local));
        env.put("WORLD_SIZE", Integer.toString(plan.worldSize()));
        env.put("LOCAL_WORLD_SIZE", Integer.toString(plan.localRanks()));
        env.put("GROUP_RANK", Integer.toString(plan.nodeId()));
        if (plan.initMethod().equals("tcp")) {
          env.put("MASTER_ADDR", plan.host());
          env.put("MASTER_PORT", Integer.toString(plan.port()));
        } else {
          env.remove("MASTER_ADDR");
          env.put("NPID4J_INIT_FILE", plan.file());
        }
        synchronized (children) {
          children.add(pb.start());
        }
      }
    } catch (IOException e) {
      children.forEach(Process::destroyForcibly);
      throw new UncheckedIOException("cannot start the local ranks", e);
    }
    return supervise(children);
  }

  private int supervise(List<Process> children) {
    int firstFailure = 0;
    long deadline = Long.MAX_VALUE;
    boolean[] reported = new boolean[children.size()];
    long grace = Math.min(plan.timeout().toNanos(), TimeUnit.SECONDS.toNanos(60));
    while (true) {
      boolean allDone = true;
      for (int i = 0; i < children.size(); i++) {
        Process c = children.get(i);
        if (c.isAlive()) {
          allDone = false;
          continue;
        }
        if (!reported[i]) {
          reported[i] = true;
          int code = c.exitValue();
          if (code != 0) {
            out.printf("[launch] rank %d (pid %d) exited with code %d%s%n", plan.firstRank() + i, c.pid(), code,
                code > 128 ? " (signal " + (code - 128) + ")" : "");
            if (firstFailure == 0) {
              firstFailure = code;
              deadline = System.nanoTime() + grace;
            }
          }
        }
      }
      if (allDone) {
        return firstFailure;
      }
      if (System.nanoTime() > deadline) {
        out.printf("[launch] stopping the remaining local ranks (%d s after the first failure)%n", grace / 1_000_000_000L);
        for (Process c : children) {
          c.destroy();
        }
        waitAll(children, 10);
        children.forEach(Process::destroyForcibly);
        waitAll(children, 10);
        deadline = Long.MAX_VALUE;
      }
      try {
        Thread.sleep(100);
      } catch (InterruptedException e) {
        children.forEach(Process::destroyForcibly);
        Thread.currentThread().interrupt();
        return 130;
      }
    }
  }

  private static void waitAll(List<Process> children, int seconds) {
    long end = System.nanoTime() + TimeUnit.SECONDS.toNanos(seconds);
    for (Process c : children) {
      try {
        c.waitFor(Math.max(0, end - System.nanoTime()), TimeUnit.NANOSECONDS);
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
        return;
      }
    }
  }

  /** SIGTERM / SIGINT reach the children as SIGTERM (each checkpoints at the agreed step); a second SIGINT kills them. */
  private static void installSignalForwarding(List<Process> children) {
    boolean[] interrupted = {false};
    for (String name : new String[] {"TERM", "INT"}) {
      try {
        Signal.handle(new Signal(name), s -> {
          synchronized (children) {
            if (name.equals("INT") && interrupted[0]) {
              children.forEach(Process::destroyForcibly);
              Runtime.getRuntime().halt(130);
            }
            interrupted[0] |= name.equals("INT");
            children.forEach(Process::destroy);
          }
        });
      } catch (IllegalArgumentException e) {
        // claimed by the JVM (-Xrs): default handling
      }
    }
  }

  static final String NO_POINTER_GC = "org.bytedeco.javacpp.nopointergc";

  /** The java command of this JVM (same binary, JVM options and class path) running {@code mainClass args}. */
  private static List<String> command(String mainClass, List<String> args) {
    List<String> cmd = new ArrayList<>();
    cmd.add(ProcessHandle.current().info().command().orElse(System.getProperty("java.home") + "/bin/java"));
    for (String a : ManagementFactory.getRuntimeMXBean().getInputArguments()) {
      if (!a.startsWith("-agentlib:jdwp")) {
        cmd.add(a);
      }
    }
    // No JavaCPP deallocation by the garbage collector in the ranks: its deallocator thread,
    // still freeing collected native objects while the process exits, raced libtorch's static
    // destructors ("malloc(): unsorted double linked list corrupted" after a finished run: 8 of
    // 104 two-rank SyncBatchNorm runs, 0 of 40 with this). Training frees its tensors through
    // PointerScopes and close(); NativeMemoryTest checks 2,000 steps this way too.
    cmd.add("-D" + NO_POINTER_GC + "=true");
    cmd.add("-cp");
    cmd.add(System.getProperty("java.class.path"));
    cmd.add(mainClass);
    cmd.addAll(args);
    return cmd;
  }
}
