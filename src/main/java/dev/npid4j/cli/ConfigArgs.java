package dev.npid4j.cli;

import java.util.List;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;

/** The arguments every config-driven command takes: VISSL-style config=... and overrides, and --verbose. */
final class ConfigArgs {
  @Parameters(arity = "1..*", paramLabel = "ARG", description = {
      "config=NAME: a bundled config (e.g. quickstart/npid_fashion_mnist, pretrain/npid/npid_8gpu_resnet) or a YAML file;",
      "config.A.B=VALUE: override a key (int, float, true/false, null, [a,b], strings);",
      "+config.A.NEW=VALUE: add a key; +config/<group>=<file>: merge another bundled file;",
      "node_id=N."})
  List<String> args;

  @Option(names = "--verbose", description = "Print stack traces with errors.")
  boolean verbose;
}
