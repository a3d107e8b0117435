package dev.npid4j.config;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * Parses the value side of a command-line override with Hydra's grammar: null, true/false,
 * integers, floats (incl. 1e-4, inf, nan), [lists], {maps}, 'quoted' or "quoted" strings, and
 * bare strings. A top-level comma means a Hydra sweep, which npid4j does not run.
 */
final class HydraValue {
  private final String text;
  private int pos;

  private HydraValue(String text) {
    this.text = text;
  }

  static Object parse(String text) {
    HydraValue p = new HydraValue(text);
    p.skipSpace();
    if (p.pos == text.length()) {
      return ""; // key= is Hydra's empty string
    }
    Object v = p.value(true);
    p.skipSpace();
    if (p.pos != text.length()) {
      if (text.charAt(p.pos) == ',') {
        throw new IllegalArgumentException("'" + text + "' is a Hydra sweep (comma-separated values); npid4j runs one"
            + " configuration at a time: run once per value, or write a list as [a,b]");
      }
      throw new IllegalArgumentException("cannot parse '" + text + "' at position " + p.pos);
    }
    return v;
  }

  private Object value(boolean topLevel) {
    skipSpace();
    if (pos >= text.length()) {
      throw new IllegalArgumentException("value missing in '" + text + "'");
    }
    char c = text.charAt(pos);
    if (c == '[') {
      return list();
    }
    if (c == '{') {
      return map();
    }
    if (c == '\'' || c == '"') {
      return quoted(c);
    }
    return scalar(bare(topLevel));
  }

  private List<Object> list() {
    pos++;
    List<Object> out = new ArrayList<>();
    skipSpace();
    if (peek() == ']') {
      pos++;
      return out;
    }
    while (true) {
      out.add(value(false));
      skipSpace();
      char c = next();
      if (c == ']') {
        return out;
      }
      if (c != ',') {
        throw new IllegalArgumentException("expected ',' or ']' in list '" + text + "'");
      }
    }
  }

  private Map<String, Object> map() {
    pos++;
    Map<String, Object> out = new LinkedHashMap<>();
    skipSpace();
    if (peek() == '}') {
      pos++;
      return out;
    }
    while (true) {
      skipSpace();
      Object key = peek() == '\'' || peek() == '"' ? quoted(peek()) : bareKey();
      skipSpace();
      if (next() != ':') {
        throw new IllegalArgumentException("expected ':' after key '" + key + "' in '" + text + "'");
      }
      out.put(String.valueOf(key), value(false));
      skipSpace();
      char c = next();
      if (c == '}') {
        return out;
      }
      if (c != ',') {
        throw new IllegalArgumentException("expected ',' or '}' in map '" + text + "'");
      }
    }
  }

  private String quoted(char quote) {
    pos++;
    StringBuilder sb = new StringBuilder();
    while (pos < text.length()) {
      char c = text.charAt(pos++);
      if (c == '\\' && pos < text.length()) {
        sb.append(text.charAt(pos++));
      } else if (c == quote) {
        return sb.toString();
      } else {
        sb.append(c);
      }
    }
    throw new IllegalArgumentException("unterminated quote in '" + text + "'");
  }

  private String bareKey() {
    int start = pos;
    while (pos < text.length() && ":,}]".indexOf(text.charAt(pos)) < 0) {
      pos++;
    }
    return text.substring(start, pos).trim();
  }

  private String bare(boolean topLevel) {
    int start = pos;
    String stops = topLevel ? "," : ",]}";
    while (pos < text.length() && stops.indexOf(text.charAt(pos)) < 0) {
      pos++;
    }
    return text.substring(start, pos).trim();
  }

  static Object scalar(String s) {
    String lower = s.toLowerCase();
    switch (lower) {
      case "null":
      case "~":
        return null;
      case "true":
        return Boolean.TRUE;
      case "false":
        return Boolean.FALSE;
      case "inf":
      case "+inf":
        return Double.POSITIVE_INFINITY;
      case "-inf":
        return Double.NEGATIVE_INFINITY;
      case "nan":
        return Double.NaN;
      default:
        break;
    }
    String digits = s.replace("_", "");
    if (digits.matches("[-+]?\\d+")) {
      try {
        return Long.parseLong(digits);
      } catch (NumberFormatException e) {
        return s;
      }
    }
    if (digits.matches("[-+]?(\\d+\\.?\\d*|\\.\\d+)([eE][-+]?\\d+)?")) {
      return Double.parseDouble(digits);
    }
    return s;
  }

  private char peek() {
    return pos < text.length() ? text.charAt(pos) : '\0';
  }

  private char next() {
    if (pos >= text.length()) {
      throw new IllegalArgumentException("unexpected end of '" + text + "'");
    }
    return text.charAt(pos++);
  }

  private void skipSpace() {
    while (pos < text.length() && Character.isWhitespace(text.charAt(pos))) {
      pos++;
    }
  }
}
