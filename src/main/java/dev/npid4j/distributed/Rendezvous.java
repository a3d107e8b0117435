package dev.npid4j.distributed;

import java.time.Duration;

/**
 * Where and as whom one process joins a job: its global and local rank, the world size, and the
 * c10d store everyone meets at (a TCPStore served by rank 0 at host:port, or a FileStore on a
 * shared file).
 *
 * @param localWorldSize processes of this job on this machine (threads are split between them)
 */
public record Rendezvous(int rank, int worldSize, int localRank, int localWorldSize, String initMethod, String host, int port,
    String file, Duration timeout) {

  public Rendezvous {
    if (worldSize < 1 || rank < 0 || rank >= worldSize) {
      throw new IllegalArgumentException("rank " + rank + " outside a world of " + worldSize);
    }
    if (!initMethod.equals("tcp") && !initMethod.equals("file")) {
      throw new IllegalArgumentException("init method must be tcp or file, got " + initMethod);
    }
  }

  /** One process, no peers. */
  public static Rendezvous single(Duration timeout) {
    return new Rendezvous(0, 1, 0, 1, "tcp", "127.0.0.1", 0, "", timeout);
  }

  public String where() {
    return initMethod.equals("tcp") ? "tcp://" + host + ":" + port : "file://" + file;
  }
}
