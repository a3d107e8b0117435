package dev.npid4j.distributed;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.npid4j.UserError;
import dev.npid4j.config.DistributedConfig;
import java.util.Map;
import org.junit.jupiter.api.Test;

/** VISSL's launcher rules, torchrun's and SLURM's environments: which rank this process is, or what it spawns. */
class LaunchTest {
  static DistributedConfig dist(int nodes, int perNode, String init, String runId, int nodeId) {
    return new DistributedConfig("gloo", nodes, perNode, init, runId, nodeId, 60, true, false);
  }

  @Test
  void oneProcessIsAWorldOfOne() {
    var p = (Launch.Worker) Launch.plan(dist(1, 1, "tcp", "auto", 0), Map.of());
    assertThat(p.rendezvous().worldSize()).isEqualTo(1);
  }

  @Test
  void severalLocalRanksMeetAtAStoreFileInAPrivateFolder() throws Exception {
    var p = (Launch.Spawn) Launch.plan(dist(1, 4, "tcp", "auto", 0), Map.of());
    assertThat(p.localRanks()).isEqualTo(4);
    assertThat(p.firstRank()).isZero();
    assertThat(p.worldSize()).isEqualTo(4);
    assertThat(p.initMethod()).isEqualTo("file"); // no rendezvous port: nothing listens on the network
    java.nio.file.Path dir = java.nio.file.Path.of(p.file()).getParent();
    assertThat(java.nio.file.Files.getPosixFilePermissions(dir)).containsExactlyInAnyOrder(
        java.nio.file.attribute.PosixFilePermission.OWNER_READ, java.nio.file.attribute.PosixFilePermission.OWNER_WRITE,
        java.nio.file.attribute.PosixFilePermission.OWNER_EXECUTE);
  }

  @Test
  void nodeIdGivesTheRanksOfThatNode() {
    var p = (Launch.Spawn) Launch.plan(dist(4, 8, "tcp", "node0:29500", 2), Map.of());
    assertThat(p.firstRank()).isEqualTo(16);
    assertThat(p.worldSize()).isEqualTo(32);
    assertThat(p.host()).isEqualTo("node0");
    assertThat(p.port()).isEqualTo(29500);
    var one = (Launch.Worker) Launch.plan(dist(2, 1, "tcp", "10.0.0.1:1234", 1), Map.of());
    assertThat(one.rendezvous().rank()).isEqualTo(1);
    assertThat(one.rendezvous().where()).isEqualTo("tcp://10.0.0.1:1234");
  }

  @Test
  void autoRunIdIsForOneNodeOnly() {
    assertThatThrownBy(() -> Launch.plan(dist(2, 8, "tcp", "auto", 0), Map.of())).isInstanceOf(UserError.class)
        .hasMessageContaining("RUN_ID=auto works on one node only").hasMessageContaining("node0:29500");
    assertThatThrownBy(() -> Launch.plan(dist(2, 1, "tcp", "node0", 0), Map.of())).isInstanceOf(UserError.class)
        .hasMessageContaining("must be host:port");
    assertThatThrownBy(() -> Launch.plan(dist(2, 1, "tcp", "node0:99999", 0), Map.of())).isInstanceOf(UserError.class)
        .hasMessageContaining("not a TCP port");
  }

  @Test
  void fileInitUsesTheGivenFileOrAFreshOne() {
    var p = (Launch.Spawn) Launch.plan(dist(1, 2, "file", "auto", 0), Map.of());
    assertThat(p.initMethod()).isEqualTo("file");
    assertThat(p.file()).endsWith("store");
    var w = (Launch.Worker) Launch.plan(dist(2, 1, "file", "/shared/job.store", 1), Map.of());
    assertThat(w.rendezvous().file()).isEqualTo("/shared/job.store");
  }

  @Test
  void torchrunEnvironmentMakesThisProcessThatRank() {
    var w = (Launch.Worker) Launch.plan(dist(2, 2, "env", "auto", 0),
        Map.of("RANK", "3", "WORLD_SIZE", "4", "LOCAL_RANK", "1", "MASTER_ADDR", "host0", "MASTER_PORT", "29400"));
    assertThat(w.rendezvous().rank()).isEqualTo(3);
    assertThat(w.rendezvous().localRank()).isEqualTo(1);
    assertThat(w.rendezvous().localWorldSize()).isEqualTo(2);
    assertThat(w.rendezvous().where()).isEqualTo("tcp://host0:29400");
    assertThatThrownBy(() -> Launch.plan(dist(1, 8, "tcp", "auto", 0), Map.of("RANK", "0", "WORLD_SIZE", "4",
        "MASTER_ADDR", "h", "MASTER_PORT", "1"))).isInstanceOf(UserError.class)
        .hasMessageContaining("WORLD_SIZE=4 but config.DISTRIBUTED has NUM_NODES=1 x NUM_PROC_PER_NODE=8 = 8");
    assertThatThrownBy(() -> Launch.plan(dist(1, 2, "env", "auto", 0), Map.of())).isInstanceOf(UserError.class)
        .hasMessageContaining("INIT_METHOD=env needs RANK");
  }

  @Test
  void slurmOneTaskPerNodeOrPerProcess() {
    Map<String, String> perNode = Map.of("SLURM_JOB_NODELIST", "gpu[007-010]", "SLURM_NTASKS", "4", "SLURM_PROCID", "2",
        "SLURM_NODEID", "2");
    var s = (Launch.Spawn) Launch.plan(dist(4, 8, "tcp", "auto", 0), perNode);
    assertThat(s.nodeId()).isEqualTo(2);
    assertThat(s.firstRank()).isEqualTo(16);
    assertThat(s.host()).isEqualTo("gpu007");
    assertThat(s.port()).isEqualTo(Launch.SLURM_DEFAULT_PORT);
    Map<String, String> perProcess = Map.of("SLURM_JOB_NODELIST", "a1,b2", "SLURM_NTASKS", "4", "SLURM_PROCID", "3",
        "SLURM_LOCALID", "1");
    var w = (Launch.Worker) Launch.plan(dist(2, 2, "tcp", "x:40050", 0), perProcess);
    assertThat(w.rendezvous().rank()).isEqualTo(3);
    assertThat(w.rendezvous().localRank()).isEqualTo(1);
    assertThat(w.rendezvous().where()).isEqualTo("tcp://a1:40050");
    assertThatThrownBy(() -> Launch.plan(dist(2, 2, "tcp", "auto", 0), Map.of("SLURM_JOB_NODELIST", "a", "SLURM_NTASKS", "3",
        "SLURM_PROCID", "0"))).isInstanceOf(UserError.class).hasMessageContaining("SLURM_NTASKS=3 fits neither");
  }

  @Test
  void firstHostOfASlurmNodeList() {
    assertThat(Launch.firstHost("node17")).isEqualTo("node17");
    assertThat(Launch.firstHost("login1,gpu[1-4]")).isEqualTo("login1");
    assertThat(Launch.firstHost("gpu[003-005,9],login1")).isEqualTo("gpu003");
    assertThat(Launch.firstHost("rack2-n[12,14]")).isEqualTo("rack2-n12");
  }
}
