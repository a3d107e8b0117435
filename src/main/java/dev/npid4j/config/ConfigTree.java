package dev.npid4j.config;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * The composed configuration: nested maps and lists of YAML scalars, with dotted-path access,
 * VISSL/Hydra merge rules (maps merge key by key; scalars and lists replace) and struct mode
 * (a key that the defaults do not have is an error, with the closest valid key named).
 *
 * <p>Scalars are normalised to Long, Double, Boolean, String or null.
 */
public final class ConfigTree {
  /** Keys whose value may be a scalar or a list (VISSL accepts both). */
  private static final Set<String> SCALAR_OR_LIST = Set.of("config.NEAREST_NEIGHBOR.TOPK", "config.KNN_MONITOR.TOPK");

  private final Map<String, Object> root;
  /** VISSL spellings read as npid4j's own keys, as "given -> read as" (recorded in train_config.yaml). */
  private final List<String> spellings = new ArrayList<>();
  /** The global batch of the experiment's files, before the command line's overrides (0: not known). */
  private long experimentBatch;

  ConfigTree(Map<String, Object> root) {
    this.root = root;
  }

  /** The whole tree (live): the top-level map with VERSION, node_id, engine_name and config. */
  public Map<String, Object> root() {
    return root;
  }

  public boolean has(String path) {
    return lookup(path) != MISSING;
  }

  public Object get(String path) {
    Object v = lookup(path);
    if (v == MISSING) {
      throw new ConfigError("config key '" + path + "' is missing");
    }
    return v;
  }

  public long getLong(String path) {
    Object v = get(path);
    if (v instanceof Long l) {
      return l;
    }
    if (v instanceof Double d && d == Math.rint(d) && !Double.isInfinite(d)) {
      return d.longValue();
    }
    throw typeError(path, "an integer", v);
  }

  public int getInt(String path) {
    long v = getLong(path);
    if (v < Integer.MIN_VALUE || v > Integer.MAX_VALUE) {
      throw new ConfigError(path + " is out of range: " + v);
    }
    return (int) v;
  }

  public double getDouble(String path) {
    Object v = get(path);
    if (v instanceof Number n) {
      return n.doubleValue();
    }
    throw typeError(path, "a number", v);
  }

  public boolean getBool(String path) {
    Object v = get(path);
    if (v instanceof Boolean b) {
      return b;
    }
    throw typeError(path, "true or false", v);
  }

  public String getString(String path) {
    Object v = get(path);
    if (v == null) {
      return null;
    }
    if (v instanceof Map || v instanceof List) {
      throw typeError(path, "a string", v);
    }
    return String.valueOf(v);
  }

  @SuppressWarnings("unchecked")
  public List<Object> getList(String path) {
    Object v = get(path);
    if (v instanceof List<?> l) {
      return (List<Object>) l;
    }
    throw typeError(path, "a list", v);
  }

  @SuppressWarnings("unchecked")
  public Map<String, Object> getMap(String path) {
    Object v = get(path);
    if (v instanceof Map<?, ?> m) {
      return (Map<String, Object>) m;
    }
    throw typeError(path, "a map", v);
  }

  /** Sets an existing key (type-checked against the current value) or adds one when {@code add}. */
  public void set(String path, Object value, boolean add, String source) {
    String[] parts = path.split("\\.");
    Map<String, Object> node = root;
    StringBuilder at = new StringBuilder();
    for (int i = 0; i < parts.length - 1; i++) {
      at.append(i == 0 ? "" : ".").append(parts[i]);
      Object child = node.get(parts[i]);
      if (!(child instanceof Map)) {
        if (child == null && add && !node.containsKey(parts[i])) {
          child = new LinkedHashMap<String, Object>();
          node.put(parts[i], child);
        } else if (child == null && !node.containsKey(parts[i])) {
          throw unknownKey(path, at.toString(), source);
        } else {
          throw new ConfigError(source + ": '" + at + "' is a value, not a group, so '" + path + "' cannot be set");
        }
      }
      node = YamlValues.asMap(child);
    }
    String leaf = parts[parts.length - 1];
    if (!node.containsKey(leaf)) {
      if (!add) {
        throw unknownKey(path, path, source);
      }
      node.put(leaf, YamlValues.normalise(value));
      return;
    }
    Object current = node.get(leaf);
    Object incoming = YamlValues.normalise(value);
    if (current instanceof Map && incoming instanceof Map) {
      mergeInto(YamlValues.asMap(current), YamlValues.asMap(incoming), path, source); // a map value overrides key by key, like a file
      return;
    }
    node.put(leaf, checked(path, current, incoming, source));
  }

  /** Deep-merges {@code overlay} (a file's top-level map) into this tree in struct mode. */
  public void merge(Map<String, Object> overlay, String source) {
    mergeInto(root, YamlValues.normaliseMap(overlay), "", source);
  }

  private void mergeInto(Map<String, Object> base, Map<String, Object> overlay, String prefix, String source) {
    for (Map.Entry<String, Object> e : overlay.entrySet()) {
      String path = prefix.isEmpty() ? e.getKey() : prefix + "." + e.getKey();
      if (!base.containsKey(e.getKey())) {
        if (base.isEmpty() && !prefix.isEmpty()) {
          base.put(e.getKey(), e.getValue()); // an empty default map is free-form
          continue;
        }
        throw unknownKey(path, path, source);
      }
      Object current = base.get(e.getKey());
      Object incoming = e.getValue();
      if (current instanceof Map && incoming instanceof Map) {
        mergeInto(YamlValues.asMap(current), YamlValues.asMap(incoming), path, source);
      } else {
        base.put(e.getKey(), checked(path, current, incoming, source));
      }
    }
  }

  /** The value to store at {@code path}, or a ConfigError when its type does not fit the default's. */
  private static Object checked(String path, Object current, Object incoming, String source) {
    if (current == null || incoming == null) {
      return incoming;
    }
    if (current instanceof Boolean) {
      if (incoming instanceof Boolean) {
        return incoming;
      }
      throw mistyped(path, "true or false", incoming, source);
    }
    if (current instanceof Long) {
      if (incoming instanceof Long || (incoming instanceof List && SCALAR_OR_LIST.contains(path))) {
        return incoming;
      }
      if (incoming instanceof Double d && d == Math.rint(d) && !d.isInfinite()) {
        return d.longValue();
      }
      throw mistyped(path, "an integer", incoming, source);
    }
    if (current instanceof Double) {
      if (incoming instanceof Number n) {
        return n.doubleValue();
      }
      throw mistyped(path, "a number", incoming, source);
    }
    if (current instanceof String) {
      if (incoming instanceof Map || incoming instanceof List) {
        throw mistyped(path, "a string", incoming, source);
      }
      return incoming instanceof String ? incoming : String.valueOf(incoming);
    }
    if (current instanceof List) {
      if (incoming instanceof List || SCALAR_OR_LIST.contains(path)) {
        return incoming;
      }
      throw mistyped(path, "a list such as [a,b]", incoming, source);
    }
    if (current instanceof Map) {
      if (incoming instanceof Map) {
        return incoming;
      }
      throw mistyped(path, "a group of keys", incoming, source);
    }
    return incoming;
  }

  private ConfigError unknownKey(String fullPath, String brokenAt, String source) {
    String parent = brokenAt.contains(".") ? brokenAt.substring(0, brokenAt.lastIndexOf('.')) : "";
    String leaf = brokenAt.substring(brokenAt.lastIndexOf('.') + 1);
    Object parentNode = parent.isEmpty() ? root : lookup(parent);
    String suggestion = null;
    if (parentNode instanceof Map<?, ?> m) {
      String sibling = Keys.closest(leaf, YamlValues.asMap(m).keySet());
      if (sibling != null) {
        suggestion = (parent.isEmpty() ? "" : parent + ".") + sibling + fullPath.substring(brokenAt.length());
      }
    }
    if (suggestion == null || !has(suggestion)) {
      // Perhaps the right leaf in the wrong place: config.temperature -> config.LOSS.nce_loss_with_memory.temperature.
      String wantedLeaf = fullPath.substring(fullPath.lastIndexOf('.') + 1);
      List<String> all = new ArrayList<>();
      collectPaths(root, "", all);
      String best = Keys.closest(wantedLeaf, all.stream().map(p -> p.substring(p.lastIndexOf('.') + 1)).toList());
      if (best != null) {
        suggestion = all.stream().filter(p -> p.endsWith("." + best) || p.equals(best))
            .min((a, b) -> Keys.distance(fullPath, a) - Keys.distance(fullPath, b)).orElse(suggestion);
      } else if (suggestion == null) {
        suggestion = Keys.nearest(fullPath, all);
      }
    }
    return new ConfigError(source + ": unknown config key '" + fullPath + "'"
        + (suggestion != null ? "; did you mean '" + suggestion + "'?" : "")
        + " (to add a new key use +" + fullPath + "=VALUE)");
  }

  private static void collectPaths(Map<String, Object> node, String prefix, List<String> out) {
    for (Map.Entry<String, Object> e : node.entrySet()) {
      String p = prefix.isEmpty() ? e.getKey() : prefix + "." + e.getKey();
      out.add(p);
      if (e.getValue() instanceof Map<?, ?> m) {
        collectPaths(YamlValues.asMap(m), p, out);
      }
    }
  }

  private static ConfigError mistyped(String path, String expected, Object got, String source) {
    return new ConfigError(source + ": " + path + " expects " + expected + ", got " + describe(got));
  }

  private static ConfigError typeError(String path, String expected, Object got) {
    return new ConfigError(path + " expects " + expected + ", got " + describe(got));
  }

  static String describe(Object v) {
    if (v instanceof String s) {
      return "'" + s + "'";
    }
    return String.valueOf(v);
  }

  private static final Object MISSING = new Object();

  private Object lookup(String path) {
    Object node = root;
    for (String part : path.split("\\.")) {
      if (!(node instanceof Map<?, ?> m) || !m.containsKey(part)) {
        return MISSING;
      }
      node = m.get(part);
    }
    return node;
  }

  @SuppressWarnings("unchecked")
  /** A deep copy, so a composed tree can be changed without touching the source. */
  public ConfigTree copy() {
    ConfigTree c = new ConfigTree(YamlValues.deepCopy(root));
    c.spellings.addAll(spellings);
    c.experimentBatch = experimentBatch;
    return c;
  }

  /** Notes that a key was given in another of VISSL's spellings ("given -> read as"). */
  void noteSpelling(String note) {
    if (!spellings.contains(note)) {
      spellings.add(note);
    }
  }

  void noteExperimentBatch(long batch) {
    experimentBatch = batch;
  }

  long experimentBatch() {
    return experimentBatch;
  }

  /** The other spellings this config was given in, as "given -> read as". */
  public List<String> spellings() {
    return List.copyOf(spellings);
  }
}
