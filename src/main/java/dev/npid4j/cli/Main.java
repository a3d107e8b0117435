package dev.npid4j.cli;

import dev.npid4j.UserError;
import dev.npid4j.distributed.CollectiveFailure;
import dev.npid4j.engine.TrainingFailure;
import java.io.PrintWriter;
import picocli.CommandLine;
import picocli.CommandLine.Command;

/** {@code npid4j}: NPID / NPID++ self-supervised training, VISSL-compatible. */
@Command(name = "npid4j", mixinStandardHelpOptions = true, versionProvider = Version.class,
    description = "Self-supervised image representations with NPID / NPID++ on libtorch, configured like VISSL.",
    subcommands = {TrainCommand.class, ExtractCommand.class, KnnCommand.class, LinearCommand.class, ExportCommand.class, ConfigCommand.class,
        BenchCommand.class, CompletionCommand.class, CommandLine.HelpCommand.class})
public final class Main implements Runnable {
  @Override
  public void run() {
    new CommandLine(this).usage(System.out);
  }

  public static void main(String[] args) {
    System.exit(run(args));
  }

  /** Runs the CLI and returns the exit code: 0 ok, 2 user error (one clear line), 1 anything else. */
  public static int run(String... args) {
    CommandLine cli = new CommandLine(new Main());
    cli.setExecutionExceptionHandler((ex, cmd, parseResult) -> {
      boolean verbose = parseResult.hasMatchedOption("--verbose");
      PrintWriter err = cmd.getErr();
      if (ex instanceof UserError || ex instanceof TrainingFailure || ex instanceof CollectiveFailure) {
        // one clear line; the trace only on request
        err.println((ex instanceof UserError ? "npid4j: error: " : ex instanceof CollectiveFailure ? "npid4j: distributed run failed: "
            : "npid4j: training stopped: ") + ex.getMessage());
        if (verbose) {
          ex.printStackTrace(err);
        }
        err.flush();
        return ex instanceof UserError ? 2 : 1;
      }
      err.println("npid4j: internal error: " + ex);
      ex.printStackTrace(err);
      err.flush();
      return 1;
    });
    cli.setParameterExceptionHandler((ex, a) -> {
      PrintWriter err = ex.getCommandLine().getErr();
      err.println("npid4j: error: " + ex.getMessage());
      err.println("run 'npid4j " + (ex.getCommandLine().getCommandName().equals("npid4j") ? "" : ex.getCommandLine().getCommandName() + " ")
          + "--help' for usage");
      err.flush();
      return 2;
    });
    try {
      return cli.execute(args);
    } catch (StackOverflowError e) {
      // the readers bound their own recursion; this is the net under anything they missed
      System.err.println("npid4j: error: an input is nested too deeply to read (stack overflow); nothing was written");
      return 2;
    } catch (OutOfMemoryError e) {
      System.err.println("npid4j: error: out of Java heap (" + e.getMessage() + "): an input is larger than this JVM may hold;"
          + " give more with JAVA_TOOL_OPTIONS=-Xmx<size>, or check the input");
      return 2;
    }
  }
}
