package dev.npid4j.distributed;

import dev.npid4j.UserError;
import dev.npid4j.config.DistributedConfig;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Map;

/**
 * What this process is in a job, from the config and the environment, with VISSL's launcher
 * rules (docs/vissl-compatibility.md): world = NUM_NODES x NUM_PROC_PER_NODE, rank = P x node_id + local
 * rank, RUN_ID host:port (tcp) or a path (file), {@code auto} for one node only (a store file in
 * a private folder, whatever INIT_METHOD says: a job on one machine opens no rendezvous port).
 *
 * <ul>
 *   <li>RANK and WORLD_SIZE in the environment (torchrun, or npid4j's own launcher): this
 *       process is that rank; MASTER_ADDR/MASTER_PORT name the store (or NPID4J_INIT_FILE /
 *       RUN_ID the file).
 *   <li>SLURM (SLURM_JOB_NODELIST, SLURM_NTASKS, SLURM_PROCID): one task per process makes the
 *       task that rank; one task per node makes it node SLURM_NODEID's launcher. The store is on
 *       the first host of the node list, at RUN_ID's port (29500 when RUN_ID is auto).
 *   <li>Otherwise the launcher of node {@code node_id}: a world of one trains in this process,
 *       NUM_PROC_PER_NODE = 1 makes this process rank node_id, more spawn one child per local rank.
 * </ul>
 */
public final class Launch {
  static final int SLURM_DEFAULT_PORT = 29500;

  private Launch() {}

  /** What to do: run as one rank here, or spawn the local ranks. */
  public sealed interface Plan permits Worker, Spawn {}

  /** Train in this process as {@code rendezvous.rank()}. */
  public record Worker(Rendezvous rendezvous) implements Plan {}

  /** Start {@code localRanks} children, ranks {@code firstRank}..; each meets the others at the rendezvous. */
  public record Spawn(int nodeId, int localRanks, int firstRank, int worldSize, String initMethod, String host, int port, String file,
      Duration timeout) implements Plan {}

  public static Plan plan(DistributedConfig d, Map<String, String> env) {
    int world = d.worldSize();
    int p = d.procPerNode();
    Duration timeout = Duration.ofSeconds(d.timeoutSeconds());
    if (env.containsKey("RANK") && env.containsKey("WORLD_SIZE")) {
      int rank = envInt(env, "RANK");
      int envWorld = envInt(env, "WORLD_SIZE");
      checkWorld(envWorld, "WORLD_SIZE", d);
      int localRank = env.containsKey("LOCAL_RANK") ? envInt(env, "LOCAL_RANK") : rank % p;
      int localWorld = env.containsKey("LOCAL_WORLD_SIZE") ? envInt(env, "LOCAL_WORLD_SIZE") : p;
      if (env.containsKey("MASTER_ADDR") && env.containsKey("MASTER_PORT")) {
        return new Worker(new Rendezvous(rank, envWorld, localRank, localWorld, "tcp", env.get("MASTER_ADDR"),
            port(env.get("MASTER_PORT"), "MASTER_PORT"), "", timeout));
      }
      String file = env.getOrDefault("NPID4J_INIT_FILE", d.initMethod().equals("file") ? d.runId() : "");
      if (file.isEmpty() || file.equals("auto")) {
        throw new UserError("RANK and WORLD_SIZE are set but not MASTER_ADDR and MASTER_PORT: set them (torchrun does), or use"
            + " config.DISTRIBUTED.INIT_METHOD=file with config.DISTRIBUTED.RUN_ID=<a file every rank can reach>");
      }
      return new Worker(new Rendezvous(rank, envWorld, localRank, localWorld, "file", "", 0, file, timeout));
    }
    int nodeId = d.nodeId();
    if (env.containsKey("SLURM_JOB_NODELIST") && env.containsKey("SLURM_NTASKS") && env.containsKey("SLURM_PROCID") && world > 1) {
      int tasks = envInt(env, "SLURM_NTASKS");
      String host = firstHost(env.get("SLURM_JOB_NODELIST"));
      int port = d.runId().contains(":") ? port(d.runId().substring(d.runId().lastIndexOf(':') + 1), "config.DISTRIBUTED.RUN_ID")
          : SLURM_DEFAULT_PORT;
      if (tasks == world) {
        int rank = envInt(env, "SLURM_PROCID");
        int localRank = env.containsKey("SLURM_LOCALID") ? envInt(env, "SLURM_LOCALID") : rank % p;
        return new Worker(new Rendezvous(rank, world, localRank, p, "tcp", host, port, "", timeout));
      }
      if (tasks != d.numNodes()) {
        throw new UserError("SLURM_NTASKS=" + tasks + " fits neither one task per process (" + world + ") nor one task per node ("
            + d.numNodes() + ") for config.DISTRIBUTED NUM_NODES=" + d.numNodes() + " x NUM_PROC_PER_NODE=" + p);
      }
      nodeId = envInt(env, "SLURM_NODEID");
      return spawnOrWork(nodeId, p, world, "tcp", host, port, "", timeout);
    }
    if (world == 1) {
      return new Worker(Rendezvous.single(timeout));
    }
    switch (d.initMethod()) {
      case "tcp" -> {
        String host;
        int port;
        if (d.runId().equals("auto")) {
          if (d.numNodes() > 1) {
            throw new UserError("config.DISTRIBUTED.RUN_ID=auto works on one node only: with NUM_NODES=" + d.numNodes()
                + " give node 0's address, e.g. config.DISTRIBUTED.RUN_ID=node0:29500, to every node");
          }
          // one machine: the ranks meet at a store file in a private folder, so nothing listens on
          // the network for the rendezvous and no port is picked and bound later (a race)
          return spawnOrWork(nodeId, p, world, "file", "", 0, privateStoreFile(), timeout);
        } else {
          int colon = d.runId().lastIndexOf(':');
          if (colon <= 0) {
            throw new UserError("config.DISTRIBUTED.RUN_ID must be host:port for INIT_METHOD tcp, got '" + d.runId() + "'");
          }
          host = d.runId().substring(0, colon);
          port = port(d.runId().substring(colon + 1), "config.DISTRIBUTED.RUN_ID");
        }
        return spawnOrWork(nodeId, p, world, "tcp", host, port, "", timeout);
      }
      case "file" -> {
        String file = d.runId();
        if (file.equals("auto")) {
          if (d.numNodes() > 1) {
            throw new UserError("config.DISTRIBUTED.RUN_ID=auto works on one node only: with NUM_NODES=" + d.numNodes()
                + " give a file on a shared file system, e.g. config.DISTRIBUTED.RUN_ID=/shared/job42.store");
          }
          file = privateStoreFile();
        }
        return spawnOrWork(nodeId, p, world, "file", "", 0, file, timeout);
      }
      default -> throw new UserError("config.DISTRIBUTED.INIT_METHOD=env needs RANK, WORLD_SIZE, MASTER_ADDR and MASTER_PORT in"
          + " the environment (as torchrun sets them)");
    }
  }

  private static Plan spawnOrWork(int nodeId, int p, int world, String init, String host, int port, String file, Duration timeout) {
    if (p == 1) {
      return new Worker(new Rendezvous(nodeId, world, 0, 1, init, host, port, file, timeout));
    }
    return new Spawn(nodeId, p, p * nodeId, world, init, host, port, file, timeout);
  }

  private static void checkWorld(int envWorld, String from, DistributedConfig d) {
    if (envWorld != d.worldSize()) {
      throw new UserError(from + "=" + envWorld + " but config.DISTRIBUTED has NUM_NODES=" + d.numNodes() + " x NUM_PROC_PER_NODE="
          + d.procPerNode() + " = " + d.worldSize() + " ranks (the LR scaling and the data split use it): make them agree");
    }
  }

  /** The first host of a SLURM node list: "gpu[003-005,9],login1" is gpu003. */
  static String firstHost(String nodeList) {
    String s = nodeList.strip();
    int bracket = s.indexOf('[');
    int comma = s.indexOf(',');
    if (bracket < 0 || (comma >= 0 && comma < bracket)) {
      return comma < 0 ? s : s.substring(0, comma);
    }
    String prefix = s.substring(0, bracket);
    String range = s.substring(bracket + 1, s.indexOf(']', bracket));
    String first = range.split(",")[0].split("-")[0];
    return prefix + first;
  }

  private static int envInt(Map<String, String> env, String key) {
    try {
      return Integer.parseInt(env.get(key).strip());
    } catch (NumberFormatException e) {
      throw new UserError("environment variable " + key + " must be an integer, got '" + env.get(key) + "'");
    }
  }

  private static int port(String s, String where) {
    try {
      int port = Integer.parseInt(s.strip());
      if (port < 1 || port > 65535) {
        throw new NumberFormatException();
      }
      return port;
    } catch (NumberFormatException e) {
      throw new UserError(where + ": '" + s + "' is not a TCP port (1-65535)");
    }
  }

  /** A store file in a new folder only this user can open (mode 700). */
  private static String privateStoreFile() {
    try {
      Path dir = Files.createTempDirectory("npid4j-store", java.nio.file.attribute.PosixFilePermissions.asFileAttribute(
          java.nio.file.attribute.PosixFilePermissions.fromString("rwx------")));
      return dir.resolve("store").toString();
    } catch (IOException e) {
      throw new UserError("cannot create the rendezvous folder in " + System.getProperty("java.io.tmpdir") + ": " + e.getMessage());
    }
  }
}
