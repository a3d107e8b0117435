package dev.npid4j.engine;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.List;
import org.junit.jupiter.api.Test;

class ChartsTest {
  @Test
  void longSeriesAreThinnedKeepingSpikesAndEnds() {
    int n = 300_000; // an NPID++-length run logged every step
    double[] x = new double[n];
    double[] y = new double[n];
    for (int i = 0; i < n; i++) {
      x[i] = i;
      y[i] = 10 - i * 1e-5;
    }
    y[123_457] = 50; // a spike
    y[200_000] = Double.NaN; // a missing value is never drawn
    int[] kept = Charts.thinned(x, y, Charts.MAX_POINTS);
    assertThat(kept.length).isLessThanOrEqualTo(Charts.MAX_POINTS);
    assertThat(kept).contains(0, 123_457, n - 1).doesNotContain(200_000);
    assertThat(kept).isSorted();

    String svg = Charts.line("Loss", "step", List.of(new Charts.Series("loss", "#000", x, y, false)));
    assertThat(svg.length()).as("SVG characters").isLessThan(60_000);
    assertThat(svg).contains("<polyline");

    double[] few = {1, 2, Double.NaN, 4};
    assertThat(Charts.thinned(new double[] {0, 1, 2, 3}, few, Charts.MAX_POINTS)).containsExactly(0, 1, 3);
  }
}
