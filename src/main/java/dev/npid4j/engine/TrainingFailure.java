package dev.npid4j.engine;

/** Training cannot go on (non-finite loss, ...); the message says where and what to do. */
public final class TrainingFailure extends RuntimeException {
  public TrainingFailure(String message) {
    super(message);
  }
}
