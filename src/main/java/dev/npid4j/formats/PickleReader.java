package dev.npid4j.formats;

import java.io.IOException;
import java.math.BigInteger;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.function.BiFunction;
import java.util.function.Function;

/**
 * Reads Python pickles (protocols 0-5 as far as torch.save uses them) into plain Java values:
 * dict and OrderedDict to {@link LinkedHashMap}, list to {@link ArrayList}, tuple to
 * {@link Py.Tuple}, str to String, int to Long (or BigInteger), float to Double, bytes to
 * byte[]. Classes are never imported or run: {@code reduce} decides what a call of a global
 * becomes; anything it does not model stays a {@link Py.Opaque}.
 */
final class PickleReader {
  private static final Object MARK = new Object();

  private final ByteBuffer in;
  private final Function<Py.Tuple, Object> persistentLoad;
  private final BiFunction<Py.Global, Py.Tuple, Object> reduce;
  private final ArrayDeque<Object> stack = new ArrayDeque<>();
  private final Map<Long, Object> memo = new HashMap<>();

  PickleReader(ByteBuffer in, Function<Py.Tuple, Object> persistentLoad, BiFunction<Py.Global, Py.Tuple, Object> reduce) {
    this.in = in.order(ByteOrder.LITTLE_ENDIAN);
    this.persistentLoad = persistentLoad;
    this.reduce = reduce;
  }

  /** Reads one pickle (up to its STOP) from the current position. */
  Object load() throws IOException {
    stack.clear();
    memo.clear();
    try {
      while (true) {
        int op = in.get() & 0xff;
        switch (op) {
          case 0x80 -> in.get(); // PROTO
          case 0x95 -> in.getLong(); // FRAME
          case '.' -> {
            return pop();
          }
          case '(' -> stack.push(MARK);
          case 'N' -> stack.push(NONE);
          case 0x88 -> stack.push(Boolean.TRUE);
          case 0x89 -> stack.push(Boolean.FALSE);
          case 'J' -> stack.push((long) in.getInt());
          case 'K' -> stack.push((long) (in.get() & 0xff));
          case 'M' -> stack.push((long) (in.getShort() & 0xffff));
          case 0x8a -> stack.push(longOf(bytes(in.get() & 0xff)));
          case 0x8b -> stack.push(longOf(bytes(in.getInt())));
          case 'I' -> stack.push(textInt(line()));
          case 'L' -> stack.push(textInt(line().replace("L", "")));
          case 'G' -> stack.push(Double.longBitsToDouble(Long.reverseBytes(in.getLong()))); // big-endian
          case 'F' -> stack.push(Double.parseDouble(line()));
          case 'X' -> stack.push(utf8(bytes(in.getInt())));
          case 0x8c -> stack.push(utf8(bytes(in.get() & 0xff)));
          case 0x8d -> stack.push(utf8(bytes(Math.toIntExact(in.getLong()))));
          case 'U' -> stack.push(new String(bytes(in.get() & 0xff), StandardCharsets.ISO_8859_1));
          case 'T' -> stack.push(new String(bytes(in.getInt()), StandardCharsets.ISO_8859_1));
          case 'C' -> stack.push(bytes(in.get() & 0xff));
          case 'B' -> stack.push(bytes(in.getInt()));
          case 0x8e -> stack.push(bytes(Math.toIntExact(in.getLong())));
          case '}' -> stack.push(new LinkedHashMap<>());
          case ']' -> stack.push(new ArrayList<>());
          case ')' -> stack.push(new Py.Tuple(List.of()));
          case 0x8f -> stack.push(new LinkedHashSet<>());
          case 't' -> stack.push(new Py.Tuple(popMark()));
          case 0x85 -> stack.push(new Py.Tuple(List.of(pop())));
          case 0x86 -> {
            Object b = pop();
            Object a = pop();
            stack.push(new Py.Tuple(Arrays.asList(a, b)));
          }
          case 0x87 -> {
            Object c = pop();
            Object b = pop();
            Object a = pop();
            stack.push(new Py.Tuple(Arrays.asList(a, b, c)));
          }
          case 'l' -> stack.push(new ArrayList<>(popMark()));
          case 'd' -> {
            List<Object> items = popMark();
            Map<Object, Object> m = new LinkedHashMap<>();
            for (int i = 0; i < items.size(); i += 2) {
              m.put(items.get(i), items.get(i + 1));
            }
            stack.push(m);
          }
          case 's' -> {
            Object v = pop();
            Object k = pop();
            setItem(stack.peek(), k, v);
          }
          case 'u' -> {
            List<Object> items = popMark();
            Object target = stack.peek();
            for (int i = 0; i < items.size(); i += 2) {
              setItem(target, items.get(i), items.get(i + 1));
            }
          }
          case 'a' -> {
            Object v = pop();
            append(stack.peek(), List.of(v));
          }
          case 'e' -> {
            List<Object> items = popMark();
            append(stack.peek(), items);
          }
          case 0x90 -> {
            List<Object> items = popMark();
            append(stack.peek(), items);
          }
          case 0x91 -> stack.push(new LinkedHashSet<>(popMark()));
          case 'q' -> memo.put((long) (in.get() & 0xff), stack.peek());
          case 'r' -> memo.put(in.getInt() & 0xffffffffL, stack.peek());
          case 'p' -> memo.put(Long.parseLong(line()), stack.peek());
          case 0x94 -> memo.put((long) memo.size(), stack.peek());
          case 'h' -> stack.push(get(in.get() & 0xff));
          case 'j' -> stack.push(get(in.getInt() & 0xffffffffL));
          case 'g' -> stack.push(get(Long.parseLong(line())));
          case 'c' -> {
            String module = line();
            stack.push(new Py.Global(module, line()));
          }
          case 0x93 -> {
            String name = (String) pop();
            stack.push(new Py.Global((String) pop(), name));
          }
          case 'R' -> {
            Py.Tuple args = (Py.Tuple) pop();
            Object f = pop();
            stack.push(call(f, args));
          }
          case 0x81 -> {
            Py.Tuple args = (Py.Tuple) pop();
            Object cls = pop();
            stack.push(call(cls, args));
          }
          case 0x92 -> {
            pop(); // kwargs
            Py.Tuple args = (Py.Tuple) pop();
            Object cls = pop();
            stack.push(call(cls, args));
          }
          case 'b' -> {
            Object state = pop();
            Object obj = pop();
            stack.push(obj instanceof Py.Opaque o && o.state() == null ? new Py.Opaque(o.type(), o.args(), state) : obj);
          }
          case 'Q' -> stack.push(persistentLoad.apply(asTuple(pop())));
          case 'P' -> stack.push(persistentLoad.apply(new Py.Tuple(List.of(line()))));
          case '0' -> pop();
          case '2' -> stack.push(stack.peek());
          default -> throw new IOException(String.format("unsupported pickle opcode 0x%02x at byte %d", op, in.position() - 1));
        }
      }
    } catch (RuntimeException e) {
      throw new IOException("not a readable pickle (" + e + " at byte " + in.position() + ")", e);
    }
  }

  /** None on the stack (ArrayDeque takes no nulls). */
  static final Object NONE = new Object() {
    @Override
    public String toString() {
      return "None";
    }
  };

  /** Replaces the NONE marker with null, recursively through maps, lists and tuples. */
  static Object unwrapNone(Object v) {
    if (v == NONE) {
      return null;
    }
    if (v instanceof Map<?, ?> m) {
      @SuppressWarnings("unchecked")
      Map<Object, Object> mm = (Map<Object, Object>) m;
      mm.replaceAll((k, x) -> unwrapNone(x));
    } else if (v instanceof List<?> l) {
      @SuppressWarnings("unchecked")
      List<Object> ll = (List<Object>) l;
      ll.replaceAll(PickleReader::unwrapNone);
    } else if (v instanceof Py.Tuple t) {
      List<Object> items = new ArrayList<>(t.items());
      items.replaceAll(PickleReader::unwrapNone);
      return new Py.Tuple(items);
    }
    return v;
  }

  private Object call(Object f, Py.Tuple args) {
    if (f instanceof Py.Global g) {
      if ((g.module().equals("collections") && g.name().equals("OrderedDict"))
          || (g.module().equals("__builtin__") || g.module().equals("builtins")) && g.name().equals("dict")) {
        return new LinkedHashMap<>();
      }
      Object r = reduce.apply(g, args);
      return r != null ? r : new Py.Opaque(g, args, null);
    }
    return new Py.Opaque(null, args, null);
  }

  private static Py.Tuple asTuple(Object o) {
    return o instanceof Py.Tuple t ? t : new Py.Tuple(List.of(o));
  }

  @SuppressWarnings("unchecked")
  private static void setItem(Object target, Object k, Object v) {
    if (target instanceof Map<?, ?> m) {
      ((Map<Object, Object>) m).put(k, v);
    }
    // items set on an object we do not model are dropped
  }

  @SuppressWarnings("unchecked")
  private static void append(Object target, List<Object> items) {
    if (target instanceof List<?> l) {
      ((List<Object>) l).addAll(items);
    } else if (target instanceof Set<?> s) {
      ((Set<Object>) s).addAll(items);
    }
  }

  private Object get(long key) {
    Object v = memo.get(key);
    if (v == null) {
      throw new IllegalStateException("memo key " + key + " missing");
    }
    return v;
  }

  private Object pop() {
    Object v = stack.pop();
    if (v == MARK) {
      throw new IllegalStateException("unexpected MARK");
    }
    return v;
  }

  private List<Object> popMark() {
    List<Object> items = new ArrayList<>();
    while (true) {
      Object v = stack.pop();
      if (v == MARK) {
        break;
      }
      items.add(v);
    }
    java.util.Collections.reverse(items);
    return items;
  }

  private byte[] bytes(int n) {
    byte[] b = new byte[n];
    in.get(b);
    return b;
  }

  private String line() {
    StringBuilder sb = new StringBuilder();
    while (true) {
      byte c = in.get();
      if (c == '\n') {
        return sb.toString();
      }
      sb.append((char) (c & 0xff));
    }
  }

  private static String utf8(byte[] b) {
    return new String(b, StandardCharsets.UTF_8);
  }

  private static Object textInt(String s) {
    return switch (s) {
      case "00" -> Boolean.FALSE;
      case "01" -> Boolean.TRUE;
      default -> normalize(new BigInteger(s));
    };
  }

  /** Little-endian two's complement. */
  private static Object longOf(byte[] le) {
    if (le.length == 0) {
      return 0L;
    }
    byte[] be = new byte[le.length];
    for (int i = 0; i < le.length; i++) {
      be[i] = le[le.length - 1 - i];
    }
    return normalize(new BigInteger(be));
  }

  private static Object normalize(BigInteger b) {
    return b.bitLength() < 64 ? (Object) b.longValue() : b;
  }
}
