package dev.npid4j.formats;

import java.util.List;
import java.util.Map;

/** Python values that have no natural Java type, as the pickle reader and writer see them. */
public final class Py {
  private Py() {}

  public record Tuple(List<?> items) {
    public Object get(int i) {
      return items.get(i);
    }

    public int size() {
      return items.size();
    }
  }

  /** {@code module.name}, e.g. {@code torch._utils._rebuild_tensor_v2}. */
  public record Global(String module, String name) {
    @Override
    public String toString() {
      return module + "." + name;
    }
  }

  /** {@code callable(*args)}; for the reader, an object of a class it does not model, with its BUILD state. */
  public record Reduce(Object callable, Tuple args) {}

  /** A persistent id (torch.save: a storage reference). */
  public record Persistent(Tuple id) {}

  /** A dict written as collections.OrderedDict (what state_dict() returns). */
  public record OrderedDict(Map<String, ?> items) {}

  /** An object the reader does not model (class, constructor arguments, state). */
  public record Opaque(Global type, Object args, Object state) {}

  /** Python's name for the type of a value the pickle reader built ("list", "dict", "tuple", ...). */
  public static String typeName(Object v) {
    if (v == null) {
      return "None";
    }
    if (v instanceof List<?>) {
      return "list";
    }
    if (v instanceof Map<?, ?>) {
      return "dict";
    }
    if (v instanceof java.util.Set<?>) {
      return "set";
    }
    if (v instanceof Tuple) {
      return "tuple";
    }
    if (v instanceof String) {
      return "str";
    }
    if (v instanceof byte[]) {
      return "bytes";
    }
    if (v instanceof Long || v instanceof java.math.BigInteger) {
      return "int";
    }
    if (v instanceof Double) {
      return "float";
    }
    if (v instanceof Boolean) {
      return "bool";
    }
    if (v instanceof Opaque o) {
      return o.type() == null ? "object" : o.type().toString();
    }
    return v.getClass().getSimpleName();
  }
}
