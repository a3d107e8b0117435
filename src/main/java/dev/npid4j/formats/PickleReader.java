package dev.npid4j.formats;

import java.io.IOException;
import java.math.BigInteger;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
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
  /** Holds nulls (Python's None), which ArrayDeque does not. */
  private final ArrayList<Object> stack = new ArrayList<>();
  private final Map<Long, Object> memo = new HashMap<>();
  private int objects;

  PickleReader(ByteBuffer in, Function<Py.Tuple, Object> persistentLoad, BiFunction<Py.Global, Py.Tuple, Object> reduce) {
    this.in = in.order(ByteOrder.LITTLE_ENDIAN);
    this.persistentLoad = persistentLoad;
    this.reduce = reduce;
  }

  /** Digits of a text integer, as Python's default int_max_str_digits. */
  static final int MAX_DIGITS = 4300;
  /** Bytes of a binary integer (LONG1/LONG4): enough for MAX_DIGITS digits. */
  static final int MAX_LONG_BYTES = 2048;
  /** Values one pickle may build: far above any state dict's, far below what exhausts a heap. */
  static final int MAX_OBJECTS = 20_000_000;
  /** Characters of one text line (a module or class name, a protocol-0 number). */
  static final int MAX_LINE = 4096;

  /**
   * Reads one pickle (up to its STOP) from the current position. Every length the pickle declares
   * is checked against the bytes that remain before anything is allocated, so a pickle costs at
   * most a few times its own size; a malformed one is an IOException, never an Error.
   */
  Object load() throws IOException {
    stack.clear();
    objects = 0;
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
          case '(' -> push(MARK);
          case 'N' -> push(null);
          case 0x88 -> push(Boolean.TRUE);
          case 0x89 -> push(Boolean.FALSE);
          case 'J' -> push((long) in.getInt());
          case 'K' -> push((long) (in.get() & 0xff));
          case 'M' -> push((long) (in.getShort() & 0xffff));
          case 0x8a -> push(longOf(bytes(in.get() & 0xff)));
          case 0x8b -> push(longOf(bytes(limited(in.getInt(), MAX_LONG_BYTES, "a LONG4 integer"))));
          case 'I' -> push(textInt(line()));
          case 'L' -> push(textInt(line().replace("L", "")));
          case 'G' -> push(Double.longBitsToDouble(Long.reverseBytes(in.getLong()))); // big-endian
          case 'F' -> push(Double.parseDouble(line()));
          case 'X' -> push(utf8(bytes(in.getInt())));
          case 0x8c -> push(utf8(bytes(in.get() & 0xff)));
          case 0x8d -> push(utf8(bytes(in.getLong())));
          case 'U' -> push(new String(bytes(in.get() & 0xff), StandardCharsets.ISO_8859_1));
          case 'T' -> push(new String(bytes(in.getInt()), StandardCharsets.ISO_8859_1));
          case 'C' -> push(bytes(in.get() & 0xff));
          case 'B' -> push(bytes(in.getInt()));
          case 0x8e -> push(bytes(in.getLong()));
          case '}' -> push(new LinkedHashMap<>());
          case ']' -> push(new ArrayList<>());
          case ')' -> push(new Py.Tuple(List.of()));
          case 0x8f -> push(new LinkedHashSet<>());
          case 't' -> push(new Py.Tuple(popMark()));
          case 0x85 -> push(new Py.Tuple(List.of(pop())));
          case 0x86 -> {
            Object b = pop();
            Object a = pop();
            push(new Py.Tuple(Arrays.asList(a, b)));
          }
          case 0x87 -> {
            Object c = pop();
            Object b = pop();
            Object a = pop();
            push(new Py.Tuple(Arrays.asList(a, b, c)));
          }
          case 'l' -> push(new ArrayList<>(popMark()));
          case 'd' -> {
            List<Object> items = popMark();
            Map<Object, Object> m = new LinkedHashMap<>();
            for (int i = 0; i < items.size(); i += 2) {
              m.put(hashable(items.get(i)), items.get(i + 1));
            }
            push(m);
          }
          case 's' -> {
            Object v = pop();
            Object k = pop();
            setItem(peek(), k, v);
          }
          case 'u' -> {
            List<Object> items = popMark();
            Object target = peek();
            for (int i = 0; i < items.size(); i += 2) {
              setItem(target, items.get(i), items.get(i + 1));
            }
          }
          case 'a' -> {
            Object v = pop();
            append(peek(), List.of(v));
          }
          case 'e' -> {
            List<Object> items = popMark();
            append(peek(), items);
          }
          case 0x90 -> {
            List<Object> items = popMark();
            append(peek(), items);
          }
          case 0x91 -> {
            List<Object> items = popMark();
            items.forEach(PickleReader::hashable);
            push(new LinkedHashSet<>(items));
          }
          case 'q' -> memo.put((long) (in.get() & 0xff), peek());
          case 'r' -> memo.put(in.getInt() & 0xffffffffL, peek());
          case 'p' -> memo.put(Long.parseLong(line()), peek());
          case 0x94 -> memo.put((long) memo.size(), peek());
          case 'h' -> push(get(in.get() & 0xff));
          case 'j' -> push(get(in.getInt() & 0xffffffffL));
          case 'g' -> push(get(Long.parseLong(line())));
          case 'c' -> {
            String module = line();
            push(new Py.Global(module, line()));
          }
          case 0x93 -> {
            String name = (String) pop();
            push(new Py.Global((String) pop(), name));
          }
          case 'R' -> {
            Py.Tuple args = (Py.Tuple) pop();
            Object f = pop();
            push(call(f, args));
          }
          case 0x81 -> {
            Py.Tuple args = (Py.Tuple) pop();
            Object cls = pop();
            push(call(cls, args));
          }
          case 0x92 -> {
            pop(); // kwargs
            Py.Tuple args = (Py.Tuple) pop();
            Object cls = pop();
            push(call(cls, args));
          }
          case 'b' -> {
            Object state = pop();
            Object obj = pop();
            push(obj instanceof Py.Opaque o && o.state() == null ? new Py.Opaque(o.type(), o.args(), state) : obj);
          }
          case 'Q' -> push(persistentLoad.apply(asTuple(pop())));
          case 'P' -> push(persistentLoad.apply(new Py.Tuple(List.of(line()))));
          case '0' -> pop();
          case '2' -> push(peek());
          default -> throw new IOException(String.format("unsupported pickle opcode 0x%02x at byte %d", op, in.position() - 1));
        }
      }
    } catch (RuntimeException e) {
      throw new IOException("not a readable pickle (" + problem(e) + " at byte " + in.position() + ")", e);
    } catch (StackOverflowError e) {
      throw new IOException("not a readable pickle (nested too deeply at byte " + in.position() + ")");
    }
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
      ((Map<Object, Object>) m).put(hashable(k), v);
    }
    // items set on an object we do not model are dropped
  }

  @SuppressWarnings("unchecked")
  private static void append(Object target, List<Object> items) {
    if (target instanceof List<?> l) {
      ((List<Object>) l).addAll(items);
    } else if (target instanceof Set<?> s) {
      items.forEach(PickleReader::hashable);
      ((Set<Object>) s).addAll(items);
    }
  }

  /** What went wrong, in words: this reader's own findings as they are, Java's by kind. */
  private static String problem(RuntimeException e) {
    if (e instanceof IllegalStateException) {
      return e.getMessage();
    }
    if (e instanceof java.nio.BufferUnderflowException) {
      return "it ends early";
    }
    if (e instanceof ClassCastException) {
      return "a value of the wrong type for its opcode";
    }
    if (e instanceof NumberFormatException) {
      return "an unreadable number";
    }
    return e.getClass().getSimpleName().replace("Exception", "") + (e.getMessage() == null ? "" : ": " + e.getMessage());
  }

  /**
   * A dict key or set member as Python allows it: a scalar, or a tuple of scalars. Lists, dicts
   * and nested tuples are refused, which keeps Java's recursive hashCode away from self-containing
   * and exponentially shared structures.
   */
  private static Object hashable(Object k) {
    if (k instanceof Py.Tuple t) {
      for (Object x : t.items()) {
        if (!scalar(x)) {
          throw new IllegalStateException("a dict key or set member is a tuple holding a " + Py.typeName(x));
        }
      }
      return k;
    }
    if (!scalar(k)) {
      throw new IllegalStateException("unhashable type " + Py.typeName(k) + " as a dict key or set member");
    }
    return k;
  }

  private static boolean scalar(Object x) {
    return x == null || x instanceof String || x instanceof Long || x instanceof BigInteger || x instanceof Double
        || x instanceof Boolean || x instanceof Py.Global;
  }

  private Object get(long key) {
    if (!memo.containsKey(key)) {
      throw new IllegalStateException("memo key " + key + " missing");
    }
    return memo.get(key);
  }

  private void push(Object v) {
    if (++objects > MAX_OBJECTS) {
      throw new IllegalStateException("more than " + MAX_OBJECTS + " objects");
    }
    stack.add(v);
  }

  private Object peek() {
    if (stack.isEmpty()) {
      throw new IllegalStateException("stack underflow");
    }
    return stack.get(stack.size() - 1);
  }

  private Object pop() {
    Object v = peek();
    stack.remove(stack.size() - 1);
    if (v == MARK) {
      throw new IllegalStateException("unexpected MARK");
    }
    return v;
  }

  private List<Object> popMark() {
    int mark = stack.lastIndexOf(MARK);
    if (mark < 0) {
      throw new IllegalStateException("no MARK on the stack");
    }
    List<Object> tail = stack.subList(mark, stack.size());
    List<Object> items = new ArrayList<>(tail.subList(1, tail.size()));
    tail.clear();
    return items;
  }

  private static int limited(long n, int max, String what) {
    if (n < 0 || n > max) {
      throw new IllegalStateException(what + " of " + n + " bytes (the limit is " + max + ")");
    }
    return (int) n;
  }

  /** {@code n} bytes, after checking that the pickle has them: a declared length never allocates more than the file holds. */
  private byte[] bytes(long n) {
    if (n < 0 || n > in.remaining()) {
      throw new IllegalStateException("a length of " + n + " bytes where " + in.remaining() + " remain");
    }
    byte[] b = new byte[(int) n];
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
      if (sb.length() >= MAX_LINE) {
        throw new IllegalStateException("a text line longer than " + MAX_LINE + " characters");
      }
      sb.append((char) (c & 0xff));
    }
  }

  private static String utf8(byte[] b) {
    return new String(b, StandardCharsets.UTF_8);
  }

  private static Object textInt(String s) {
    if (s.length() > MAX_DIGITS) {
      throw new IllegalStateException("an integer of " + s.length() + " digits (the limit is " + MAX_DIGITS + ")");
    }
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
