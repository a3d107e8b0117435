package dev.npid4j.config;

import dev.npid4j.UserError;

/** A bad key or value in a config file or override. */
public final class ConfigError extends UserError {
  public ConfigError(String message) {
    super(message);
  }
}
