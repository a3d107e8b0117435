package dev.npid4j.data;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.npid4j.UserError;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;

/**
 * VISSL's dataset_catalog.json: named data sets mapped to paths, so configs can say
 * {@code DATASET_NAMES=[imagenet1k_folder]} and leave DATA_PATHS empty:
 * <pre>{"imagenet1k_folder": {"train": ["/data/imagenet/train", "&lt;unused&gt;"],
 *                       "val":   ["/data/imagenet/val", "&lt;unused&gt;"]}}</pre>
 * Each split holds [data path, label path]. The catalog is the file named by
 * $NPID4J_DATASET_CATALOG or $VISSL_DATASET_CATALOG_PATH, else ./dataset_catalog.json.
 */
public final class DatasetCatalog {
  private DatasetCatalog() {}

  /** [data path, label path or ""] of {@code name}'s split (TRAIN: "train"; TEST: "test", else "val"). */
  public static List<String> paths(String name, String split, Map<String, String> env, String where) {
    Path file = location(env);
    if (!Files.isRegularFile(file)) {
      throw new UserError(where + "DATA_PATHS is empty and DATASET_NAMES names '" + name + "', but there is no dataset catalog at "
          + file + ": give DATA_PATHS, or write the catalog (set $NPID4J_DATASET_CATALOG to its path)");
    }
    JsonNode root;
    try {
      root = new ObjectMapper().readTree(file.toFile());
    } catch (IOException e) {
      throw new UserError("dataset catalog " + file + " is not valid JSON: " + e.getMessage());
    }
    JsonNode entry = root.get(name);
    if (entry == null) {
      List<String> known = new ArrayList<>();
      root.fieldNames().forEachRemaining(known::add);
      throw new UserError(where + "DATASET_NAMES: '" + name + "' is not in the dataset catalog " + file + " (it has " + known + ")");
    }
    List<String> keys = split.equals("TRAIN") ? List.of("train") : List.of("test", "val");
    for (String k : keys) {
      JsonNode pair = entry.get(k);
      if (pair != null) {
        if (!pair.isArray() || pair.isEmpty() || !pair.get(0).isTextual()) {
          throw new UserError("dataset catalog " + file + ": " + name + "." + k + " must be [data path, label path]");
        }
        String label = pair.size() > 1 && pair.get(1).isTextual() ? pair.get(1).asText() : "";
        return List.of(pair.get(0).asText(), label.equals("<unused>") ? "" : label);
      }
    }
    throw new UserError("dataset catalog " + file + ": '" + name + "' has no " + String.join(" or ", keys) + " split");
  }

  static Path location(Map<String, String> env) {
    for (String k : new String[] {"NPID4J_DATASET_CATALOG", "VISSL_DATASET_CATALOG_PATH"}) {
      String v = env.get(k);
      if (v != null && !v.isBlank()) {
        return Path.of(v);
      }
    }
    return Path.of("dataset_catalog.json");
  }
}
