package dev.npid4j.torch;

import org.bytedeco.javacpp.PointerScope;

/**
 * Native-memory scopes: every tensor created while a scope is open is freed when it closes,
 * unless {@link Tensors#keep kept}. libtorch memory is not the garbage collector's, so each
 * training step, chunk or short computation runs inside one (the JVM otherwise grows by
 * megabytes a step). The only place outside {@code torch/} that needs to know JavaCPP does this.
 */
public final class Scopes {
  private Scopes() {}

  /** Opens a scope; close it with try-with-resources. */
  public static Scope open() {
    return new Scope(new PointerScope());
  }

  /** An open scope. */
  public static final class Scope implements AutoCloseable {
    private final PointerScope scope;

    private Scope(PointerScope scope) {
      this.scope = scope;
    }

    @Override
    public void close() {
      scope.close();
    }
  }
}
