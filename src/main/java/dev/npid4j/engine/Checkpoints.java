package dev.npid4j.engine;

import dev.npid4j.loss.NceLossWithMemory;
import dev.npid4j.model.NpidModel;
import dev.npid4j.optim.Sgd;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Optional;
import java.util.stream.Stream;
import org.bytedeco.javacpp.PointerScope;
import org.bytedeco.pytorch.OutputArchive;
import org.bytedeco.pytorch.Tensor;
import org.bytedeco.pytorch.global.torch;

/**
 * VISSL-named checkpoints in the run directory: {@code model_phase{p}.torch}, and
 * {@code model_final_checkpoint_phase{p}.torch} after the last phase, each written atomically,
 * with {@code checkpoint.torch} pointing at the newest. Content: the model, the memory bank and
 * Z, the optimizer's momentum buffers and the counters (a libtorch archive that Python's
 * {@code torch.jit.load(f).state_dict()} reads).
 */
public final class Checkpoints {
  static final String FINAL_PREFIX = "model_final_checkpoint_phase";

  private Checkpoints() {}

  public static Path save(Path dir, int phase, boolean last, long iteration, NpidModel model, NceLossWithMemory loss, Sgd sgd)
      throws IOException {
    Path target = dir.resolve((last ? FINAL_PREFIX : "model_phase") + phase + ".torch");
    AtomicFiles.write(target, temp -> {
      try (PointerScope scope = new PointerScope()) {
        OutputArchive root = new OutputArchive();
        OutputArchive m = new OutputArchive();
        model.save(m);
        root.write("model", m);
        OutputArchive l = new OutputArchive();
        l.write("memory", loss.memory());
        l.write("Z", torch.tensor(loss.z()));
        root.write("loss", l);
        OutputArchive o = new OutputArchive();
        List<Tensor> bufs = sgd.momentumBuffers();
        for (int i = 0; i < bufs.size(); i++) {
          if (bufs.get(i) != null) {
            o.write("momentum_buffer_" + i, bufs.get(i));
          }
        }
        root.write("optimizer", o);
        root.write("phase_idx", torch.tensor((long) phase));
        root.write("iteration", torch.tensor(iteration));
        root.save_to(temp.toString());
      }
    });
    Path link = dir.resolve("checkpoint.torch");
    Path tempLink = dir.resolve(".checkpoint.torch.tmp");
    Files.deleteIfExists(tempLink);
    Files.createSymbolicLink(tempLink, target.getFileName());
    Files.move(tempLink, link, java.nio.file.StandardCopyOption.ATOMIC_MOVE, java.nio.file.StandardCopyOption.REPLACE_EXISTING);
    return target;
  }

  /** The final checkpoint of a finished run in {@code dir}, if any. */
  public static Optional<Path> finalCheckpoint(Path dir) throws IOException {
    if (!Files.isDirectory(dir)) {
      return Optional.empty();
    }
    try (Stream<Path> files = Files.list(dir)) {
      return files.filter(p -> p.getFileName().toString().startsWith(FINAL_PREFIX)).findFirst();
    }
  }

  /** Whether {@code dir} holds any checkpoint. */
  public static boolean any(Path dir) throws IOException {
    if (!Files.isDirectory(dir)) {
      return false;
    }
    try (Stream<Path> files = Files.list(dir)) {
      return files.anyMatch(p -> p.getFileName().toString().endsWith(".torch"));
    }
  }
}
