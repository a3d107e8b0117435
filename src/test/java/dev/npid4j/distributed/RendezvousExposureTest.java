package dev.npid4j.distributed;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.net.ConnectException;
import java.net.Inet4Address;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.NetworkInterface;
import java.net.Socket;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * A job on one machine (2 ranks, rendezvous at 127.0.0.1:port) listens on loopback only: while it
 * trains, a connection to the store's port through this host's network address is refused, one
 * through 127.0.0.1 is accepted. The job runs as the user would start it, in its own processes.
 */
@Tag("e2e")
class RendezvousExposureTest {
  @Test
  void aLocalJobRefusesConnectionsFromTheNetwork(@TempDir Path dir) throws Exception {
    InetAddress external = null;
    for (NetworkInterface nif : Collections.list(NetworkInterface.getNetworkInterfaces())) {
      if (nif.isUp() && !nif.isLoopback()) {
        for (InetAddress a : Collections.list(nif.getInetAddresses())) {
          if (a instanceof Inet4Address) {
            external = a;
          }
        }
      }
    }
    Assumptions.assumeTrue(external != null, "this machine has no network address besides loopback");
    int port = DistributedTrainingTest.freePort();
    List<String> args = new ArrayList<>(List.of("train"));
    args.addAll(DistributedTrainingTest.config(dir.resolve("run"), 2, 32, "config.OPTIMIZER.num_epochs=500",
        "config.DISTRIBUTED.RUN_ID=127.0.0.1:" + port));
    DistributedTrainingTest.Run job = DistributedTrainingTest.Run.start(dir.resolve("job.log"), Map.of(), args.toArray(String[]::new));
    try {
      long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(120);
      while (job.alive() && System.nanoTime() < deadline && !Files.readString(job.logFile()).contains("epoch 2/")) {
        Thread.sleep(100);
      }
      assertThat(Files.readString(job.logFile())).as("the job trains").contains("epoch 2/");
      try (Socket s = new Socket()) {
        s.connect(new InetSocketAddress("127.0.0.1", port), 2000); // the store, through loopback
      }
      InetAddress from = external;
      assertThatThrownBy(() -> {
        try (Socket s = new Socket()) {
          s.connect(new InetSocketAddress(from, port), 2000);
        }
      }).as("a connection to %s:%d", from, port).isInstanceOf(ConnectException.class);
    } finally {
      job.process().destroy(); // SIGTERM: the ranks checkpoint and stop
      job.waitFor(120);
    }
  }
}
