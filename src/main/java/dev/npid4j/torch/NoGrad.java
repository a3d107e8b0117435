package dev.npid4j.torch;

import org.bytedeco.pytorch.NoGradGuard;

/** Autograd off on this thread while open (libtorch's NoGradGuard), for evaluation and in-place updates of parameters and buffers. */
public final class NoGrad implements AutoCloseable {
  private final NoGradGuard guard = new NoGradGuard();

  private NoGrad() {}

  public static NoGrad open() {
    return new NoGrad();
  }

  @Override
  public void close() {
    guard.close();
  }
}
