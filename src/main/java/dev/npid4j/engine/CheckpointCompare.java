package dev.npid4j.engine;

import dev.npid4j.weights.CheckpointFile;
import dev.npid4j.torch.Scopes;
import dev.npid4j.torch.Torch;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Set;
import org.bytedeco.pytorch.Tensor;

/**
 * Bitwise comparison of the training state in two checkpoints (weights, BN buffers, memory bank,
 * Z, momentum buffers, position, generator state; not the metadata with timings). Used by the
 * resume tests and scripts/fault_injection.sh: prints "identical" or the differing keys, exit 0 / 1.
 */
public final class CheckpointCompare {
  private static final Set<String> IGNORED = Set.of();

  private CheckpointCompare() {}

  /** Keys whose tensors differ (in shape, dtype or any bit), or that only one side has. */
  public static List<String> differences(Path a, Path b) {
    Torch.load();
    List<String> diff = new ArrayList<>();
    try (var scope = Scopes.open(); CheckpointFile ca = CheckpointFile.read(a); CheckpointFile cb = CheckpointFile.read(b)) {
      Map<String, Object> scalars = Map.of("loss.Z", List.of(ca.z(), cb.z()), "epoch", List.of(ca.epoch(), cb.epoch()),
          "step_in_epoch", List.of(ca.stepInEpoch(), cb.stepInEpoch()), "iteration", List.of(ca.iteration(), cb.iteration()),
          "optimizer.started", List.of(ca.started(), cb.started()));
      scalars.forEach((k, v) -> {
        if (!((List<?>) v).get(0).equals(((List<?>) v).get(1))) {
          diff.add(k);
        }
      });
      Map<String, Tensor> x = ca.tensors();
      Map<String, Tensor> y = cb.tensors();
      for (String k : x.keySet()) {
        if (IGNORED.contains(k)) {
          continue;
        }
        Tensor u = x.get(k);
        Tensor v = y.get(k);
        if (v == null || u.scalar_type().value != v.scalar_type().value || !u.equal(v)) {
          diff.add(k);
        }
      }
      for (String k : y.keySet()) {
        if (!x.containsKey(k) && !IGNORED.contains(k)) {
          diff.add(k);
        }
      }
    }
    return diff;
  }

  public static void main(String[] args) {
    if (args.length != 2) {
      System.err.println("usage: CheckpointCompare A.torch B.torch");
      System.exit(2);
    }
    List<String> d = differences(Path.of(args[0]), Path.of(args[1]));
    if (d.isEmpty()) {
      System.out.println("identical");
      System.exit(0);
    }
    System.out.println("different: " + String.join(", ", d.subList(0, Math.min(10, d.size()))) + (d.size() > 10 ? ", ..." : ""));
    System.exit(1);
  }
}
