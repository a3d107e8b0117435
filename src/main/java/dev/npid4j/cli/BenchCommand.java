package dev.npid4j.cli;

import dev.npid4j.bench.DataBench;
import dev.npid4j.bench.KnnBench;
import dev.npid4j.bench.LossBench;
import dev.npid4j.bench.NormBench;
import dev.npid4j.bench.TrainBench;
import picocli.CommandLine.Command;

@Command(name = "bench", mixinStandardHelpOptions = true,
    description = {"Benchmarks that print one JSON object on stdout (figures plus threads, libtorch version, CPU, peak RSS);",
        "logs go to stderr. bench/compare.sh runs each next to its PyTorch reference in bench/."},
    subcommands = {TrainBench.class, LossBench.class, KnnBench.class, DataBench.class, NormBench.class,
        dev.npid4j.bench.EmbedBench.class})
final class BenchCommand implements Runnable {
  @Override
  public void run() {
    new picocli.CommandLine(this).usage(System.out);
  }
}
