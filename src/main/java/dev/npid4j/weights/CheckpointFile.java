package dev.npid4j.weights;

import dev.npid4j.UserError;
import dev.npid4j.formats.Py;
import dev.npid4j.formats.TorchFiles;
import dev.npid4j.torch.Tensors;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.TreeMap;
import org.bytedeco.pytorch.Tensor;

/**
 * What an npid4j checkpoint holds, read through the safe reader ({@link TorchFiles}) whatever
 * its format: format 2 is torch.save's zip (a dict PyTorch reads with
 * {@code torch.load(f, weights_only=True)}); format 1, written by npid4j before 2026-12, is a
 * libtorch archive whose data is read as data (its TorchScript code is never run).
 *
 * @param model state-dict keys ({@code trunk.conv1.weight}, ...) to CPU tensors
 * @param momentum momentum buffer index to tensor (indices without a buffer are absent)
 */
public record CheckpointFile(int format, Map<String, Tensor> model, Tensor memory, double z, Map<Integer, Tensor> momentum,
    boolean started, int epoch, int stepInEpoch, long iteration, Tensor rngState, String metaJson) implements AutoCloseable {
  /** The checkpoint format npid4j writes (engine/Checkpoints); 1 is still read. */
  public static final int FORMAT = 2;

  /** A checkpoint file that cannot be parsed (truncated, corrupt, not a checkpoint): resume tries an older one. */
  public static final class Unreadable extends UserError {
    public Unreadable(String message) {
      super(message);
    }
  }

  /** Reads {@code file}; one that is not a readable npid4j checkpoint is {@link Unreadable}. */
  public static CheckpointFile read(Path file) {
    TorchFiles.Contents c;
    try {
      c = TorchFiles.read(file);
    } catch (UserError e) {
      throw new Unreadable(file + " is not a readable checkpoint (" + e.getMessage().replace("cannot read " + file + " as ", "") + ")");
    }
    return of(c.value(), file).orElseThrow(() -> c.scripted() ? TorchFiles.scriptRefusal(file)
        : new Unreadable(file + " is not an npid4j checkpoint (no format, model and meta entries)"));
  }

  /** The checkpoint in a value read from {@code file}, if it is one. */
  public static Optional<CheckpointFile> of(Object value, Path file) {
    if (!(value instanceof Map<?, ?> root) || !root.containsKey("format")) {
      return Optional.empty();
    }
    int format = (int) integer(root, "format", file);
    if (format != 1 && format != 2) {
      throw new UserError(file + " was written by an incompatible npid4j (checkpoint format " + format + ", this version reads 1 and "
          + FORMAT + "): use another config.CHECKPOINT.DIR, or set config.CHECKPOINT.OVERWRITE_EXISTING=true to start over");
    }
    if (!(root.get("model") instanceof Map<?, ?> model)) {
      return Optional.empty();
    }
    try {
      return Optional.of(format == 2 ? format2(root, model, file) : format1(root, model, file));
    } catch (ClassCastException | IllegalArgumentException e) {
      throw new Unreadable(file + " is not a readable checkpoint (" + e.getMessage() + ")");
    }
  }

  /**
   * What a format-2 checkpoint holds, as the value torch.save's format writes (the reader is
   * {@link #format2} below): a dict of the model's state dict, the loss's bank and Z, the
   * optimizer's momentum buffers (null where a parameter has none), the position, the generator
   * state and the JSON metadata.
   */
  public static Map<String, Object> layout(Map<String, Tensor> model, Tensor memory, double z, List<Tensor> momentumBuffers,
      boolean started, int epoch, int stepInEpoch, long iteration, Tensor rngState, String metaJson) {
    Map<String, Object> root = new LinkedHashMap<>();
    root.put("format", (long) FORMAT);
    root.put("model", new Py.OrderedDict(model));
    Map<String, Object> loss = new LinkedHashMap<>();
    loss.put("memory", memory);
    // a tensor, not a Python float: the weights_only loader of PyTorch 1.13 (Debian 12's) has no BINFLOAT
    loss.put("Z", Tensors.fromDoubles(new double[] {z}, 1));
    root.put("loss", loss);
    Map<String, Object> optimizer = new LinkedHashMap<>();
    optimizer.put("momentum_buffers", new java.util.ArrayList<Object>(momentumBuffers));
    optimizer.put("started", started);
    root.put("optimizer", optimizer);
    root.put("epoch", (long) epoch);
    root.put("step_in_epoch", (long) stepInEpoch);
    root.put("iteration", iteration);
    root.put("rng_state", rngState);
    root.put("meta", metaJson);
    return root;
  }

  private static CheckpointFile format2(Map<?, ?> root, Map<?, ?> model, Path file) {
    Map<?, ?> loss = map(root, "loss", file);
    Map<?, ?> opt = map(root, "optimizer", file);
    Map<Integer, Tensor> momentum = new TreeMap<>();
    if (!(opt.get("momentum_buffers") instanceof List<?> bufs)) {
      throw bad(file, "optimizer.momentum_buffers is not a list");
    }
    for (int i = 0; i < bufs.size(); i++) {
      if (bufs.get(i) instanceof Tensor t) {
        momentum.put(i, t);
      }
    }
    if (!(root.get("meta") instanceof String meta)) {
      throw bad(file, "meta is not a string");
    }
    return new CheckpointFile(2, flat(model, file), tensor(loss, "memory", file), real(loss, "Z", file), momentum,
        Boolean.TRUE.equals(opt.get("started")), (int) integer(root, "epoch", file), (int) integer(root, "step_in_epoch", file),
        integer(root, "iteration", file), tensor(root, "rng_state", file), meta);
  }

  private static CheckpointFile format1(Map<?, ?> root, Map<?, ?> model, Path file) {
    Map<?, ?> loss = map(root, "loss", file);
    Map<?, ?> opt = map(root, "optimizer", file);
    Map<Integer, Tensor> momentum = new TreeMap<>();
    opt.forEach((k, v) -> {
      if (k instanceof String s && s.startsWith("momentum_buffer_") && v instanceof Tensor t) {
        momentum.put(Integer.parseInt(s.substring("momentum_buffer_".length())), t);
      }
    });
    String meta = new String(Tensors.toBytes(tensor(root, "meta_json", file)), StandardCharsets.UTF_8);
    return new CheckpointFile(1, flat(model, file), tensor(loss, "memory", file), real(loss, "Z", file), momentum,
        integer(opt, "started", file) == 1, (int) integer(root, "epoch", file), (int) integer(root, "step_in_epoch", file),
        integer(root, "iteration", file), tensor(root, "rng_state", file), meta);
  }

  /** Every tensor under a dotted key: model.*, loss.memory, optimizer.momentum_buffer_i, rng_state (for comparisons). */
  public Map<String, Tensor> tensors() {
    Map<String, Tensor> out = new TreeMap<>();
    model.forEach((k, v) -> out.put("model." + k, v));
    out.put("loss.memory", memory);
    momentum.forEach((i, t) -> out.put("optimizer.momentum_buffer_" + i, t));
    out.put("rng_state", rngState);
    return out;
  }

  /**
   * Frees the tensors read from the file now rather than whenever the garbage collector gets to
   * them (never, in ranks that run without JavaCPP's GC deallocation): a resumed run would
   * otherwise keep a second copy of its model and memory bank.
   */
  @Override
  public void close() {
    java.util.Set<Tensor> all = java.util.Collections.newSetFromMap(new java.util.IdentityHashMap<>());
    all.addAll(tensors().values());
    all.forEach(Tensor::close);
  }

  /** A nested module map (format 1) or a state dict (format 2) as state-dict keys. */
  private static Map<String, Tensor> flat(Map<?, ?> m, Path file) {
    Map<String, Tensor> out = new LinkedHashMap<>();
    flatten("", m, out, file);
    return out;
  }

  private static void flatten(String prefix, Map<?, ?> m, Map<String, Tensor> out, Path file) {
    m.forEach((k, v) -> {
      if (!(k instanceof String s)) {
        throw bad(file, "a model key that is not a string");
      }
      if (v instanceof Tensor t) {
        out.put(prefix + s, t);
      } else if (v instanceof Map<?, ?> sub) {
        flatten(prefix + s + ".", sub, out, file);
      } else if (v != null) {
        throw bad(file, "model." + prefix + s + " is a " + Py.typeName(v));
      }
    });
  }

  private static Map<?, ?> map(Map<?, ?> m, String key, Path file) {
    if (m.get(key) instanceof Map<?, ?> v) {
      return v;
    }
    throw bad(file, key + " is missing or not a dict");
  }

  private static Tensor tensor(Map<?, ?> m, String key, Path file) {
    if (m.get(key) instanceof Tensor t) {
      return t;
    }
    throw bad(file, key + " is missing or not a tensor");
  }

  /** An int, or (format 1) a one-element integer tensor. */
  private static long integer(Map<?, ?> m, String key, Path file) {
    Object v = m.get(key);
    if (v instanceof Long l) {
      return l;
    }
    if (v instanceof Tensor t && t.numel() == 1 && !t.is_floating_point()) {
      return t.item_long();
    }
    throw bad(file, key + " is missing or not an integer");
  }

  private static double real(Map<?, ?> m, String key, Path file) {
    Object v = m.get(key);
    if (v instanceof Double d) {
      return d;
    }
    if (v instanceof Long l) {
      return l;
    }
    if (v instanceof Tensor t && t.numel() == 1) {
      return t.item_double();
    }
    throw bad(file, key + " is missing or not a number");
  }

  private static Unreadable bad(Path file, String what) {
    return new Unreadable(file + " is not a readable checkpoint (" + what + ")");
  }
}
