package dev.npid4j.formats;

import java.io.ByteArrayOutputStream;
import java.nio.charset.StandardCharsets;
import java.util.List;
import java.util.Map;
import java.util.function.Function;

/**
 * Writes Python pickles (protocol 2, what {@code torch.save} writes) of plain values: dicts,
 * lists, tuples ({@link Py.Tuple}), strings, ints, floats, bools, None, and globals/reductions
 * ({@link Py.Global}, {@link Py.Reduce}, {@link Py.Persistent}). No memo: every value is written once.
 */
final class PickleWriter {
  private final ByteArrayOutputStream out = new ByteArrayOutputStream();
  private final Function<Object, Object> translate;

  /** {@code translate} turns values the writer does not know (tensors) into ones it does. */
  PickleWriter(Function<Object, Object> translate) {
    this.translate = translate;
  }

  byte[] pickle(Object value) {
    out.reset();
    out.write(0x80);
    out.write(2);
    write(value);
    out.write('.');
    return out.toByteArray();
  }

  private void write(Object v) {
    if (v == null) {
      out.write('N');
    } else if (v instanceof Boolean b) {
      out.write(b ? 0x88 : 0x89);
    } else if (v instanceof Integer || v instanceof Long) {
      writeInt(((Number) v).longValue());
    } else if (v instanceof Float || v instanceof Double) {
      out.write('G');
      long bits = Double.doubleToLongBits(((Number) v).doubleValue());
      for (int i = 7; i >= 0; i--) {
        out.write((int) (bits >>> (8 * i)));
      }
    } else if (v instanceof String s) {
      byte[] b = s.getBytes(StandardCharsets.UTF_8);
      out.write('X');
      writeLe(b.length, 4);
      out.writeBytes(b);
    } else if (v instanceof Py.Tuple t) {
      if (t.items().isEmpty()) {
        out.write(')');
        return;
      }
      out.write('(');
      t.items().forEach(this::write);
      out.write('t');
    } else if (v instanceof List<?> l) {
      out.write(']');
      if (!l.isEmpty()) {
        out.write('(');
        l.forEach(this::write);
        out.write('e');
      }
    } else if (v instanceof Py.OrderedDict d) {
      write(new Py.Reduce(new Py.Global("collections", "OrderedDict"), new Py.Tuple(List.of())));
      writeItems(d.items());
    } else if (v instanceof Map<?, ?> m) {
      out.write('}');
      writeItems(m);
    } else if (v instanceof Py.Global g) {
      out.write('c');
      out.writeBytes((g.module() + "\n" + g.name() + "\n").getBytes(StandardCharsets.US_ASCII));
    } else if (v instanceof Py.Reduce r) {
      write(r.callable());
      write(r.args());
      out.write('R');
    } else if (v instanceof Py.Persistent p) {
      write(p.id());
      out.write('Q');
    } else {
      Object t = translate.apply(v);
      if (t == v) {
        throw new IllegalArgumentException("cannot pickle a " + v.getClass().getName());
      }
      write(t);
    }
  }

  private void writeItems(Map<?, ?> m) {
    if (m.isEmpty()) {
      return;
    }
    out.write('(');
    for (Map.Entry<?, ?> e : m.entrySet()) {
      write(e.getKey());
      write(e.getValue());
    }
    out.write('u');
  }

  private void writeInt(long v) {
    if (v >= 0 && v < 256) {
      out.write('K');
      out.write((int) v);
    } else if (v >= Integer.MIN_VALUE && v <= Integer.MAX_VALUE) {
      out.write('J');
      writeLe(v, 4);
    } else {
      out.write(0x8a); // LONG1: little-endian two's complement
      out.write(8);
      writeLe(v, 8);
    }
  }

  private void writeLe(long v, int bytes) {
    for (int i = 0; i < bytes; i++) {
      out.write((int) (v >>> (8 * i)));
    }
  }
}
