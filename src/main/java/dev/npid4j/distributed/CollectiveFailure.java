package dev.npid4j.distributed;

/** A collective or the rendezvous failed: another rank died, stopped answering, or cannot be reached. */
public final class CollectiveFailure extends RuntimeException {
  public CollectiveFailure(String message, Throwable cause) {
    super(message, cause);
  }
}
