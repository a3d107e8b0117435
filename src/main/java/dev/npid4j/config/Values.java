package dev.npid4j.config;

import java.util.ArrayList;
import java.util.List;
import java.util.Map;

/** Typed reads of single keys shared by the section records: one-line errors naming the key. */
final class Values {
  private Values() {}

  static List<String> strings(ConfigTree t, String path) {
    List<String> out = new ArrayList<>();
    for (Object o : t.getList(path)) {
      if (o == null || o instanceof Map || o instanceof List) {
        throw new ConfigError(path + " must be a list of strings, got " + t.get(path));
      }
      out.add(String.valueOf(o));
    }
    return out;
  }

  static int positive(ConfigTree t, String path) {
    int v = t.getInt(path);
    if (v < 1) {
      throw new ConfigError(path + " must be >= 1, got " + v);
    }
    return v;
  }

  static int nonNegative(ConfigTree t, String path) {
    int v = t.getInt(path);
    if (v < 0) {
      throw new ConfigError(path + " must be >= 0, got " + v);
    }
    return v;
  }
}
