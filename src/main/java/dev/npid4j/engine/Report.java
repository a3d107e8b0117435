package dev.npid4j.engine;

import dev.npid4j.formats.AtomicFiles;
import com.fasterxml.jackson.databind.JsonNode;
import dev.npid4j.data.Dataset;
import dev.npid4j.data.Image;
import java.awt.Graphics2D;
import java.awt.RenderingHints;
import java.awt.image.BufferedImage;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.ZonedDateTime;
import java.time.format.DateTimeFormatter;
import java.util.ArrayList;
import java.util.Base64;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import javax.imageio.ImageIO;

/**
 * {@code report.html} in the run directory: one self-contained page (inline SVG charts, images as
 * data URIs, no scripts, no network) with the loss, LR, throughput and kNN curves, a
 * nearest-neighbour retrieval grid, a t-SNE map (after the last epoch) and a 2-D PCA of the embeddings. Rewritten atomically at
 * every epoch end, so it can be opened while the run goes on.
 */
public final class Report {
  private Report() {}

  /** What the page says about the run besides the metrics. */
  public record Header(String title, List<String[]> facts) {}

  static final String[] PALETTE = {"#1f77b4", "#ff7f0e", "#2ca02c", "#d62728", "#9467bd", "#8c564b", "#e377c2", "#7f7f7f",
      "#bcbd22", "#17becf"};

  public static void write(Path runDir, Header header, EmbeddingView view, Dataset train, Dataset test) throws IOException {
    List<JsonNode> steps = new ArrayList<>();
    List<JsonNode> epochs = new ArrayList<>();
    Path metrics = runDir.resolve("metrics.jsonl");
    if (Files.exists(metrics)) {
      for (String line : Files.readAllLines(metrics)) {
        if (line.isBlank()) {
          continue;
        }
        JsonNode n = MetricsLog.JSON.readTree(line);
        ("epoch".equals(n.path("type").asText()) ? epochs : steps).add(n);
      }
    }
    JsonNode knn = Files.exists(runDir.resolve("knn.json")) ? MetricsLog.JSON.readTree(runDir.resolve("knn.json").toFile()) : null;
    StringBuilder h = new StringBuilder(1 << 16);
    h.append("<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\"><title>").append(esc(header.title())).append("</title>\n")
        .append("<style>body{font-family:system-ui,-apple-system,'Segoe UI',sans-serif;margin:24px;color:#222;background:#fafafa}")
        .append("h1{font-size:22px;margin:0 0 4px}h2{font-size:17px;margin:28px 0 8px;border-bottom:1px solid #ddd;padding-bottom:4px}")
        .append(".sub{color:#666;font-size:13px}.facts{border-collapse:collapse;font-size:13px;margin-top:10px}")
        .append(".facts td{padding:2px 12px 2px 0;vertical-align:top}.facts td:first-child{color:#666}")
        .append(".grid{display:grid;grid-template-columns:repeat(auto-fill,minmax(520px,1fr));gap:14px}")
        .append(".card{background:#fff;border:1px solid #e3e3e3;border-radius:6px;padding:10px}")
        .append(".ret{border-collapse:collapse;font-size:11px}.ret td{padding:3px;text-align:center;vertical-align:top}")
        .append(".ret img{width:56px;height:56px;image-rendering:pixelated;display:block;margin:auto;border:3px solid transparent}")
        .append(".ret img.ok{border-color:#2ca02c}.ret img.bad{border-color:#d62728}.ret img.q{border-color:#333}")
        .append(".ret td.lab{max-width:64px;overflow:hidden;white-space:nowrap}")
        .append(".legend span{display:inline-block;margin-right:12px;font-size:12px}.legend i{display:inline-block;width:10px;height:10px;margin-right:4px;border-radius:5px}")
        .append("</style></head><body>\n");
    h.append("<h1>").append(esc(header.title())).append("</h1>\n<div class=\"sub\">report refreshed ")
        .append(esc(ZonedDateTime.now().format(DateTimeFormatter.ofPattern("yyyy-MM-dd HH:mm:ss z")))).append("</div>\n<table class=\"facts\">");
    for (String[] f : header.facts()) {
      h.append("<tr><td>").append(esc(f[0])).append("</td><td>").append(esc(f[1])).append("</td></tr>");
    }
    h.append("</table>\n<h2>Training curves</h2>\n<div class=\"grid\">\n");
    double[] gs = steps.stream().mapToDouble(n -> n.path("global_step").asDouble()).toArray();
    h.append(card(Charts.line("Loss (mean over each logged window)", "step", List.of(
        new Charts.Series("loss", PALETTE[0], gs, steps.stream().mapToDouble(n -> n.path("loss").asDouble()).toArray(), false)))));
    h.append(card(Charts.line("Learning rate", "step", List.of(
        new Charts.Series("lr", PALETTE[1], gs, steps.stream().mapToDouble(n -> n.path("lr").asDouble()).toArray(), false)))));
    h.append(card(Charts.line("Throughput (training images/s)", "step", List.of(
        new Charts.Series("img/s", PALETTE[2], gs, steps.stream().mapToDouble(n -> n.path("img_per_s").asDouble()).toArray(), false)))));
    List<Charts.Series> knnSeries = new ArrayList<>();
    List<JsonNode> withKnn = epochs.stream().filter(n -> n.has("knn_top1")).toList();
    double[] ex = withKnn.stream().mapToDouble(n -> n.path("epoch").asDouble()).toArray();
    if (ex.length > 0) {
      knnSeries.add(new Charts.Series("kNN top-1, memory bank (NPID)", PALETTE[3], ex,
          withKnn.stream().mapToDouble(n -> n.path("knn_top1").asDouble()).toArray(), false));
      List<JsonNode> rec = withKnn.stream().filter(n -> n.has("knn_recomputed_top1")).toList();
      if (!rec.isEmpty()) {
        knnSeries.add(new Charts.Series("kNN top-1, re-extracted train features", PALETTE[4],
            rec.stream().mapToDouble(n -> n.path("epoch").asDouble()).toArray(),
            rec.stream().mapToDouble(n -> n.path("knn_recomputed_top1").asDouble()).toArray(), false));
      }
      if (knn != null && knn.has("raw_pixel_top1")) {
        double raw = knn.path("raw_pixel_top1").asDouble();
        knnSeries.add(new Charts.Series("raw pixels (the floor)", "#888", new double[] {ex[0], Math.max(ex[ex.length - 1], ex[0] + 1)},
            new double[] {raw, raw}, true));
      }
      h.append(card(Charts.line("kNN accuracy on the test split (%)", "epoch", knnSeries)));
    } else {
      h.append(card("<p class=\"sub\">kNN accuracy appears after the first evaluation (KNN_MONITOR.FREQUENCY).</p>"));
    }
    h.append("</div>\n");
    if (view != null && train != null && test != null) {
      List<String> names = test.classNames().isEmpty() ? train.classNames() : test.classNames();
      h.append("<h2>Nearest neighbours after epoch ").append(view.epoch()).append("</h2>\n<div class=\"sub\">One test image per class")
          .append(" (left, black frame) and its ").append(EmbeddingView.NEIGHBOURS).append(" nearest training images by embedding")
          .append(" (cosine similarity against the memory bank); green frame: same class, red: another class.</div>\n")
          .append("<div class=\"card\" style=\"margin-top:8px;overflow-x:auto\"><table class=\"ret\">\n");
      for (int i = 0; i < view.queries().length; i++) {
        int q = view.queries()[i];
        int ql = test.label(q);
        h.append("<tr><td class=\"lab\"><img class=\"q\" src=\"").append(png(test.image(q))).append("\" alt=\"test ").append(q)
            .append("\"><b>").append(esc(name(names, ql))).append("</b></td><td style=\"width:14px\"></td>");
        for (int j = 0; j < view.neighbours()[i].length; j++) {
          int t = view.neighbours()[i][j];
          int tl = train.label(t);
          h.append("<td class=\"lab\"><img class=\"").append(tl == ql ? "ok" : "bad").append("\" src=\"").append(png(train.image(t)))
              .append("\" alt=\"train ").append(t).append("\">").append(esc(name(names, tl))).append("<br>")
              .append(String.format(Locale.ROOT, "%.2f", view.similarities()[i][j])).append("</td>");
        }
        h.append("</tr>\n");
      }
      h.append("</table></div>\n");
      int classes = 0;
      for (int l : view.pointLabels()) {
        classes = Math.max(classes, l + 1);
      }
      StringBuilder legend = new StringBuilder("<div class=\"legend\">");
      for (int c = 0; c < classes; c++) {
        legend.append("<span><i style=\"background:").append(PALETTE[c % PALETTE.length]).append("\"></i>").append(esc(name(names, c)))
            .append("</span>");
      }
      legend.append("</div>");
      double[] sh = view.shares();
      String kept = String.format(Locale.ROOT, "Of each point's %d nearest points, the share with its class: %.1f%% in the embedding"
          + " itself, %.1f%% in the PCA picture", EmbeddingView.SHARE_K, 100 * sh[0], 100 * sh[1]);
      if (view.map() != null) {
        h.append("<h2>Embedding map (t-SNE) after epoch ").append(view.epoch()).append("</h2>\n<div class=\"card\">")
            .append(Charts.scatter(String.format(Locale.ROOT, "%d test embeddings, t-SNE (perplexity 30)", view.map().length), view.map(),
                view.pointLabels(), PALETTE))
            .append(legend).append("<p class=\"sub\">").append(esc(kept)).append(String.format(Locale.ROOT,
                ", %.1f%% in this map (computed in %.1f s).", 100 * sh[2], view.mapSeconds())).append("</p></div>\n");
      }
      h.append("<h2>Embedding, 2-D PCA after epoch ").append(view.epoch()).append("</h2>\n<div class=\"card\">")
          .append(Charts.scatter(String.format(Locale.ROOT, "%d test embeddings; PC1 %.1f%%, PC2 %.1f%% of the variance",
              view.points().length, 100 * view.explainedVariance()[0], 100 * view.explainedVariance()[1]), view.points(),
              view.pointLabels(), PALETTE))
          .append(legend);
      if (view.map() == null) {
        h.append("<p class=\"sub\">").append(esc(kept)).append(". The t-SNE map, which keeps neighbours together, follows the last epoch.</p>");
      }
      h.append("</div>\n");
    }
    h.append("<p class=\"sub\" style=\"margin-top:28px\">npid4j: metrics.jsonl, knn.json and the checkpoints in this folder hold every")
        .append(" number shown here.</p>\n</body></html>\n");
    AtomicFiles.writeString(runDir.resolve("report.html"), h.toString());
  }

  private static String card(String inner) {
    return "<div class=\"card\">" + inner + "</div>\n";
  }

  private static String name(List<String> names, int label) {
    return label >= 0 && label < names.size() ? names.get(label) : "class " + label;
  }

  /** A decoded image (0..255, gray or RGB) as a PNG data URI, at most 96 px on its longer side. */
  static String png(Image img) {
    int w = img.width();
    int hgt = img.height();
    boolean rgb = img.channels() >= 3;
    BufferedImage b = new BufferedImage(w, hgt, rgb ? BufferedImage.TYPE_INT_RGB : BufferedImage.TYPE_BYTE_GRAY);
    for (int y = 0; y < hgt; y++) {
      for (int x = 0; x < w; x++) {
        int r = clamp(img.get(0, y, x));
        if (rgb) {
          b.setRGB(x, y, (r << 16) | (clamp(img.get(1, y, x)) << 8) | clamp(img.get(2, y, x)));
        } else {
          b.getRaster().setSample(x, y, 0, r);
        }
      }
    }
    int longer = Math.max(w, hgt);
    if (longer > 96) {
      int nw = Math.max(1, w * 96 / longer);
      int nh = Math.max(1, hgt * 96 / longer);
      BufferedImage s = new BufferedImage(nw, nh, b.getType());
      Graphics2D g = s.createGraphics();
      g.setRenderingHint(RenderingHints.KEY_INTERPOLATION, RenderingHints.VALUE_INTERPOLATION_BILINEAR);
      g.drawImage(b, 0, 0, nw, nh, null);
      g.dispose();
      b = s;
    }
    ByteArrayOutputStream out = new ByteArrayOutputStream();
    try {
      ImageIO.write(b, "png", out);
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
    return "data:image/png;base64," + Base64.getEncoder().encodeToString(out.toByteArray());
  }

  private static int clamp(float v) {
    return Math.max(0, Math.min(255, Math.round(v)));
  }

  static String esc(String s) {
    return s.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;").replace("\"", "&quot;");
  }

  /** For tests: the facts a header shows, from a map. */
  public static List<String[]> facts(Map<String, String> m) {
    List<String[]> out = new ArrayList<>();
    m.forEach((k, v) -> out.add(new String[] {k, v}));
    return out;
  }
}
