package dev.npid4j.cli;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.UncheckedIOException;

/** Lets tests in other packages drive the CLI in-process. */
public final class CliTestAccess {
  private static final ObjectMapper JSON = new ObjectMapper();

  private CliTestAccess() {}

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
