package dev.npid4j.data;

import dev.npid4j.UserError;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;

/** Installs a Debian package that holds a data set, when we are root; otherwise says how. */
final class DebianPackages {
  private DebianPackages() {}

  static void install(String pkg, Path expected, String alternatives) {
    String command = "sudo apt-get install " + pkg;
    if (!isRoot() || !Files.isExecutable(Path.of("/usr/bin/apt-get"))) {
      throw new UserError(expected + " is missing: install it with `" + command + "`" + alternatives);
    }
    System.err.println("npid4j: " + expected + " is missing; installing Debian package " + pkg + " (apt-get, as root)");
    if (run(List.of("apt-get", "install", "-y", "-q", pkg)) != 0) {
      // a fresh machine has no package lists yet
      run(List.of("apt-get", "update", "-q"));
      if (run(List.of("apt-get", "install", "-y", "-q", pkg)) != 0) {
        throw new UserError("apt-get could not install " + pkg + "; install it by hand with `" + command + "`" + alternatives);
      }
    }
    if (!Files.exists(expected)) {
      throw new UserError("package " + pkg + " is installed but " + expected + " is still missing" + alternatives);
    }
  }

  private static boolean isRoot() {
    try {
      Process p = new ProcessBuilder("id", "-u").redirectErrorStream(true).start();
      String out = new String(p.getInputStream().readAllBytes()).trim();
      return p.waitFor() == 0 && out.equals("0");
    } catch (IOException e) {
      return false;
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      return false;
    }
  }

  private static int run(List<String> cmd) {
    try {
      // stdout of the CLI is for results; apt's chatter goes to stderr
      ProcessBuilder pb = new ProcessBuilder(cmd).redirectError(ProcessBuilder.Redirect.INHERIT)
          .redirectOutput(ProcessBuilder.Redirect.to(new java.io.File("/dev/stderr")));
      pb.environment().put("DEBIAN_FRONTEND", "noninteractive");
      return pb.start().waitFor();
    } catch (IOException e) {
      return -1;
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      return -1;
    }
  }
}
