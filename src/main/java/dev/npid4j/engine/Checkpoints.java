package dev.npid4j.engine;

import dev.npid4j.formats.AtomicFiles;
import dev.npid4j.torch.Scopes;
import dev.npid4j.UserError;
import dev.npid4j.loss.NceLossWithMemory;
import dev.npid4j.model.NpidModel;
import dev.npid4j.optim.Sgd;
import dev.npid4j.torch.Archives;
import dev.npid4j.torch.Devices;
import dev.npid4j.torch.Tensors;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Stream;
import org.bytedeco.pytorch.Device;
import org.bytedeco.pytorch.InputArchive;
import org.bytedeco.pytorch.OutputArchive;
import org.bytedeco.pytorch.Tensor;
import org.bytedeco.pytorch.global.torch;

/**
 * Checkpoints in the run directory with VISSL's names: {@code model_phase{p}.torch} after epoch
 * p, {@code model_iteration{i}.torch} after global step i (CHECKPOINT_ITER_FREQUENCY, and on
 * SIGTERM), {@code model_final_checkpoint_phase{p}.torch} after the last epoch, and the
 * {@code checkpoint.torch} link to the newest. Each is written atomically (temp file, fsync,
 * rename) and holds all a run needs to continue bit for bit: model (with BN buffers), memory
 * bank and Z, momentum buffers, the position (epoch, step in epoch, global step), torch's
 * generator state, and a JSON block with the provenance, the metrics so far and the kNN history.
 * Python reads them with {@code torch.jit.load(f).state_dict()}.
 */
public final class Checkpoints {
  /** Checkpoint layout version; a run directory with another one is refused. */
  public static final int FORMAT = 1;
  static final String FINAL_PREFIX = "model_final_checkpoint_phase";
  private static final Pattern NAME = Pattern.compile("model_(phase|iteration|final_checkpoint_phase)(\\d+)\\.torch");

  private Checkpoints() {}

  /** A checkpoint file found in a run directory. */
  public record Entry(Path path, String kind, long number, long globalStep) {}

  /** Writes {@code state} and the live objects' tensors to {@code target} (atomically) and points checkpoint.torch at it. */
  public static Path save(Path target, CheckpointState state, NpidModel model, NceLossWithMemory loss, Sgd sgd) throws IOException {
    String metaJson = state.toJson();
    CheckpointState.Position next = state.next();
    AtomicFiles.write(target, temp -> {
      try (var scope = Scopes.open()) {
        OutputArchive root = new OutputArchive();
        root.write("format", torch.tensor((long) FORMAT));
        OutputArchive m = new OutputArchive();
        saveOnCpu(model, m);
        root.write("model", m);
        OutputArchive l = new OutputArchive();
        l.write("memory", Devices.cpu(loss.memory()));
        l.write("Z", torch.tensor(loss.z()));
        root.write("loss", l);
        OutputArchive o = new OutputArchive();
        List<Tensor> bufs = sgd.momentumBuffers();
        for (int i = 0; i < bufs.size(); i++) {
          if (bufs.get(i) != null) {
            o.write("momentum_buffer_" + i, Devices.cpu(bufs.get(i)));
          }
        }
        o.write("started", torch.tensor(sgd.started() ? 1L : 0L));
        root.write("optimizer", o);
        root.write("epoch", torch.tensor((long) next.epoch()));
        root.write("step_in_epoch", torch.tensor((long) next.stepInEpoch()));
        root.write("iteration", torch.tensor(next.globalStep()));
        root.write("rng_state", torch.getDefaultCPUGenerator().get_state());
        root.write("meta_json", Tensors.fromBytes(metaJson.getBytes(StandardCharsets.UTF_8)));
        Archives.saveTo(root, temp);
      } catch (RuntimeException e) {
        throw new IOException(e.getMessage(), e); // libtorch reports write errors (ENOSPC, ...) as c10::Error
      }
    });
    Path link = target.resolveSibling("checkpoint.torch");
    Path tempLink = target.resolveSibling(".checkpoint.torch.tmp");
    Files.deleteIfExists(tempLink);
    Files.createSymbolicLink(tempLink, target.getFileName());
    Files.move(tempLink, link, StandardCopyOption.ATOMIC_MOVE, StandardCopyOption.REPLACE_EXISTING);
    return target;
  }

  /**
   * The model's tensors as CPU tensors, so that a checkpoint of a GPU run loads anywhere (a CPU
   * machine, Python). A model on a GPU is moved out and back: its parameter tensors keep their
   * identity (libtorch's set_data), so the optimizer's references stay valid.
   */
  private static void saveOnCpu(NpidModel model, OutputArchive archive) {
    Device device = Devices.of(model);
    if (!device.is_cuda()) {
      model.save(archive);
      return;
    }
    model.to(Devices.CPU, false);
    try {
      model.save(archive);
    } finally {
      model.to(device, false);
    }
  }

  /** Loads {@code file} into the given live objects and returns the rest of what it holds. */
  public static CheckpointState load(Path file, NpidModel model, NceLossWithMemory loss, Sgd sgd) {
    try (var scope = Scopes.open()) {
      InputArchive root = new InputArchive();
      try {
        root.load_from(file.toString());
      } catch (RuntimeException e) {
        throw new Unreadable(file + " is not a readable checkpoint (" + firstLine(e.getMessage()) + ")");
      }
      Tensor format = new Tensor();
      if (!root.try_read("format", format) || format.item_long() != FORMAT) {
        throw new UserError(file + " was written by an incompatible npid4j (checkpoint format "
            + (format.defined() ? format.item_long() : "unknown") + ", this version reads " + FORMAT
            + "): use another config.CHECKPOINT.DIR, or set config.CHECKPOINT.OVERWRITE_EXISTING=true to start over");
      }
      String meta = new String(Tensors.toBytes(read(root, "meta_json")), StandardCharsets.UTF_8);
      InputArchive m = new InputArchive();
      root.read("model", m);
      model.load(m);
      InputArchive l = new InputArchive();
      root.read("loss", l);
      Tensor memory = read(l, "memory");
      if (memory.size(0) != loss.memory().size(0) || memory.size(1) != loss.memory().size(1)) {
        throw new UserError(file + " holds a memory bank of " + memory.size(0) + " x " + memory.size(1) + " but this run needs "
            + loss.memory().size(0) + " x " + loss.memory().size(1) + ": the data set or embedding_dim changed;"
            + " use another config.CHECKPOINT.DIR");
      }
      loss.memory().copy_(memory);
      loss.setZ(read(l, "Z").item_double());
      loss.bank().markSynced();
      InputArchive o = new InputArchive();
      root.read("optimizer", o);
      List<Tensor> bufs = sgd.momentumBuffers();
      for (int i = 0; i < bufs.size(); i++) {
        if (bufs.get(i) != null) {
          bufs.get(i).copy_(read(o, "momentum_buffer_" + i));
        }
      }
      if (read(o, "started").item_long() == 1) {
        sgd.markStarted();
      }
      torch.getDefaultCPUGenerator().set_state(read(root, "rng_state"));
      var p = new CheckpointState.Position((int) read(root, "epoch").item_long(), (int) read(root, "step_in_epoch").item_long(),
          read(root, "iteration").item_long());
      return CheckpointState.fromJson(p, meta);
    } catch (IOException e) {
      throw new UserError("cannot read checkpoint " + file + ": " + e.getMessage());
    }
  }

  /** A checkpoint file that cannot be parsed (truncated, corrupt, not a checkpoint). */
  public static final class Unreadable extends UserError {
    Unreadable(String message) {
      super(message);
    }
  }

  private static String firstLine(String s) {
    return s == null ? "" : s.lines().findFirst().orElse("");
  }

  private static Tensor read(InputArchive a, String key) {
    Tensor t = new Tensor();
    a.read(key, t);
    return t;
  }

  /** Checkpoint files of {@code dir}, oldest first (by the global step they end at). */
  public static List<Entry> list(Path dir, int stepsPerEpoch) throws IOException {
    List<Entry> out = new ArrayList<>();
    if (!Files.isDirectory(dir)) {
      return out;
    }
    try (Stream<Path> files = Files.list(dir)) {
      for (Path p : files.toList()) {
        Matcher m = NAME.matcher(p.getFileName().toString());
        if (m.matches()) {
          long n = Long.parseLong(m.group(2));
          long step = m.group(1).equals("iteration") ? n : (n + 1) * stepsPerEpoch;
          out.add(new Entry(p, m.group(1), n, step));
        }
      }
    }
    out.sort(Comparator.comparingLong(Entry::globalStep).thenComparing(e -> e.kind().equals("iteration") ? 0 : 1));
    return out;
  }

  /** The final checkpoint of a finished run in {@code dir}, if any. */
  public static Optional<Path> finalCheckpoint(Path dir) throws IOException {
    return list(dir, 1).stream().filter(e -> e.kind().equals("final_checkpoint_phase")).map(Entry::path).findFirst();
  }

  /**
   * Deletes all but the newest {@code keep} phase/iteration checkpoints (0 keeps all, as VISSL).
   * The final checkpoint and the file {@code checkpoint.torch} names are never deleted.
   */
  public static void prune(Path dir, int keep, int stepsPerEpoch) throws IOException {
    if (keep <= 0) {
      return;
    }
    List<Entry> all = list(dir, stepsPerEpoch).stream().filter(e -> !e.kind().equals("final_checkpoint_phase")).toList();
    Path link = dir.resolve("checkpoint.torch");
    Path current = Files.isSymbolicLink(link) ? dir.resolve(Files.readSymbolicLink(link)) : null;
    for (int i = 0; i < all.size() - keep; i++) {
      if (!all.get(i).path().equals(current)) {
        Files.deleteIfExists(all.get(i).path());
      }
    }
  }

  /** Leftovers of a write interrupted by a crash (the rename never happened). */
  static void removeTempFiles(Path dir) throws IOException {
    if (!Files.isDirectory(dir)) {
      return;
    }
    try (Stream<Path> files = Files.list(dir)) {
      for (Path p : files.toList()) {
        String n = p.getFileName().toString();
        if (n.startsWith(".") && n.contains(".tmp")) {
          Files.deleteIfExists(p);
        }
      }
    }
  }
}
