package dev.npid4j.engine;

import dev.npid4j.config.RunConfig;
import dev.npid4j.data.Dataset;
import dev.npid4j.loss.NceLossWithMemory;
import dev.npid4j.model.NpidModel;
import java.io.PrintStream;
import java.nio.file.Path;

/**
 * What a {@link TrainingListener} sees of a run: its config, the run directory, the live model and
 * loss (with its memory bank), the data, the schedule and where log lines go.
 *
 * @param test the test split when the kNN monitor runs, else null
 * @param lead whether this is rank 0, the rank that writes the run directory
 * @param out where progress lines go (a discarding stream on the ranks other than 0)
 */
public record TrainingRun(RunConfig config, Path runDir, NpidModel model, NceLossWithMemory loss, Dataset train, Dataset test,
    int epochs, int stepsPerEpoch, int rank, int worldSize, boolean lead, PrintStream out) {}
