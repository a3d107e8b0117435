package dev.npid4j.config;

import java.util.Collection;

/** "Did you mean" support: the closest candidate by edit distance, ignoring case. */
public final class Keys {
  private Keys() {}

  /** The candidate nearest to {@code wanted}, or null when none is plausibly a misspelling. */
  public static String closest(String wanted, Collection<String> candidates) {
    String best = nearest(wanted, candidates);
    if (best == null) {
      return null;
    }
    int limit = Math.max(2, Math.max(wanted.length(), best.length()) / 3);
    return distance(wanted.toLowerCase(), best.toLowerCase()) <= limit ? best : null;
  }

  /** The candidate with the smallest edit distance to {@code wanted} (null only when there is none). */
  public static String nearest(String wanted, Collection<String> candidates) {
    String best = null;
    int bestDistance = Integer.MAX_VALUE;
    for (String c : candidates) {
      int d = distance(wanted.toLowerCase(), c.toLowerCase());
      if (d < bestDistance) {
        bestDistance = d;
        best = c;
      }
    }
    return best;
  }

  static int distance(String a, String b) {
    int[] prev = new int[b.length() + 1];
    int[] cur = new int[b.length() + 1];
    for (int j = 0; j <= b.length(); j++) {
      prev[j] = j;
    }
    for (int i = 1; i <= a.length(); i++) {
      cur[0] = i;
      for (int j = 1; j <= b.length(); j++) {
        int cost = a.charAt(i - 1) == b.charAt(j - 1) ? 0 : 1;
        cur[j] = Math.min(Math.min(cur[j - 1] + 1, prev[j] + 1), prev[j - 1] + cost);
      }
      int[] t = prev;
      prev = cur;
      cur = t;
    }
    return prev[b.length()];
  }
}
