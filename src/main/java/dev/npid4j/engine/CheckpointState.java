package dev.npid4j.engine;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * Everything a checkpoint holds besides tensors (model, bank, optimizer, generator): where
 * training continues, the run's running totals, the provenance, and each listener's state. Written
 * and read here alone, as the checkpoint's {@code meta_json}; the key names are those of every
 * npid4j checkpoint so far (format 1), so older run directories resume.
 */
public record CheckpointState(Position next, Totals totals, Provenance provenance, Map<String, JsonNode> listenerStates) {
  /** Where training continues: the next step to run is {@code stepInEpoch} of {@code epoch}. */
  public record Position(int epoch, int stepInEpoch, long globalStep) {}

  /**
   * The run's time and image counts, and the current epoch's running sums, so a resumed epoch
   * reports the same averages as an uninterrupted one.
   */
  public record Totals(double trainSeconds, long trainImages, double epochLossSum, int epochLossCount, long epochImages,
      double epochSeconds) {
    public static final Totals ZERO = new Totals(0, 0, 0, 0, 0, 0);
  }

  /** What made the checkpoint and from what: a resumed run on other data is refused by the fingerprint. */
  public record Provenance(String npid4jVersion, String npid4jCommit, String libtorchVersion, String data, String dataFingerprint,
      String experiment, String configYaml) {}

  /** The JSON object stored in the checkpoint (the position is stored next to it, see {@link Checkpoints}). */
  String toJson() {
    Map<String, Object> m = new LinkedHashMap<>();
    m.put("format", Checkpoints.FORMAT);
    m.put("npid4j_version", provenance.npid4jVersion());
    m.put("npid4j_commit", provenance.npid4jCommit());
    m.put("libtorch_version", provenance.libtorchVersion());
    m.put("data", provenance.data());
    m.put("data_fingerprint", provenance.dataFingerprint());
    m.put("experiment", provenance.experiment());
    m.put("config_yaml", provenance.configYaml());
    m.put("train_seconds", totals.trainSeconds());
    m.put("train_images", totals.trainImages());
    m.put("epoch_loss_sum", totals.epochLossSum());
    m.put("epoch_loss_count", totals.epochLossCount());
    m.put("epoch_images", totals.epochImages());
    m.put("epoch_seconds", totals.epochSeconds());
    m.putAll(listenerStates);
    try {
      return MetricsLog.JSON.writeValueAsString(m);
    } catch (JsonProcessingException e) {
      throw new IllegalStateException("a listener's state is not JSON: " + e.getMessage(), e);
    }
  }

  /** Reads {@link #toJson}'s output back; the listeners' states are every key besides the run's own. */
  static CheckpointState fromJson(Position next, String json) throws JsonProcessingException {
    JsonNode m = MetricsLog.JSON.readTree(json);
    Totals totals = new Totals(m.path("train_seconds").asDouble(), m.path("train_images").asLong(), m.path("epoch_loss_sum").asDouble(),
        m.path("epoch_loss_count").asInt(), m.path("epoch_images").asLong(), m.path("epoch_seconds").asDouble());
    Provenance p = new Provenance(m.path("npid4j_version").asText(), m.path("npid4j_commit").asText(), m.path("libtorch_version").asText(),
        m.path("data").asText(), m.path("data_fingerprint").asText(), m.path("experiment").asText(), m.path("config_yaml").asText());
    Map<String, JsonNode> states = new LinkedHashMap<>();
    ((ObjectNode) m).fields().forEachRemaining(e -> {
      if (!OWN_KEYS.contains(e.getKey())) {
        states.put(e.getKey(), e.getValue());
      }
    });
    return new CheckpointState(next, totals, p, states);
  }

  private static final List<String> OWN_KEYS = List.of("format", "npid4j_version", "npid4j_commit", "libtorch_version", "data",
      "data_fingerprint", "experiment", "config_yaml", "train_seconds", "train_images", "epoch_loss_sum", "epoch_loss_count",
      "epoch_images", "epoch_seconds");
}
