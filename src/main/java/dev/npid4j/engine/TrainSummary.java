package dev.npid4j.engine;

import dev.npid4j.eval.KnnResult;
import java.nio.file.Path;

/** What a finished training run reports. */
public record TrainSummary(Path runDir, int epochs, long steps, double seconds, double trainImagesPerSecond,
    double finalLoss, KnnResult knn, KnnResult rawPixelKnn, boolean alreadyFinished, boolean stoppedBySignal) {
  /** The same summary with the kNN monitor's latest and raw-pixel results. */
  TrainSummary withKnn(KnnResult latest, KnnResult rawPixels) {
    return new TrainSummary(runDir, epochs, steps, seconds, trainImagesPerSecond, finalLoss, latest, rawPixels, alreadyFinished,
        stoppedBySignal);
  }
}
