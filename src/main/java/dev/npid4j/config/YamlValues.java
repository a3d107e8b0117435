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
