package dev.npid4j.engine;

import dev.npid4j.formats.AtomicFiles;
import dev.npid4j.torch.Scopes;
import dev.npid4j.UserError;
import dev.npid4j.loss.NceLossWithMemory;
import dev.npid4j.model.NpidModel;
import dev.npid4j.optim.Sgd;
import dev.npid4j.formats.TorchFiles;
import dev.npid4j.torch.NoGrad;
import dev.npid4j.torch.StateDict;
import dev.npid4j.torch.Tensors;
import dev.npid4j.weights.CheckpointFile;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Comparator;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Stream;
import org.bytedeco.pytorch.Tensor;
import org.bytedeco.pytorch.global.torch;
import org.bytedeco.pytorch.global.torch.ScalarType;

/**
 * Checkpoints in the run directory with VISSL's names: {@code model_phase{p}.torch} after epoch
 * p, {@code model_iteration{i}.torch} after global step i (CHECKPOINT_ITER_FREQUENCY, and on
 * SIGTERM), {@code model_final_checkpoint_phase{p}.torch} after the last epoch, and the
 * {@code checkpoint.torch} link to the newest. Each is written atomically (temp file, fsync,
 * rename) and holds all a run needs to continue bit for bit: model (with BN buffers), memory
 * bank and Z, momentum buffers, the position (epoch, step in epoch, global step), torch's
 * generator state, and a JSON block with the provenance, the metrics so far and the kNN history.
 * The file is torch.save's format ({@link CheckpointFile}): Python reads it with
 * {@code torch.load(f, weights_only=True)}, and {@code ["model"]} is the model's state dict.
 */
public final class Checkpoints {
  /** Checkpoint layout version written; 1 (libtorch archives, before 2026-12) is still read, others are refused. */
  public static final int FORMAT = CheckpointFile.FORMAT;
  static final String FINAL_PREFIX = "model_final_checkpoint_phase";
  private static final Pattern NAME = Pattern.compile("model_(phase|iteration|final_checkpoint_phase)(\\d+)\\.torch");

  private Checkpoints() {}

  /** A checkpoint file found in a run directory. */
  public record Entry(Path path, String kind, long number, long globalStep) {}

  /** Writes {@code state} and the live objects' tensors to {@code target} (atomically) and points checkpoint.torch at it. */
  public static Path save(Path target, CheckpointState state, NpidModel model, NceLossWithMemory loss, Sgd sgd) throws IOException {
    CheckpointState.Position next = state.next();
    // every tensor handle made here (state-dict views, CPU copies of a GPU run's tensors) is freed
    // with this scope: ranks run without JavaCPP's GC deallocation
    try (var scope = Scopes.open()) {
      // GPU tensors are copied to the CPU as they are written: a GPU run's checkpoint loads anywhere
      Map<String, Object> root = CheckpointFile.layout(StateDict.of(model), loss.memory(), loss.z(), sgd.momentumBuffers(),
          sgd.started(), next.epoch(), next.stepInEpoch(), next.globalStep(), torch.getDefaultCPUGenerator().get_state(),
          state.toJson());
      TorchFiles.save(target, root);
    } catch (RuntimeException e) {
      throw new IOException(e.getMessage(), e); // libtorch reports errors (a failed GPU copy, ...) as c10::Error
    }
    AtomicFiles.link(target.resolveSibling("checkpoint.torch"), target.getFileName());
    return target;
  }

  /**
   * Loads {@code file} into the given live objects and returns the rest of what it holds. Every
   * tensor is checked against the live one it replaces (name, shape, dtype) and copied into it;
   * nothing from the file is adopted.
   */
  public static CheckpointState load(Path file, NpidModel model, NceLossWithMemory loss, Sgd sgd) {
    try (var scope = Scopes.open(); CheckpointFile ck = CheckpointFile.read(file)) {
      Map<String, Tensor> live = StateDict.of(model);
      for (String k : ck.model().keySet()) {
        if (!live.containsKey(k)) {
          throw new UserError(file + " holds model tensor " + k + ", which this model does not have: it was trained with another"
              + " MODEL.TRUNK / MODEL.HEAD; use another config.CHECKPOINT.DIR");
        }
      }
      try (var g = NoGrad.open()) {
        for (Map.Entry<String, Tensor> e : live.entrySet()) {
          Tensor src = ck.model().get(e.getKey());
          if (src == null) {
            throw new UserError(file + " does not hold model tensor " + e.getKey() + ": it was trained with another MODEL.TRUNK /"
                + " MODEL.HEAD; use another config.CHECKPOINT.DIR");
          }
          copyChecked(file, "model." + e.getKey(), src, e.getValue());
        }
        Tensor memory = ck.memory();
        if (memory.dim() != 2 || memory.size(0) != loss.memory().size(0) || memory.size(1) != loss.memory().size(1)) {
          throw new UserError(file + " holds a memory bank of " + Arrays.toString(Tensors.shape(memory)) + " but this run needs "
              + loss.memory().size(0) + " x " + loss.memory().size(1) + ": the data set or embedding_dim changed;"
              + " use another config.CHECKPOINT.DIR");
        }
        copyChecked(file, "loss.memory", memory, loss.memory());
        List<Tensor> bufs = sgd.momentumBuffers();
        for (int i = 0; i < bufs.size(); i++) {
          if (bufs.get(i) != null) {
            Tensor src = ck.momentum().get(i);
            if (src == null) {
              throw new CheckpointFile.Unreadable(file + " is not a readable checkpoint (momentum buffer " + i + " is missing)");
            }
            copyChecked(file, "optimizer.momentum_buffer_" + i, src, bufs.get(i));
          }
        }
      }
      loss.setZ(ck.z());
      loss.bank().markSynced();
      if (ck.started()) {
        sgd.markStarted();
      }
      Tensor rng = torch.getDefaultCPUGenerator().get_state();
      if (ck.rngState().numel() != rng.numel() || !Tensors.isType(ck.rngState(), ScalarType.Byte)) {
        throw new CheckpointFile.Unreadable(file + " is not a readable checkpoint (its generator state is not " + rng.numel() + " bytes)");
      }
      torch.getDefaultCPUGenerator().set_state(ck.rngState());
      var p = new CheckpointState.Position(ck.epoch(), ck.stepInEpoch(), ck.iteration());
      if (p.epoch() < 0 || p.stepInEpoch() < 0 || p.globalStep() < 0) {
        throw new CheckpointFile.Unreadable(file + " is not a readable checkpoint (a negative position " + p + ")");
      }
      return CheckpointState.fromJson(p, ck.metaJson());
    } catch (IOException e) {
      throw new UserError("cannot read checkpoint " + file + ": " + e.getMessage());
    }
  }

  /** Copies {@code src} into {@code dst} after checking it is the same kind of tensor. */
  private static void copyChecked(Path file, String key, Tensor src, Tensor dst) {
    if (!Arrays.equals(Tensors.shape(src), Tensors.shape(dst)) || src.scalar_type().value != dst.scalar_type().value) {
      throw new UserError(file + ": " + key + " is " + src.scalar_type() + " " + Arrays.toString(Tensors.shape(src)) + " but this run's is "
          + dst.scalar_type() + " " + Arrays.toString(Tensors.shape(dst)) + ": use another config.CHECKPOINT.DIR");
    }
    dst.copy_(src);
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
        if (AtomicFiles.isOwnTempFile(p)) {
          Files.deleteIfExists(p);
        }
      }
    }
  }
}
