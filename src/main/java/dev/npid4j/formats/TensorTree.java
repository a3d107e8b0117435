package dev.npid4j.formats;

import dev.npid4j.torch.Scopes;
import dev.npid4j.torch.Tensors;
import java.util.ArrayList;
import java.util.IdentityHashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.function.Function;
import org.bytedeco.pytorch.Tensor;
import org.bytedeco.pytorch.global.torch.ScalarType;

/**
 * A torch.save pickle's value tree made into plain Java values with tensors, trusting nothing in
 * it: each object is visited once (a structure that shares a sub-list a million times costs one
 * visit, one that contains itself is refused), nesting is bounded, and every tensor view is
 * checked against its storage before a byte of it is read.
 */
final class TensorTree {
  /** Deepest nesting of containers in a file's value. */
  static final int MAX_DEPTH = 1000;

  private static final Object IN_PROGRESS = new Object();
  private static final Object NULL = new Object();

  /** A storage named by a pickle, read once its bytes are reachable. */
  record StorageRef(String key, ScalarType dtype, long numel) {}

  /** A tensor as the pickle describes it: a strided view of a storage. */
  record TensorRef(StorageRef storage, long offset, long[] size, long[] stride) {}

  private final Function<StorageRef, Tensor> storage;
  private final IdentityHashMap<Object, Object> done = new IdentityHashMap<>();

  private TensorTree(Function<StorageRef, Tensor> storage) {
    this.storage = storage;
  }

  /** {@code root} with every tensor reference replaced by a checked copy of its view of {@code storage}'s tensor. */
  static Object resolve(Function<StorageRef, Tensor> storage, Object root) {
    return new TensorTree(storage).resolve(root, 0);
  }

  /** The storages {@code root} refers to, by key (the legacy format's storage types). */
  static void collectStorages(Object root, Map<String, StorageRef> out) {
    collect(root, out, new IdentityHashMap<>(), 0);
  }

  private static void collect(Object v, Map<String, StorageRef> out, IdentityHashMap<Object, Boolean> seen, int depth) {
    if (v == null || seen.put(v, Boolean.TRUE) != null) {
      return;
    }
    checkDepth(depth);
    if (v instanceof TensorRef t) {
      out.put(t.storage().key(), t.storage());
    } else if (v instanceof Map<?, ?> m) {
      m.values().forEach(x -> collect(x, out, seen, depth + 1));
    } else if (v instanceof List<?> l) {
      l.forEach(x -> collect(x, out, seen, depth + 1));
    } else if (v instanceof Py.Tuple t) {
      t.items().forEach(x -> collect(x, out, seen, depth + 1));
    } else if (v instanceof Py.Opaque o) {
      collect(o.state(), out, seen, depth + 1);
    }
  }

  private static void checkDepth(int depth) {
    if (depth > MAX_DEPTH) {
      throw new IllegalStateException("values nested deeper than " + MAX_DEPTH + " levels");
    }
  }

  private Object resolve(Object v, int depth) {
    if (v == null || v instanceof String || v instanceof Number || v instanceof Boolean || v instanceof Py.Global) {
      return v;
    }
    Object known = done.get(v);
    if (known == IN_PROGRESS) {
      throw new IllegalStateException("a " + Py.typeName(v) + " that contains itself");
    }
    if (known != null) {
      return known;
    }
    checkDepth(depth);
    done.put(v, IN_PROGRESS);
    Object out = build(v, depth);
    done.put(v, out == null ? NULL : out);
    return out;
  }

  private Object build(Object v, int depth) {
    if (v instanceof TensorRef t) {
      return tensor(t);
    }
    if (v instanceof Map<?, ?> m) {
      Map<Object, Object> out = new LinkedHashMap<>();
      m.forEach((k, x) -> out.put(k, unwrap(resolve(x, depth + 1))));
      return out;
    }
    if (v instanceof List<?> l) {
      List<Object> out = new ArrayList<>(l.size());
      l.forEach(x -> out.add(unwrap(resolve(x, depth + 1))));
      return out;
    }
    if (v instanceof Py.Tuple t) {
      List<Object> out = new ArrayList<>(t.size());
      t.items().forEach(x -> out.add(unwrap(resolve(x, depth + 1))));
      return new Py.Tuple(out);
    }
    if (v instanceof Py.Opaque o && o.type() != null && isScriptModule(o.type()) && o.state() instanceof Map<?, ?> state) {
      return resolve(state, depth + 1); // a TorchScript module's attributes
    }
    return v;
  }

  private static Object unwrap(Object o) {
    return o == NULL ? null : o;
  }

  /** Classes a TorchScript archive's pickle names for its modules: {@code __torch__.<...>}. */
  private static boolean isScriptModule(Py.Global g) {
    return g.module().equals("__torch__") || g.module().startsWith("__torch__.");
  }

  private Tensor tensor(TensorRef t) {
    StorageRef s = t.storage();
    if (t.size().length != t.stride().length) {
      throw new IllegalStateException("a tensor with " + t.size().length + " sizes but " + t.stride().length + " strides");
    }
    long numel = 1;
    long last = t.offset();
    for (int i = 0; i < t.size().length; i++) {
      numel = Math.multiplyExact(numel, t.size()[i]);
      if (t.size()[i] > 0) {
        last = Math.addExact(last, Math.multiplyExact(t.size()[i] - 1, t.stride()[i]));
      }
    }
    if (numel > s.numel()) {
      throw new IllegalStateException("a tensor view of " + numel + " elements over a storage of " + s.numel());
    }
    if (numel > 0 && last >= s.numel()) {
      throw new IllegalStateException("a tensor view reaching element " + last + " of a storage of " + s.numel()
          + " (offset " + t.offset() + ")");
    }
    Tensor st = storage.apply(s);
    try (var scope = Scopes.open()) {
      return Tensors.keep(Tensors.stridedCopy(st, t.size(), t.stride(), t.offset()));
    }
  }
}
