package dev.npid4j;

/**
 * A problem the user can fix (bad key, bad value, missing data, port in use): the CLI prints the
 * message as one line and exits with code 2; the stack trace only with --verbose.
 */
public class UserError extends RuntimeException {
  public UserError(String message) {
    super(message);
  }

  public UserError(String message, Throwable cause) {
    super(message, cause);
  }
}
