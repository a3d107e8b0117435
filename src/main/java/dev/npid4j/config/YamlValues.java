package dev.npid4j.config;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * The values a config tree holds: YAML's scalars normalised to Long, Double, Boolean, String or
 * null, maps with string keys, lists; and deep copies of them.
 */
final class YamlValues {
  private YamlValues() {}

  static Map<String, Object> asMap(Object o) {
    return (Map<String, Object>) o;
  }

  /** Nodes one YAML document may expand to once its aliases are copied: far above any config's few hundred. */
  static final int MAX_NODES = 100_000;

  /**
   * {@link #normaliseMap} for a document from a file: aliases are copied, so a document that
   * expands past {@value #MAX_NODES} nodes (an alias bomb) or contains itself is refused.
   */
  static Map<String, Object> normaliseDocument(Map<?, ?> m, String source) {
    int[] budget = {MAX_NODES};
    return asMap(bounded(m, budget, new java.util.IdentityHashMap<>(), source));
  }

  private static Object bounded(Object v, int[] budget, java.util.IdentityHashMap<Object, Boolean> path, String source) {
    if (--budget[0] < 0) {
      throw new ConfigError(source + " expands to more than " + MAX_NODES + " values once its YAML aliases are copied (an alias bomb?)");
    }
    if (!(v instanceof Map<?, ?>) && !(v instanceof List<?>)) {
      return normalise(v);
    }
    if (path.put(v, Boolean.TRUE) != null) {
      throw new ConfigError(source + " holds a YAML value that contains itself (a recursive alias)");
    }
    Object out;
    if (v instanceof Map<?, ?> m) {
      Map<String, Object> o = new LinkedHashMap<>();
      for (Map.Entry<?, ?> e : m.entrySet()) {
        if (e.getKey() instanceof Map<?, ?> || e.getKey() instanceof List<?>) {
          throw new ConfigError(source + " has a map or list as a key; config keys are names");
        }
        o.put(String.valueOf(e.getKey()), bounded(e.getValue(), budget, path, source));
      }
      out = o;
    } else {
      List<Object> o = new ArrayList<>();
      for (Object x : (List<?>) v) {
        o.add(bounded(x, budget, path, source));
      }
      out = o;
    }
    path.remove(v);
    return out;
  }

  static Map<String, Object> normaliseMap(Map<?, ?> m) {
    Map<String, Object> out = new LinkedHashMap<>();
    for (Map.Entry<?, ?> e : m.entrySet()) {
      out.put(String.valueOf(e.getKey()), normalise(e.getValue()));
    }
    return out;
  }

  static Object normalise(Object v) {
    if (v instanceof Map<?, ?> m) {
      return normaliseMap(m);
    }
    if (v instanceof List<?> l) {
      List<Object> out = new ArrayList<>(l.size());
      for (Object o : l) {
        out.add(normalise(o));
      }
      return out;
    }
    if (v instanceof Integer || v instanceof Short || v instanceof Byte || v instanceof java.math.BigInteger) {
      return ((Number) v).longValue();
    }
    if (v instanceof Float f) {
      return f.doubleValue();
    }
    return v;
  }

  static Map<String, Object> deepCopy(Map<String, Object> m) {
    Map<String, Object> out = new LinkedHashMap<>();
    for (Map.Entry<String, Object> e : m.entrySet()) {
      out.put(e.getKey(), deepCopyValue(e.getValue()));
    }
    return out;
  }

  static Object deepCopyValue(Object v) {
    if (v instanceof Map<?, ?> m) {
      return deepCopy(asMap(m));
    }
    if (v instanceof List<?> l) {
      List<Object> out = new ArrayList<>();
      l.forEach(o -> out.add(deepCopyValue(o)));
      return out;
    }
    return v;
  }
}
