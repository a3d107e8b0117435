package dev.npid4j.config;


public record CheckpointConfig(String dir, int frequency, int iterFrequency, boolean autoResume, boolean overwriteExisting,
    boolean useSymlinkForResume, int latestResumeFileNum, int keepLastN) {
  static CheckpointConfig read(ConfigTree t) {
    String c = "config." + "CHECKPOINT.";
    String dir = t.getString(c + "DIR");
    if (dir == null || dir.isBlank()) {
      throw new ConfigError(c + "DIR must name the run directory, e.g. config.CHECKPOINT.DIR=runs/quickstart");
    }
    return new CheckpointConfig(dir, Values.positive(t, c + "CHECKPOINT_FREQUENCY"), t.getInt(c + "CHECKPOINT_ITER_FREQUENCY"),
        t.getBool(c + "AUTO_RESUME"), t.getBool(c + "OVERWRITE_EXISTING"), t.getBool(c + "USE_SYMLINK_CHECKPOINT_FOR_RESUME"),
        Values.positive(t, c + "LATEST_CHECKPOINT_RESUME_FILE_NUM"), Values.nonNegative(t, c + "KEEP_LAST_N"));
  }
}
