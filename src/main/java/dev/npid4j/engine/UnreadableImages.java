package dev.npid4j.engine;

import dev.npid4j.formats.AtomicFiles;
import dev.npid4j.data.Dataset;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Path;
import java.util.List;

/**
 * Images that could not be decoded (VISSL replaces them by gray images): after each epoch their
 * count goes into the metrics record and their paths into unreadable_images.txt, and the log says
 * so whenever the list grew. Rank 0 alone runs it.
 */
final class UnreadableImages implements TrainingListener {
  private final Dataset train;
  private final Path file;
  private int reported;
  private TrainingRun run;

  UnreadableImages(Dataset train, Path runDir) {
    this.train = train;
    this.file = runDir.resolve("unreadable_images.txt");
  }

  @Override
  public void onStart(TrainingRun run) {
    this.run = run;
  }

  @Override
  public void onEpochEnd(EpochEnd e) {
    List<String> bad = train.unreadable();
    if (bad.isEmpty()) {
      return;
    }
    e.record().put("unreadable_images", bad.size());
    try {
      AtomicFiles.writeString(file, String.join("\n", bad) + "\n");
    } catch (IOException ex) {
      throw new UncheckedIOException("cannot write " + file, ex);
    }
    if (bad.size() > reported) {
      reported = bad.size();
      run.out().println("[train] " + bad.size() + " image(s) could not be decoded and were replaced by gray images (VISSL's rule);"
          + " listed in " + file);
    }
  }
}
