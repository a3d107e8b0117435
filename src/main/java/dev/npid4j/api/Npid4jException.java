package dev.npid4j.api;

/**
 * A problem the caller can fix, from any method of this package: a config key that does not
 * exist, a weights file that is not one, an image that cannot be decoded, a file over a limit.
 * The message is one line that names the input and the fix, as the command line prints it.
 * Bugs and failures of the machine (out of memory, a native error) are not wrapped.
 */
public class Npid4jException extends RuntimeException {
  /**
   * A refusal with the error that caused it.
   *
   * @param message one line naming the input and the fix
   * @param cause npid4j's own error
   */
  public Npid4jException(String message, Throwable cause) {
    super(message, cause);
  }

  /**
   * A refusal.
   *
   * @param message one line naming the input and the fix
   */
  public Npid4jException(String message) {
    super(message);
  }

  /** Runs {@code body}, turning npid4j's own user errors into this type. */
  static <T> T wrap(java.util.function.Supplier<T> body) {
    try {
      return body.get();
    } catch (dev.npid4j.UserError e) {
      throw new Npid4jException(e.getMessage(), e);
    }
  }
}
