package dev.npid4j.distributed;

import dev.npid4j.torch.Tensors;
import dev.npid4j.torch.Torch;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.function.Supplier;
import org.bytedeco.pytorch.AllreduceOptions;
import org.bytedeco.pytorch.Backend;
import org.bytedeco.pytorch.BarrierOptions;
import org.bytedeco.pytorch.BroadcastOptions;
import org.bytedeco.pytorch.FileStore;
import org.bytedeco.pytorch.GlooDeviceVector;
import org.bytedeco.pytorch.PrefixStore;
import org.bytedeco.pytorch.ProcessGroupGloo;
import org.bytedeco.pytorch.ReduceOp;
import org.bytedeco.pytorch.Scalar;
import org.bytedeco.pytorch.Store;
import org.bytedeco.pytorch.TCPStore;
import org.bytedeco.pytorch.TCPStoreOptions;
import org.bytedeco.pytorch.Tensor;
import org.bytedeco.pytorch.TensorVector;
import org.bytedeco.pytorch.Work;
import org.bytedeco.pytorch.gloo.Device;
import org.bytedeco.pytorch.nccl.ProcessGroupNCCL;
import org.bytedeco.pytorch.global.torch;
import org.bytedeco.pytorch.global.torch.ScalarType;

/**
 * The job's ranks over libtorch's c10d: a TCPStore (served by rank 0) or FileStore rendezvous
 * and a ProcessGroupGloo, the engine PyTorch's {@code init_process_group("gloo")} builds. The
 * process group's timeout bounds every collective: a peer that died breaks the connection at
 * once, a peer that hangs is given up on after the timeout.
 */
public final class GlooCommunicator implements Communicator {
  private final Store store;
  private final ProcessGroupGloo group;
  /** NCCL, for CUDA tensors (GPU runs); null on the CPU. */
  private final Backend cudaGroup;
  private final int rank;
  private final int localRank;
  private final int worldSize;
  private final Duration timeout;

  private final Heartbeat heartbeat;

  private GlooCommunicator(Store store, ProcessGroupGloo group, Backend cudaGroup, Rendezvous r) {
    this.store = store;
    this.group = group;
    this.cudaGroup = cudaGroup;
    this.rank = r.rank();
    this.localRank = r.localRank();
    this.worldSize = r.worldSize();
    this.timeout = r.timeout();
    this.heartbeat = new Heartbeat(store, rank, worldSize, r.initMethod().equals("tcp")
        ? "Rank 0, which serves the rendezvous store at " + r.where() + ", is gone" : "The rendezvous file " + r.file() + " cannot be read");
  }

  /** Joins the job; returns once every rank has joined, or fails after the rendezvous timeout. */
  public static GlooCommunicator connect(Rendezvous r) {
    return connect(r, false);
  }

  /**
   * Joins the job, with an NCCL process group next to the Gloo one when {@code nccl} (GPU runs,
   * GPU build): collectives on CUDA tensors go through NCCL, those on CPU tensors (the loss value,
   * the stop flag, barriers) through Gloo, as PyTorch does with a "cpu:gloo,cuda:nccl" group.
   */
  public static GlooCommunicator connect(Rendezvous r, boolean nccl) {
    Torch.load();
    var ms = Torch.milliseconds(r.timeout());
    Store store;
    try {
      if (r.initMethod().equals("tcp")) {
        TCPStoreOptions o = new TCPStoreOptions();
        // the C++ field is uint16_t: the cast keeps the bits of ports above 32767
        o.port((short) r.port()).isServer(r.rank() == 0).waitWorkers(true)
            .numWorkers(Torch.sizeT(r.worldSize())).timeout(ms);
        if (r.rank() == 0) {
          listenWhereAllowed(r, o);
        }
        store = new TCPStore(r.host(), o);
      } else {
        store = new FileStore(r.file(), r.worldSize());
        store.setTimeout(ms);
      }
    } catch (RuntimeException e) {
      throw new CollectiveFailure(String.format(Locale.ROOT, "rank %d: rendezvous at %s with %d ranks failed within %ds: %s",
          r.rank(), r.where(), r.worldSize(), r.timeout().toSeconds(), firstLine(e)), e);
    }
    try {
      ProcessGroupGloo.Options po = ProcessGroupGloo.Options.create(ms);
      po.devices(new GlooDeviceVector(device(r)));
      ProcessGroupGloo pg = new ProcessGroupGloo(store, r.rank(), r.worldSize(), po);
      Backend cuda = nccl ? new ProcessGroupNCCL(new PrefixStore("nccl", store), r.rank(), r.worldSize()) : null;
      return new GlooCommunicator(store, pg, cuda, r);
    } catch (RuntimeException e) {
      throw new CollectiveFailure(String.format(Locale.ROOT, "rank %d: cannot connect the Gloo process group of %d ranks at %s: %s",
          r.rank(), r.worldSize(), r.where(), firstLine(e)), e);
    }
  }

  /**
   * Rank 0's store socket: bound by npid4j on loopback for a job whose host is a loopback name (or
   * where NPID4J_STORE_BIND says) and handed to libtorch, which would otherwise bind every interface.
   */
  private static void listenWhereAllowed(Rendezvous r, TCPStoreOptions o) {
    java.net.InetAddress bind;
    try {
      bind = StoreSocket.bindAddress(r.host(), System.getenv(StoreSocket.BIND_ENV));
    } catch (java.net.UnknownHostException e) {
      throw new dev.npid4j.UserError("rank 0: cannot resolve " + e.getMessage() + " (the rendezvous host, or " + StoreSocket.BIND_ENV + ")");
    }
    if (bind == null) {
      return; // every interface, as PyTorch: a multi-machine job on a network the user trusts
    }
    java.util.OptionalInt fd;
    try {
      fd = StoreSocket.listen(bind, r.port());
    } catch (java.io.IOException e) {
      throw new dev.npid4j.UserError(String.format(Locale.ROOT, "rank 0: cannot listen for the rendezvous on %s:%d (%s)",
          bind.getHostAddress(), r.port(), e.getMessage()));
    }
    if (fd.isPresent()) {
      o.masterListenFd(new org.bytedeco.pytorch.IntOptional(fd.getAsInt()));
    } else {
      System.err.println("npid4j: warning: the rendezvous store listens on every interface, not only " + bind.getHostAddress()
          + ": start the JVM with --add-opens java.base/sun.nio.ch=ALL-UNNAMED (bin/npid4j does) to restrict it");
    }
  }

  /**
   * The network device Gloo binds: the interface in GLOO_SOCKET_IFNAME when set (as in PyTorch),
   * loopback for a job whose ranks are all on this machine or that meets on 127.0.0.1/localhost,
   * else the address this host's name resolves to.
   */
  private static Device device(Rendezvous r) {
    String ifname = System.getenv("GLOO_SOCKET_IFNAME");
    if (ifname != null && !ifname.isBlank()) {
      return ProcessGroupGloo.createDeviceForInterface(ifname.split(",")[0]);
    }
    if (r.localWorldSize() == r.worldSize() || r.initMethod().equals("tcp") && (r.host().equals("127.0.0.1") || r.host().equals("localhost"))) {
      return ProcessGroupGloo.createDeviceForHostname("127.0.0.1"); // every rank on this machine: nothing listens beyond it
    }
    return ProcessGroupGloo.createDefaultDevice();
  }

  @Override
  public int rank() {
    return rank;
  }

  @Override
  public int localRank() {
    return localRank;
  }

  /** The process group for {@code t}: NCCL for a CUDA tensor, Gloo otherwise. */
  private Backend on(Tensor t) {
    return cudaGroup != null && t.is_cuda() ? cudaGroup : group;
  }

  @Override
  public int worldSize() {
    return worldSize;
  }

  @Override
  public void allReduceMean(Tensor t) {
    allReduce(t, ReduceOp.RedOpType.SUM, "all-reduce");
    t.div_(new Scalar((double) worldSize));
  }

  @Override
  public void allReduceSum(Tensor t) {
    allReduce(t, ReduceOp.RedOpType.SUM, "all-reduce");
  }

  /** Gloo runs the collective on its own threads: the caller goes on (with the backward pass) until await. */
  @Override
  public Pending startAllReduceSum(Tensor t) {
    String what = "all-reduce of a gradient bucket";
    Work work = run(what, () -> on(t).allreduce(new TensorVector(t), reduce(ReduceOp.RedOpType.SUM)));
    return () -> run(what, () -> {
      work._wait();
    });
  }

  @Override
  public void allReduceMax(Tensor t) {
    allReduce(t, ReduceOp.RedOpType.MAX, "all-reduce (max)");
  }

  /** Several all-reduce means issued together (Gloo works on them concurrently), then awaited. */
  @Override
  public void allReduceMean(List<Tensor> flats) {
    List<Work> works = new ArrayList<>();
    run("all-reduce of " + flats.size() + " gradient buckets", () -> {
      for (Tensor f : flats) {
        works.add(on(f).allreduce(new TensorVector(f), reduce(ReduceOp.RedOpType.SUM)));
      }
      for (Work w : works) {
        w._wait();
      }
      return null;
    });
    for (Tensor f : flats) {
      f.div_(new Scalar((double) worldSize));
    }
  }

  private void allReduce(Tensor t, ReduceOp.RedOpType op, String what) {
    inPlace(t, c -> run(what, () -> on(c).allreduce(new TensorVector(c), reduce(op))._wait()));
  }

  private static AllreduceOptions reduce(ReduceOp.RedOpType op) {
    return new AllreduceOptions().reduceOp(new ReduceOp(op));
  }

  /** Gloo works on contiguous memory: a strided tensor goes through a contiguous copy and back. */
  private static void inPlace(Tensor t, java.util.function.Consumer<Tensor> op) {
    Tensor c = t.is_contiguous() ? t : t.contiguous();
    op.accept(c);
    if (c != t) {
      t.copy_(c);
    }
  }

  @Override
  public Tensor allGather(Tensor t) {
    Tensor in = t.contiguous();
    long rows = in.size(0);
    Tensor counts = Tensors.empty(Tensors.options(ScalarType.Long), worldSize);
    Tensor mine = Tensors.fromLongs(new long[] {rows}, 1);
    run("all-gather (sizes)", () -> group._allgather_base(counts, mine)._wait());
    long[] n = Tensors.toLongs(counts);
    long max = 0;
    boolean equal = true;
    for (long c : n) {
      max = Math.max(max, c);
      equal &= c == rows;
    }
    if (!equal && rows < max) {
      // Gloo gathers equal shapes only: pad to the longest, then keep each rank's own rows
      long[] padShape = in.sizes().vec().get();
      padShape[0] = max - rows;
      in = torch.cat(new TensorVector(in, torch.zeros(padShape, in.options())));
    }
    long[] outShape = in.sizes().vec().get();
    outShape[0] = max * worldSize;
    Tensor out = Tensors.empty(in.options(), outShape);
    Tensor src = in;
    run("all-gather", () -> on(src)._allgather_base(out, src)._wait());
    if (equal) {
      return out;
    }
    long[] keep = new long[Math.toIntExact(java.util.Arrays.stream(n).sum())];
    int k = 0;
    for (int r = 0; r < worldSize; r++) {
      for (long i = 0; i < n[r]; i++) {
        keep[k++] = r * max + i;
      }
    }
    return out.index_select(0, Tensors.fromLongs(keep, keep.length));
  }

  @Override
  public void broadcast(Tensor t, int root) {
    BroadcastOptions o = new BroadcastOptions();
    o.rootRank(root);
    inPlace(t, c -> run("broadcast", () -> on(c).broadcast(new TensorVector(c), o)._wait()));
  }

  @Override
  public void barrier(Duration wait) {
    run("barrier", () -> group.barrier(new BarrierOptions().timeout(Torch.milliseconds(wait)))._wait());
  }

  @Override
  public String diagnoseLostRanks(Duration wait) {
    return heartbeat.silentRanks(wait);
  }

  private <T> T run(String what, Supplier<T> op) {
    long start = System.nanoTime();
    try {
      return op.get();
    } catch (RuntimeException e) {
      throw new CollectiveFailure(String.format(Locale.ROOT,
          "rank %d of %d: %s failed after %.1f s (timeout %d s): %s", rank, worldSize, what,
          (System.nanoTime() - start) / 1e9, timeout.toSeconds(), firstLine(e)), e);
    }
  }

  private void run(String what, Runnable op) {
    run(what, () -> {
      op.run();
      return null;
    });
  }

  /** The first line of a c10d/Gloo message, without the "[/build/path/pair.cc:547] " source prefix. */
  static String firstLine(Throwable e) {
    String m = String.valueOf(e.getMessage()).strip();
    int nl = m.indexOf('\n');
    m = nl < 0 ? m : m.substring(0, nl);
    return m.replaceFirst("^\\[[^\\]]*\\.(cc|cpp|h):\\d+\\]\\s*", "");
  }

  private static final String CLOSED = "npid4j/closed";
  private static final long GOODBYE_MILLIS = 30_000;

  /**
   * The orderly end of a run: the ranks meet, each tears its Gloo connections down, and rank 0,
   * which serves the store, closes it only after every rank has reported its group closed. Ranks
   * that closed at will (one still tearing down while a peer's sockets vanished) are the suspected
   * cause of a rare heap corruption at exit (glibc "corrupted double-linked list", about 1 run
   * in 35). The waits are bounded: a rank that is gone delays the exit, never blocks it.
   */
  @Override
  public void close() {
    heartbeat.close(); // it may be inside a store call: the store must outlive it
    try {
      barrier(Duration.ofMillis(GOODBYE_MILLIS));
    } catch (RuntimeException e) {
      // a peer is gone: nothing left to coordinate with
    }
    if (cudaGroup != null) {
      cudaGroup.close();
    }
    group.close();
    try {
      store.add(CLOSED, 1);
      if (rank == 0) {
        long deadline = System.nanoTime() + GOODBYE_MILLIS * 1_000_000;
        while (store.add(CLOSED, 0) < worldSize && System.nanoTime() < deadline) {
          Thread.sleep(10);
        }
      }
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    } catch (RuntimeException e) {
      // the store's host is gone
    }
    store.close();
  }
}
