package dev.npid4j.distributed;

import dev.npid4j.torch.Scopes;
import dev.npid4j.torch.Torch;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import org.bytedeco.pytorch.Store;

/**
 * Every rank bumps a counter in the rendezvous store once a second, so that after a failed
 * collective the survivors can tell which ranks went silent (a killed or frozen process stops
 * counting).
 */
final class Heartbeat implements AutoCloseable {
  private static final String KEY = "npid4j/heartbeat/";
  private static final long BEAT_MILLIS = 1000;

  private final Store store;
  private final int rank;
  private final int worldSize;
  /** What to say when the store itself cannot be reached. */
  private final String storeGone;
  private final Thread thread;
  private volatile boolean closed;

  Heartbeat(Store store, int rank, int worldSize, String storeGone) {
    this.store = store;
    this.rank = rank;
    this.worldSize = worldSize;
    this.storeGone = storeGone;
    this.thread = new Thread(this::beat, "npid4j-heartbeat");
    thread.setDaemon(true);
    thread.start();
  }

  private void beat() {
    while (!closed) {
      try {
        store.add(KEY + rank, 1);
        Thread.sleep(BEAT_MILLIS);
      } catch (InterruptedException e) {
        return;
      } catch (RuntimeException e) {
        return; // the store is gone; the next collective reports it
      }
    }
  }

  /** Which ranks stopped beating while we watched for {@code wait} (at least three beats), as a sentence. */
  String silentRanks(Duration wait) {
    try (var s = Scopes.open()) {
      store.setTimeout(Torch.milliseconds(Duration.ofSeconds(5)));
      long[] before = beats();
      long watched = Math.max(3 * BEAT_MILLIS, wait.toMillis());
      Thread.sleep(watched);
      long[] after = beats();
      List<Integer> silent = new ArrayList<>();
      for (int r = 0; r < worldSize; r++) {
        if (r != rank && after[r] == before[r]) {
          silent.add(r);
        }
      }
      if (silent.isEmpty()) {
        return "Every rank is still alive (a rank may be stuck, or the network between nodes failed)";
      }
      return (silent.size() == 1 ? "Rank " + silent.get(0) + " has" : "Ranks " + silent + " have") + " stopped answering (no heartbeat for "
          + watched / 1000 + " s)";
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      return "";
    } catch (RuntimeException e) {
      return storeGone;
    }
  }

  private long[] beats() {
    long[] out = new long[worldSize];
    for (int r = 0; r < worldSize; r++) {
      out[r] = store.add(KEY + r, 0);
    }
    return out;
  }

  /** Stops beating; returns once the beating thread has left the store (which must outlive it). */
  @Override
  public void close() {
    closed = true;
    thread.interrupt();
    try {
      thread.join(5000);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    }
  }
}
