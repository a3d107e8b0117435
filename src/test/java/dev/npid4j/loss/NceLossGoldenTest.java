package dev.npid4j.loss;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.npid4j.distributed.Communicator;
import dev.npid4j.torch.Tensors;
import dev.npid4j.torch.Torch;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Deque;
import java.util.List;
import java.util.stream.Stream;
import org.bytedeco.javacpp.PointerScope;
import org.bytedeco.pytorch.Tensor;
import org.bytedeco.pytorch.global.torch.ScalarType;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * Replays every golden case recorded from VISSL's real nce_loss.py (two consecutive calls on
 * one loss object, recorded negatives injected) and checks loss, dL/d(embeddings), the memory
 * bank after each call and Z, to the tolerances of the golden README.
 *
 * <p>Directory: {@code $NPID4J_GOLDEN_DIR}, else {@code ../shared/golden/nce}, else the copy
 * kept in the test resources (a clean clone has no ../shared).
 */
class NceLossGoldenTest {
  private static final ObjectMapper JSON = new ObjectMapper();

  @BeforeAll
  static void load() {
    Torch.load();
  }

  static Path goldenDir() {
    String env = System.getenv("NPID4J_GOLDEN_DIR");
    if (env != null && !env.isBlank()) {
      return Path.of(env);
    }
    Path shared = Path.of("..", "shared", "golden", "nce");
    return Files.isDirectory(shared) ? shared : Path.of("src", "test", "resources", "golden", "nce");
  }

  static Stream<Path> goldenFiles() throws IOException {
    try (Stream<Path> files = Files.list(goldenDir())) {
      return files.filter(p -> p.toString().endsWith(".json")).sorted().toList().stream();
    }
  }

  @Test
  void goldenDirectoryHoldsTheNineCases() throws IOException {
    assertThat(goldenFiles().count()).as("JSON files in %s", goldenDir()).isGreaterThanOrEqualTo(9);
  }

  @ParameterizedTest(name = "{0}")
  @MethodSource("goldenFiles")
  void reproducesVissl(Path file) throws IOException {
    JsonNode g = JSON.readTree(file.toFile());
    boolean float32 = g.at("/source/dtype").asText().equals("float32");
    // float32 case: float64 arithmetic with the float32-rounded T and m VISSL read from its buffer.
    for (NceLossWithMemory.Scores method : List.of(NceLossWithMemory.Scores.DENSE, NceLossWithMemory.Scores.SAMPLED,
        NceLossWithMemory.Scores.GATHER)) {
      replay(g, ScalarType.Double, float32, method);
      if (float32) {
        replay(g, ScalarType.Float, true, method); // and natively in float32, as training runs
      }
    }
  }

  /** Every way of computing the scores (the whole-bank product, the sampled product, the gathered rows) reproduces VISSL. */
  private void replay(JsonNode g, ScalarType dtype, boolean float32Case, NceLossWithMemory.Scores method) {
    JsonNode p = g.get("params");
    JsonNode stored = g.get("buffer_params_as_stored");
    double temperature = float32Case ? stored.get(1).asDouble() : p.get("temperature").asDouble();
    double momentum = float32Case ? stored.get(3).asDouble() : p.get("momentum").asDouble();
    List<Double> weights = new ArrayList<>();
    p.get("loss_weights").forEach(w -> weights.add(w.asDouble()));
    NceLossParams params = new NceLossParams(
        p.get("loss_type").asText().equals("nce") ? NceLossParams.LossType.NCE : NceLossParams.LossType.CROSS_ENTROPY,
        p.get("norm_embedding").asBoolean(), temperature, weights, g.get("initial_Z").asDouble(),
        p.get("update_mem_with_emb_index").asInt(), p.get("ignore_index").asLong(), p.get("num_negatives").asInt(),
        "random", p.get("update_mem_on_forward").asBoolean());
    MemoryBankParams bankParams = new MemoryBankParams(p.get("num_train_samples").asLong(), p.get("embedding_dim").asInt(), momentum,
        p.get("norm_init").asBoolean());

    Deque<long[]> draws = new ArrayDeque<>();
    for (JsonNode call : g.get("calls")) {
      for (JsonNode out : call.get("per_output")) {
        draws.add(longs(out.get("sampler_draw")));
      }
    }
    NegativeSampler injected = (count, n) -> {
      long[] d = draws.removeFirst();
      assertThat(d).as("recorded draw size").hasSize(count);
      return d;
    };

    double tol = float32Case ? 1e-4 : 1e-12;
    String label = g.get("case").asText() + " [" + dtype + ", " + method + "]";
    try (PointerScope scope = new PointerScope();
        NceLossWithMemory loss = new NceLossWithMemory(params, new MemoryBank(bankParams, matrix(g.get("initial_memory")).to(dtype), dtype), injected,
            Communicator.local()).scores(method)) {
      int callNo = 0;
      for (JsonNode call : g.get("calls")) {
        callNo++;
        List<Tensor> outputs = new ArrayList<>();
        for (JsonNode e : call.get("embeddings")) {
          outputs.add(matrix(e).to(dtype));
        }
        LossOutput r = loss.forward(outputs, longs(call.get("targets")));
        String at = label + " call " + callNo;
        assertRelative(at + " loss", r.loss(), call.get("loss").asDouble(), tol);
        assertRelative(at + " Z", loss.z(), call.get("Z_after").asDouble(), tol);
        for (int o = 0; o < outputs.size(); o++) {
          assertClose(at + " grad of output " + o, Tensors.toDoubles(r.gradients().get(o)), flat(call.get("grad_embeddings").get(o)), tol);
        }
        assertClose(at + " memory", Tensors.toDoubles(loss.memory()), flat(call.get("memory_after")), tol);
      }
    }
    assertThat(draws).as("every recorded draw consumed").isEmpty();
  }

  private static void assertRelative(String what, double actual, double expected, double tol) {
    assertThat(Math.abs(actual - expected)).as("%s: %s vs VISSL %s", what, actual, expected)
        .isLessThanOrEqualTo(tol * Math.max(1.0, Math.abs(expected)));
  }

  /** Absolute for float64 (README: 1e-12); scaled by the largest entry for the float32 case. */
  private static void assertClose(String what, double[] actual, double[] expected, double tol) {
    assertThat(actual).as(what + " size").hasSize(expected.length);
    double scale = 1.0;
    for (double e : expected) {
      scale = Math.max(scale, Math.abs(e));
    }
    double worst = 0;
    int at = -1;
    for (int i = 0; i < actual.length; i++) {
      double d = Math.abs(actual[i] - expected[i]);
      if (d > worst || Double.isNaN(d)) {
        worst = d;
        at = i;
      }
    }
    assertThat(worst).as("%s: max |diff| at flat index %d", what, at).isLessThanOrEqualTo(tol * scale);
  }

  private static long[] longs(JsonNode a) {
    long[] out = new long[a.size()];
    for (int i = 0; i < out.length; i++) {
      out[i] = a.get(i).asLong();
    }
    return out;
  }

  private static double[] flat(JsonNode rows) {
    int r = rows.size();
    int c = rows.get(0).size();
    double[] out = new double[r * c];
    for (int i = 0; i < r; i++) {
      for (int j = 0; j < c; j++) {
        out[i * c + j] = rows.get(i).get(j).asDouble();
      }
    }
    return out;
  }

  private static Tensor matrix(JsonNode rows) {
    return Tensors.fromDoubles(flat(rows), rows.size(), rows.get(0).size());
  }
}
