package dev.npid4j.distributed;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.npid4j.torch.Torch;
import java.net.ConnectException;
import java.net.Inet4Address;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.NetworkInterface;
import java.net.Socket;
import java.time.Duration;
import java.util.Collections;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;

/**
 * A job on one machine (its rendezvous on 127.0.0.1) listens on loopback only: a connection to the
 * store's port through this host's network address is refused, while the ranks meet as before.
 */
@Tag("e2e")
class RendezvousExposureTest {
  @Test
  void aLocalStoreRefusesConnectionsFromTheNetwork() throws Exception {
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
    Torch.load();
    int port = DistributedTrainingTest.freePort();
    Duration timeout = Duration.ofSeconds(30);
    ExecutorService pool = Executors.newFixedThreadPool(2);
    try {
      Future<GlooCommunicator> rank0 = pool.submit(() -> GlooCommunicator.connect(new Rendezvous(0, 2, 0, 2, "tcp", "127.0.0.1", port, "", timeout)));
      long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(20);
      boolean listening = false;
      while (!listening && System.nanoTime() < deadline) {
        try (Socket s = new Socket()) {
          s.connect(new InetSocketAddress("127.0.0.1", port), 500);
          listening = true;
        } catch (ConnectException e) {
          Thread.sleep(50);
        }
      }
      assertThat(listening).as("rank 0's store listens on 127.0.0.1:%d", port).isTrue();
      InetAddress from = external;
      assertThatThrownBy(() -> {
        try (Socket s = new Socket()) {
          s.connect(new InetSocketAddress(from, port), 2000);
        }
      }).as("a connection to %s:%d", from, port).isInstanceOf(ConnectException.class);
      Future<GlooCommunicator> rank1 = pool.submit(() -> GlooCommunicator.connect(new Rendezvous(1, 2, 1, 2, "tcp", "127.0.0.1", port, "", timeout)));
      GlooCommunicator a = rank0.get(60, TimeUnit.SECONDS);
      GlooCommunicator b = rank1.get(60, TimeUnit.SECONDS);
      assertThat(a.worldSize()).isEqualTo(2);
      assertThat(b.rank()).isEqualTo(1);
      Future<?> closeA = pool.submit(a::close);
      b.close();
      closeA.get(60, TimeUnit.SECONDS);
    } finally {
      pool.shutdownNow();
    }
  }
}
