package dev.npid4j.cli;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.UncheckedIOException;

/** Lets tests in other packages drive the CLI in-process. */
public final class CliTestAccess {
  private static final ObjectMapper JSON = new ObjectMapper();

  private CliTestAccess() {}

  /**
   * An override giving the LR warm-up a third of the schedule, for tests that borrow the
   * quickstart config: their thresholds and tolerances were set on that share, and a shorter
   * one (the quickstart's own is its first epoch: a quarter at 4 epochs, a fifth at 5) moved
   * them past them.
   */
  public static final String THIRD_WARMUP = "config.OPTIMIZER.param_schedulers.lr.lengths=[0.3334,0.6666]";

  public static CliTest.Result cli(String... args) {
    return CliTest.cli(args);
  }

  public static JsonNode json(String line) {
    try {
      return JSON.readTree(line);
    } catch (com.fasterxml.jackson.core.JsonProcessingException e) {
      throw new UncheckedIOException(e);
    }
  }
}
