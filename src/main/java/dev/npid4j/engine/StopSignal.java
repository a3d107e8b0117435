package dev.npid4j.engine;

import java.util.concurrent.atomic.AtomicReference;
import sun.misc.Signal;

/**
 * SIGTERM (what SLURM and Kubernetes send before preemption) and SIGINT (Ctrl-C) ask training to
 * stop at the next step boundary after writing a checkpoint; a second SIGINT kills as usual.
 */
final class StopSignal {
  private static final AtomicReference<String> REQUESTED = new AtomicReference<>();

  private StopSignal() {}

  static void install() {
    for (String name : new String[] {"TERM", "INT"}) {
      try {
        Signal.handle(new Signal(name), s -> {
          if (!REQUESTED.compareAndSet(null, "SIG" + name) && name.equals("INT")) {
            Runtime.getRuntime().halt(130);
          }
        });
      } catch (IllegalArgumentException e) {
        // signal not available on this platform or claimed by the JVM (-Xrs); default handling stays
      }
    }
  }

  /** The signal that asked to stop, or null. */
  static String requested() {
    return REQUESTED.get();
  }

  /** For tests: behave as if the signal had arrived. */
  static void request(String name) {
    REQUESTED.compareAndSet(null, name);
  }

  static void reset() {
    REQUESTED.set(null);
  }
}
