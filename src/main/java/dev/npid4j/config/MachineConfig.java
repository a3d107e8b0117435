package dev.npid4j.config;

import java.util.Set;

public record MachineConfig(String device, int numThreads) {
  /** MACHINE.NUM_THREADS, or when it is 0 the cores shared out between the job's processes on this machine. */
  public int intraOpThreads(int localProcesses) {
    return numThreads > 0 ? numThreads : Math.max(1, Runtime.getRuntime().availableProcessors() / Math.max(1, localProcesses));
  }

  static MachineConfig read(ConfigTree t) {
    String device = t.getString("config." + "MACHINE.DEVICE");
    if (!Set.of("cpu", "gpu").contains(device)) {
      throw new ConfigError("config." + "MACHINE.DEVICE must be cpu or gpu, got '" + device + "'");
    }
    return new MachineConfig(device, Values.nonNegative(t, "config." + "MACHINE.NUM_THREADS"));
  }
}
