package dev.npid4j.config;

import java.util.Set;

/**
 * @param timeoutSeconds npid4j: how long a collective or the rendezvous waits for a silent rank
 * @param broadcastBuffers DDP's broadcast_buffers: rank 0's BatchNorm statistics replace the others' before every forward
 * @param syncBn MODEL.SYNC_BN_CONFIG.CONVERT_BN_TO_SYNC_BN
 */
public record DistributedConfig(String backend, int numNodes, int procPerNode, String initMethod, String runId, int nodeId,
    int timeoutSeconds, boolean broadcastBuffers, boolean syncBn) {
  public int worldSize() {
    return numNodes * procPerNode;
  }

  static DistributedConfig read(ConfigTree t) {
    String d = "config." + "DISTRIBUTED.";
    int nodes = Values.positive(t, d + "NUM_NODES");
    int nodeId = t.getInt("node_id");
    if (nodeId < 0 || nodeId >= nodes) {
      throw new ConfigError("node_id must be in [0, " + nodes + ") for DISTRIBUTED.NUM_NODES=" + nodes + ", got " + nodeId);
    }
    String init = t.getString(d + "INIT_METHOD");
    if (!Set.of("tcp", "file", "env").contains(init)) {
      throw new ConfigError(d + "INIT_METHOD must be tcp, file or env, got '" + init + "'");
    }
    return new DistributedConfig(t.getString(d + "BACKEND"), nodes, Values.positive(t, d + "NUM_PROC_PER_NODE"), init,
        t.getString(d + "RUN_ID"), nodeId, Values.positive(t, d + "TIMEOUT_SECONDS"), t.getBool(d + "BROADCAST_BUFFERS"),
        t.getBool("config." + "MODEL.SYNC_BN_CONFIG.CONVERT_BN_TO_SYNC_BN"));
  }
}
