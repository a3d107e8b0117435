package dev.npid4j.engine;

import java.util.List;
import java.util.Locale;

/** Small inline-SVG charts for the report: line charts with axes and ticks, and a scatter plot. */
final class Charts {
  private Charts() {}

  record Series(String name, String color, double[] x, double[] y, boolean dashed) {}

  static final int W = 520;
  static final int H = 260;
  static final int L = 62;
  static final int R = 14;
  static final int T0 = 30;
  static final int B = 40;

  static String line(String title, String xLabel, List<Series> series) {
    double x0 = Double.POSITIVE_INFINITY;
    double x1 = Double.NEGATIVE_INFINITY;
    double y0 = Double.POSITIVE_INFINITY;
    double y1 = Double.NEGATIVE_INFINITY;
    for (Series s : series) {
      for (int i = 0; i < s.x().length; i++) {
        if (Double.isFinite(s.y()[i])) {
          x0 = Math.min(x0, s.x()[i]);
          x1 = Math.max(x1, s.x()[i]);
          y0 = Math.min(y0, s.y()[i]);
          y1 = Math.max(y1, s.y()[i]);
        }
      }
    }
    StringBuilder sb = new StringBuilder();
    sb.append(String.format(Locale.ROOT, "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"%d\" height=\"%d\" viewBox=\"0 0 %d %d\""
        + " font-family=\"sans-serif\" font-size=\"11\">", W, H, W, H));
    sb.append("<text x=\"").append(L).append("\" y=\"16\" font-size=\"13\" font-weight=\"600\">").append(Report.esc(title)).append("</text>");
    if (!Double.isFinite(x0)) {
      return sb.append("<text x=\"").append(L).append("\" y=\"").append(H / 2).append("\" fill=\"#888\">no data yet</text></svg>").toString();
    }
    if (x1 == x0) {
      x1 = x0 + 1;
    }
    if (y1 == y0) {
      double pad = Math.abs(y0) > 0 ? Math.abs(y0) * 0.1 : 1;
      y0 -= pad;
      y1 += pad;
    }
    // legends sit between the title and the plot, never over the lines
    final int T = T0 + (series.size() > 1 ? 14 * series.size() : 0);
    double[] yt = ticks(y0, y1);
    y0 = Math.min(y0, yt[0]);
    y1 = Math.max(y1, yt[yt.length - 1]);
    double[] xt = ticks(x0, x1);
    int pw = W - L - R;
    int ph = H - T - B;
    int legendY = T0 + 10;
    final double fx0 = x0;
    final double fx1 = x1;
    final double fy0 = y0;
    final double fy1 = y1;
    java.util.function.DoubleUnaryOperator px = v -> L + (v - fx0) / (fx1 - fx0) * pw;
    java.util.function.DoubleUnaryOperator py = v -> T + ph - (v - fy0) / (fy1 - fy0) * ph;
    sb.append(String.format(Locale.ROOT, "<rect x=\"%d\" y=\"%d\" width=\"%d\" height=\"%d\" fill=\"none\" stroke=\"#ccc\"/>", L, T, pw, ph));
    for (double t : yt) {
      if (t < y0 - 1e-12 || t > y1 + 1e-12) {
        continue;
      }
      double y = py.applyAsDouble(t);
      sb.append(String.format(Locale.ROOT, "<line x1=\"%d\" x2=\"%d\" y1=\"%.1f\" y2=\"%.1f\" stroke=\"#eee\"/>", L, L + pw, y, y));
      sb.append(String.format(Locale.ROOT, "<text x=\"%d\" y=\"%.1f\" text-anchor=\"end\" fill=\"#555\">%s</text>", L - 5, y + 4, label(t)));
    }
    for (double t : xt) {
      if (t < x0 - 1e-12 || t > x1 + 1e-12) {
        continue;
      }
      double x = px.applyAsDouble(t);
      sb.append(String.format(Locale.ROOT, "<text x=\"%.1f\" y=\"%d\" text-anchor=\"middle\" fill=\"#555\">%s</text>", x, T + ph + 15, label(t)));
    }
    sb.append(String.format(Locale.ROOT, "<text x=\"%d\" y=\"%d\" text-anchor=\"middle\" fill=\"#555\">%s</text>", L + pw / 2, H - 6,
        Report.esc(xLabel)));
    for (Series s : series) {
      StringBuilder pts = new StringBuilder();
      for (int i : thinned(s.x(), s.y(), MAX_POINTS)) {
        pts.append(String.format(Locale.ROOT, "%.1f,%.1f ", px.applyAsDouble(s.x()[i]), py.applyAsDouble(s.y()[i])));
      }
      sb.append("<polyline fill=\"none\" stroke=\"").append(s.color()).append("\" stroke-width=\"1.8\"")
          .append(s.dashed() ? " stroke-dasharray=\"6 4\"" : "").append(" points=\"").append(pts.toString().trim()).append("\"/>");
      if (s.x().length <= 30 && !s.dashed()) {
        for (int i = 0; i < s.x().length; i++) {
          sb.append(String.format(Locale.ROOT, "<circle cx=\"%.1f\" cy=\"%.1f\" r=\"3\" fill=\"%s\"><title>%s: %s</title></circle>",
              px.applyAsDouble(s.x()[i]), py.applyAsDouble(s.y()[i]), s.color(), label(s.x()[i]), label(s.y()[i])));
        }
      }
      if (series.size() > 1) {
        sb.append(String.format(Locale.ROOT, "<line x1=\"%d\" x2=\"%d\" y1=\"%d\" y2=\"%d\" stroke=\"%s\" stroke-width=\"2\"%s/>",
            L + 8, L + 26, legendY - 4, legendY - 4, s.color(), s.dashed() ? " stroke-dasharray=\"4 3\"" : ""));
        sb.append(String.format(Locale.ROOT, "<text x=\"%d\" y=\"%d\">%s</text>", L + 30, legendY, Report.esc(s.name())));
        legendY += 14;
      }
    }
    return sb.append("</svg>").toString();
  }

  static String scatter(String title, float[][] points, int[] labels, String[] palette) {
    int w = 560;
    int h = 420;
    int m = 20;
    float x0 = Float.POSITIVE_INFINITY;
    float x1 = Float.NEGATIVE_INFINITY;
    float y0 = Float.POSITIVE_INFINITY;
    float y1 = Float.NEGATIVE_INFINITY;
    for (float[] p : points) {
      x0 = Math.min(x0, p[0]);
      x1 = Math.max(x1, p[0]);
      y0 = Math.min(y0, p[1]);
      y1 = Math.max(y1, p[1]);
    }
    float sx = x1 > x0 ? (w - 2 * m) / (x1 - x0) : 1;
    float sy = y1 > y0 ? (h - 2 * m - 20) / (y1 - y0) : 1;
    StringBuilder sb = new StringBuilder();
    sb.append(String.format(Locale.ROOT, "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"%d\" height=\"%d\" viewBox=\"0 0 %d %d\""
        + " font-family=\"sans-serif\" font-size=\"12\">", w, h, w, h));
    sb.append("<text x=\"").append(m).append("\" y=\"14\" font-weight=\"600\">").append(Report.esc(title)).append("</text>");
    sb.append(String.format(Locale.ROOT, "<rect x=\"%d\" y=\"%d\" width=\"%d\" height=\"%d\" fill=\"none\" stroke=\"#ccc\"/>", m - 6, m + 14,
        w - 2 * m + 12, h - 2 * m - 8));
    for (int i = 0; i < points.length; i++) {
      float px = m + (points[i][0] - x0) * sx;
      float py = h - m - (points[i][1] - y0) * sy;
      String c = labels[i] >= 0 ? palette[labels[i] % palette.length] : "#999";
      sb.append(String.format(Locale.ROOT, "<circle cx=\"%.1f\" cy=\"%.1f\" r=\"2.2\" fill=\"%s\" fill-opacity=\"0.7\"/>", px, py, c));
    }
    return sb.append("</svg>").toString();
  }

  /**
   * Points drawn per line at most. A chart is ~450 px wide; an 800-epoch NPID++ run logs
   * hundreds of thousands of steps, which would make report.html tens of megabytes.
   */
  static final int MAX_POINTS = 2000;

  /**
   * Indices of the finite points to draw: all of them when there are at most {@code max};
   * otherwise, for each of max/2 equal stretches of the series, its lowest and its highest
   * point in their order, so spikes and the envelope survive the thinning.
   */
  static int[] thinned(double[] x, double[] y, int max) {
    int[] finite = java.util.stream.IntStream.range(0, x.length).filter(i -> Double.isFinite(y[i])).toArray();
    if (finite.length <= max) {
      return finite;
    }
    int buckets = max / 2;
    int[] out = new int[2 * buckets];
    int n = 0;
    for (int b = 0; b < buckets; b++) {
      int from = (int) ((long) finite.length * b / buckets);
      int to = (int) ((long) finite.length * (b + 1) / buckets);
      int lo = finite[from];
      int hi = finite[from];
      for (int k = from + 1; k < to; k++) {
        int i = finite[k];
        if (y[i] < y[lo]) {
          lo = i;
        }
        if (y[i] > y[hi]) {
          hi = i;
        }
      }
      out[n++] = Math.min(lo, hi);
      if (hi != lo) {
        out[n++] = Math.max(lo, hi);
      }
    }
    return java.util.Arrays.copyOf(out, n);
  }

  /** About five round tick values covering [lo, hi]. */
  static double[] ticks(double lo, double hi) {
    double span = hi - lo;
    double raw = span / 5;
    double mag = Math.pow(10, Math.floor(Math.log10(raw)));
    double step = mag;
    for (double f : new double[] {1, 2, 2.5, 5, 10}) {
      if (f * mag >= raw) {
        step = f * mag;
        break;
      }
    }
    double start = Math.floor(lo / step) * step;
    int n = (int) Math.ceil((hi - start) / step) + 1;
    double[] out = new double[n];
    for (int i = 0; i < n; i++) {
      out[i] = start + i * step;
    }
    return out;
  }

  static String label(double v) {
    double a = Math.abs(v);
    if (a == 0) {
      return "0";
    }
    if (a >= 1e5 || a < 1e-3) {
      return String.format(Locale.ROOT, "%.1e", v);
    }
    if (a >= 100) {
      return String.format(Locale.ROOT, "%.0f", v);
    }
    String s = String.format(Locale.ROOT, "%.4f", v).replaceAll("0+$", "");
    return s.endsWith(".") ? s.substring(0, s.length() - 1) : s;
  }
}
