package dev.npid4j.config;

import java.util.LinkedHashMap;
import java.util.Map;

/**
 * VISSL spells the trunk's parameters two ways: {@code MODEL.TRUNK.RESNETS.DEPTH} (npid4j's
 * defaults, VISSL's NPID page) and {@code MODEL.TRUNK.TRUNK_PARAMS.RESNETS.DEPTH} (VISSL's later
 * configs). Both are read, in YAML files and overrides alike, as the first; the tree notes which
 * spelling was given, and train_config.yaml says so.
 */
final class VisslSpellings {
  static final String TRUNK = "config.MODEL.TRUNK.";
  static final String TRUNK_PARAMS = TRUNK + "TRUNK_PARAMS.";

  private VisslSpellings() {}

  /** An override's key, read in npid4j's spelling. */
  static String canonicalKey(String key, ConfigTree tree) {
    if (!key.startsWith(TRUNK_PARAMS)) {
      return key;
    }
    String canonical = TRUNK + key.substring(TRUNK_PARAMS.length());
    tree.noteSpelling(key + " -> " + canonical);
    return canonical;
  }

  /** A YAML document with MODEL.TRUNK.TRUNK_PARAMS' entries moved up into MODEL.TRUNK. */
  @SuppressWarnings("unchecked")
  static Map<String, Object> canonical(Map<String, Object> doc, ConfigTree tree, String source) {
    if (!(doc.get("config") instanceof Map<?, ?> config) || !(config.get("MODEL") instanceof Map<?, ?> model)
        || !(model.get("TRUNK") instanceof Map<?, ?> trunk) || !trunk.containsKey("TRUNK_PARAMS")) {
      return doc;
    }
    Object params = trunk.get("TRUNK_PARAMS");
    if (!(params instanceof Map<?, ?> p)) {
      throw new ConfigError(source + ": config.MODEL.TRUNK.TRUNK_PARAMS must be a map (e.g. RESNETS: {DEPTH: 101}), got " + params);
    }
    Map<String, Object> moved = new LinkedHashMap<>((Map<String, Object>) trunk);
    moved.remove("TRUNK_PARAMS");
    for (Map.Entry<?, ?> e : p.entrySet()) {
      String k = String.valueOf(e.getKey());
      Object existing = moved.get(k);
      if (existing instanceof Map<?, ?> a && e.getValue() instanceof Map<?, ?> b) {
        Map<String, Object> both = new LinkedHashMap<>((Map<String, Object>) a);
        both.putAll((Map<String, Object>) b);
        moved.put(k, both);
      } else {
        moved.put(k, e.getValue());
      }
      tree.noteSpelling(TRUNK_PARAMS + k + " (in " + source + ") -> " + TRUNK + k);
    }
    ((Map<String, Object>) model).put("TRUNK", moved);
    return doc;
  }
}
