package dev.npid4j.engine;

import dev.npid4j.weights.CheckpointFile;
import dev.npid4j.config.CheckpointConfig;
import dev.npid4j.formats.AtomicFiles;
import dev.npid4j.UserError;
import dev.npid4j.config.RunConfig;
import dev.npid4j.data.transform.Transforms;
import dev.npid4j.weights.Weights;
import dev.npid4j.torch.Scopes;
import dev.npid4j.torch.Tensors;
import java.io.IOException;
import java.io.PrintStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import org.bytedeco.pytorch.Tensor;

/**
 * How a run starts: VISSL's resume rules (the newest readable checkpoint of the run directory,
 * from the LATEST_CHECKPOINT_RESUME_FILE_NUM-th newest on) or a fresh start (MODEL.WEIGHTS_INIT,
 * and npid4j's bank fill from the model); the run directory tidied and train_config.yaml written;
 * with several ranks, every rank checked to start from the same step with rank 0's weights.
 */
final class Resume {
  private Resume() {}

  /** Puts the session's objects where training continues; returns the checkpoint it resumed from, or null for a fresh start. */
  static CheckpointState begin(TrainingSession s, boolean lead, PrintStream out) throws IOException {
    RunConfig cfg = s.cfg;
    List<Path> candidates = candidates(cfg.checkpoint(), s.runDir, s.stepsPerEpoch);
    // every rank has chosen its checkpoint before rank 0 tidies the directory
    s.comm.barrier(Duration.ofSeconds(cfg.distributed().timeoutSeconds()));
    if (lead) {
      AtomicFiles.requireWritableDirectory(s.runDir, "config.CHECKPOINT.DIR=" + s.runDir);
      Checkpoints.removeTempFiles(s.runDir);
      if (candidates.isEmpty()) {
        clearPreviousRun(s.runDir, s.stepsPerEpoch);
      }
      AtomicFiles.writeString(s.runDir.resolve("train_config.yaml"), s.configYaml);
      writeLabelMap(s.train, "train", s.runDir);
      if (s.test != null) {
        writeLabelMap(s.test, "test", s.runDir);
      }
    }
    CheckpointState restored = null;
    Path from = null;
    for (Path candidate : candidates) {
      try {
        restored = Checkpoints.load(candidate, s.model, s.loss, s.sgd);
        from = candidate;
        break;
      } catch (CheckpointFile.Unreadable e) {
        out.println("[train] warning: " + e.getMessage() + "; trying an older checkpoint");
      }
    }
    if (!candidates.isEmpty() && restored == null) {
      throw new UserError("no checkpoint in " + s.runDir + " can be read (see the warnings above): move them away to start"
          + " over, or set config.CHECKPOINT.OVERWRITE_EXISTING=true");
    }
    var init = cfg.eval().weightsInit();
    if (restored == null && !init.paramsFile().isEmpty()) {
      // VISSL: the initial weights apply only to a run that does not resume from a checkpoint
      Path file = Path.of(init.paramsFile());
      var report = Weights.loadInto(s.model, Weights.read(file, init), init.skipLayers(), true, "config.MODEL.WEIGHTS_INIT.PARAMS_FILE=" + file);
      out.println("[train] initial weights from " + file + ": " + report.loaded() + " tensors"
          + (report.missingHeads().isEmpty() ? "" : "; the head keeps its fresh init"));
    }
    if (restored != null) {
      if (!restored.provenance().dataFingerprint().equals(s.fingerprint)) {
        throw new UserError(from + " was trained on other data (" + restored.provenance().data() + "); this run reads "
            + s.train.describe() + ". Use another config.CHECKPOINT.DIR, or config.CHECKPOINT.OVERWRITE_EXISTING=true");
      }
      var p = restored.next();
      out.println(String.format(Locale.ROOT, "[train] resumed from %s: epoch %d, step %d/%d (global step %d)",
          from.getFileName(), p.epoch() + 1, p.stepInEpoch(), s.stepsPerEpoch, p.globalStep()));
    }
    s.model.to(s.device, false); // a checkpoint or initial weights are read into CPU tensors
    if (s.sync != null) {
      checkSameStart(s, restored != null ? restored.next().globalStep() : 0, from);
      s.sync.broadcastFromRankZero();
    }
    out.println(String.format(Locale.ROOT, "[train] loss %s, memory bank %d x %d", TrainingSession.lossDescription(cfg), s.train.size(),
        cfg.bank().embeddingDim()));
    if (restored == null && cfg.bank().initFromModel()) {
      // the images as the eval sees them when there is a test split (the kNN compares them with the bank)
      boolean clean = !cfg.test().isEmpty();
      Transforms transform = clean ? cfg.test().transforms() : cfg.train().transforms();
      double seconds = BankWarmStart.fill(s.model, s.train, transform, cfg.train().batchSize() * s.comm.worldSize(), cfg.numWorkers(),
          s.loss, s.comm, cfg.model().bf16Autocast());
      out.println(String.format(Locale.ROOT, "[train] memory bank filled with the model's embeddings before training (%s; %.1fs)",
          clean ? "DATA.TEST.TRANSFORMS" : "DATA.TRAIN.TRANSFORMS", seconds));
    }
    return restored;
  }

  /** VISSL's {split}_label_to_index_map.json, for a split whose labels were class names. */
  private static void writeLabelMap(dev.npid4j.data.Dataset d, String split, Path runDir) throws IOException {
    if (!d.labelsFromNames()) {
      return;
    }
    java.util.Map<String, Integer> map = new java.util.LinkedHashMap<>();
    List<String> names = d.classNames();
    for (int i = 0; i < names.size(); i++) {
      map.put(names.get(i), i);
    }
    AtomicFiles.writeString(runDir.resolve(split + "_label_to_index_map.json"), MetricsLog.JSON.writeValueAsString(map) + "\n");
  }

  /** The checkpoints to try, newest first; empty means start from scratch. */
  static List<Path> candidates(CheckpointConfig c, Path runDir, int stepsPerEpoch) throws IOException {
    if (c.overwriteExisting()) {
      return List.of();
    }
    Path link = runDir.resolve("checkpoint.torch");
    if (c.useSymlinkForResume() && Files.exists(link)) {
      return List.of(link.toRealPath());
    }
    List<Checkpoints.Entry> all = Checkpoints.list(runDir, stepsPerEpoch);
    if (all.isEmpty()) {
      return List.of();
    }
    if (!c.autoResume()) {
      throw new UserError(runDir + " holds checkpoints of an earlier run but config.CHECKPOINT.AUTO_RESUME is false:"
          + " set it to true to continue that run, choose another config.CHECKPOINT.DIR, or set"
          + " config.CHECKPOINT.OVERWRITE_EXISTING=true to start again from scratch");
    }
    List<Path> newestFirst = new ArrayList<>();
    for (int i = all.size() - c.latestResumeFileNum(); i >= 0; i--) {
      newestFirst.add(all.get(i).path());
    }
    return newestFirst.isEmpty() ? List.of(all.get(0).path()) : newestFirst;
  }

  /** A fresh start in a used directory (OVERWRITE_EXISTING, or killed before its first checkpoint). */
  private static void clearPreviousRun(Path runDir, int stepsPerEpoch) throws IOException {
    for (Checkpoints.Entry e : Checkpoints.list(runDir, stepsPerEpoch)) {
      Files.deleteIfExists(e.path());
    }
    for (String f : new String[] {"checkpoint.torch", "metrics.jsonl", "knn.json", "unreadable_images.txt"}) {
      Files.deleteIfExists(runDir.resolve(f));
    }
  }

  /** Every rank must resume from the same point: a run directory that is not shared between nodes would split them. */
  private static void checkSameStart(TrainingSession s, long globalStep, Path from) {
    try (var scope = Scopes.open()) {
      Tensor mine = Tensors.fromDoubles(new double[] {globalStep}, 1);
      Tensor rankZero = mine.clone();
      s.comm.broadcast(rankZero, 0);
      long zero = (long) Tensors.toDoubles(rankZero)[0];
      if (zero != globalStep) {
        throw new UserError(String.format(Locale.ROOT, "rank %d starts at global step %d (%s) but rank 0 at step %d: every rank must"
            + " see the same config.CHECKPOINT.DIR (a shared folder when the job spans machines)", s.comm.rank(), globalStep,
            from != null ? "from " + from : "no checkpoint", zero));
      }
    }
  }
}
