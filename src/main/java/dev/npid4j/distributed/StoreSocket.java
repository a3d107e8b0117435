package dev.npid4j.distributed;

import java.io.IOException;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.StandardSocketOptions;
import java.net.UnknownHostException;
import java.nio.channels.ServerSocketChannel;
import java.util.ArrayList;
import java.util.List;
import java.util.OptionalInt;

/**
 * The listening socket of the rendezvous store (rank 0's TCPStore), bound by npid4j where it
 * should listen and handed to libtorch as an open descriptor (TCPStoreOptions.masterListenFd).
 * libtorch's own TCPStore binds every interface; c10d has no authentication, so a job on one
 * machine listens on loopback only, and a job across machines where NPID4J_STORE_BIND says (or,
 * as PyTorch, everywhere). Binding here and handing over the bound socket also leaves no moment
 * between choosing a port and listening on it.
 */
final class StoreSocket {
  /** Environment variable: the address rank 0's store binds to in a multi-machine job (default: all interfaces). */
  static final String BIND_ENV = "NPID4J_STORE_BIND";

  /** Sockets handed to libtorch: kept reachable so that no finalisation closes them under it. */
  private static final List<ServerSocketChannel> HANDED_OVER = new ArrayList<>();

  private StoreSocket() {}

  /**
   * Where rank 0's store listens: the loopback address when the job's host is a loopback name,
   * else the address in NPID4J_STORE_BIND, else null (every interface, libtorch's default).
   */
  static InetAddress bindAddress(String host, String bindEnv) throws UnknownHostException {
    if (bindEnv != null && !bindEnv.isBlank()) {
      return InetAddress.getByName(bindEnv.strip());
    }
    InetAddress h = InetAddress.getByName(host);
    return h.isLoopbackAddress() ? h : null;
  }

  /**
   * A socket listening on {@code address:port}, as the descriptor libtorch takes; empty where
   * this JVM does not let npid4j read a channel's descriptor (it needs
   * {@code --add-opens java.base/sun.nio.ch=ALL-UNNAMED}, which bin/npid4j passes).
   */
  static OptionalInt listen(InetAddress address, int port) throws IOException {
    java.lang.reflect.Method fdOf;
    try {
      fdOf = Class.forName("sun.nio.ch.ServerSocketChannelImpl").getDeclaredMethod("getFDVal");
      fdOf.setAccessible(true);
    } catch (ReflectiveOperationException | RuntimeException e) {
      return OptionalInt.empty();
    }
    ServerSocketChannel ch = ServerSocketChannel.open();
    try {
      ch.setOption(StandardSocketOptions.SO_REUSEADDR, true);
      ch.bind(new InetSocketAddress(address, port), 512);
      int fd = (int) fdOf.invoke(ch);
      synchronized (HANDED_OVER) {
        HANDED_OVER.add(ch);
      }
      return OptionalInt.of(fd);
    } catch (ReflectiveOperationException | RuntimeException e) {
      ch.close();
      return OptionalInt.empty();
    } catch (IOException e) {
      ch.close();
      throw e;
    }
  }
}
