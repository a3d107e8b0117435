package dev.npid4j.engine;

import java.io.PrintStream;
import java.util.Locale;

/**
 * The training progress line: one plain line per report (readable in a non-TTY log), with
 * epoch, step, loss, LR, throughput and an ETA for the whole run.
 */
final class Progress {
  private final PrintStream out;
  private final int epochs;
  private final int stepsPerEpoch;
  private final long startNanos = System.nanoTime();
  private double secondsPerStep = Double.NaN;
  private long windowStart = System.nanoTime();
  private int windowImages;
  private int windowSteps;
  private double extraSecondsPerEpoch;

  Progress(PrintStream out, int epochs, int stepsPerEpoch) {
    this.out = out;
    this.epochs = epochs;
    this.stepsPerEpoch = stepsPerEpoch;
  }

  void stepDone(int images) {
    windowImages += images;
    windowSteps++;
  }

  /** Time spent per epoch outside the steps (kNN, checkpoint), folded into the ETA. */
  void setExtraSecondsPerEpoch(double seconds) {
    extraSecondsPerEpoch = seconds;
  }

  /** Prints a line for the window since the last report; returns images per second in it. */
  double report(int epoch, int step, double loss, double lr) {
    long now = System.nanoTime();
    double seconds = (now - windowStart) / 1e9;
    double imgPerSec = seconds > 0 ? windowImages / seconds : 0;
    if (windowSteps > 0 && seconds > 0) {
      double s = seconds / windowSteps;
      secondsPerStep = Double.isNaN(secondsPerStep) ? s : 0.7 * secondsPerStep + 0.3 * s;
    }
    long done = (long) epoch * stepsPerEpoch + step;
    long remaining = (long) epochs * stepsPerEpoch - done;
    double eta = Double.isNaN(secondsPerStep) ? Double.NaN
        : remaining * secondsPerStep + (epochs - epoch - (step >= stepsPerEpoch ? 1 : 0)) * extraSecondsPerEpoch;
    out.println(String.format(Locale.ROOT, "[train] epoch %d/%d step %d/%d (%5.1f%%) loss %.4f lr %.5f %.0f img/s elapsed %s eta %s",
        epoch + 1, epochs, step, stepsPerEpoch, 100.0 * done / ((long) epochs * stepsPerEpoch), loss, lr, imgPerSec,
        duration((now - startNanos) / 1e9), duration(eta)));
    out.flush();
    windowStart = now;
    windowImages = 0;
    windowSteps = 0;
    return imgPerSec;
  }

  static String duration(double seconds) {
    if (Double.isNaN(seconds) || seconds < 0) {
      return "--";
    }
    long s = Math.round(seconds);
    if (s >= 3600) {
      return String.format(Locale.ROOT, "%dh%02dm%02ds", s / 3600, (s / 60) % 60, s % 60);
    }
    return String.format(Locale.ROOT, "%dm%02ds", s / 60, s % 60);
  }
}
