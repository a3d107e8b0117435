package dev.npid4j.cli;

import java.util.concurrent.Callable;
import picocli.AutoComplete;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Spec;

@Command(name = "completion", mixinStandardHelpOptions = true,
    description = {"Prints a bash (and zsh) completion script for npid4j's commands and options, made by picocli.", "",
        "Use it now:      source <(bin/npid4j completion)",
        "Or for good:     bin/npid4j completion > /etc/bash_completion.d/npid4j"})
final class CompletionCommand implements Callable<Integer> {
  @Spec
  CommandSpec spec;

  @Override
  public Integer call() {
    System.out.print(AutoComplete.bash("npid4j", spec.root().commandLine()));
    System.out.flush();
    return 0;
  }
}
