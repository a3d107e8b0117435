package dev.npid4j.cli;

import dev.npid4j.torch.Torch;
import dev.npid4j.weights.CheckpointFile;
import picocli.CommandLine.IVersionProvider;

/**
 * {@code npid4j --version}: what a bug report needs, without loading libtorch (which takes a
 * second and may be what is broken): the build, the libtorch and JavaCPP builds on the class
 * path, the checkpoint format, whether the native kernels were built, the JVM and the platform.
 */
final class Version implements IVersionProvider {
  @Override
  public String[] getVersion() {
    String v = Main.class.getPackage().getImplementationVersion();
    boolean cuda = present("org.bytedeco.cuda.global.cudart");
    boolean kernels = dev.npid4j.torch.NativeKernels.class.getResource("libnpid4j_kernels.so") != null;
    return new String[] {
        "npid4j " + (v != null ? v : "0.1.0-SNAPSHOT") + " (commit " + System.getProperty("npid4j.commit", "unknown") + ")",
        "libtorch " + Torch.LIBTORCH_VERSION + " through bytedeco's pytorch " + packageVersion("org.bytedeco.pytorch.Tensor")
            + " and JavaCPP " + packageVersion("org.bytedeco.javacpp.Loader") + ", " + (cuda ? "CUDA" : "CPU") + " build",
        "checkpoints: format " + CheckpointFile.FORMAT + " (torch.load(f, weights_only=True) reads them; format 1 is read too)",
        "native kernels (src/main/c): " + (kernels ? "built" : "not built (no C compiler at build time)"),
        "Java " + System.getProperty("java.version") + " (" + System.getProperty("java.vendor") + "), " + System.getProperty("os.name")
            + " " + System.getProperty("os.arch") + ", " + Runtime.getRuntime().availableProcessors() + " cores"};
  }

  /** The Implementation-Version of the jar that holds {@code className}, read without initialising the class. */
  private static String packageVersion(String className) {
    try {
      Package p = Class.forName(className, false, Version.class.getClassLoader()).getPackage();
      String v = p == null ? null : p.getImplementationVersion();
      return v != null ? v : "(version unknown)";
    } catch (ClassNotFoundException | LinkageError e) {
      return "(missing)";
    }
  }

  private static boolean present(String className) {
    try {
      Class.forName(className, false, Version.class.getClassLoader());
      return true;
    } catch (ClassNotFoundException | LinkageError e) {
      return false;
    }
  }
}
