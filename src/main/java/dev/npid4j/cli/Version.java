package dev.npid4j.cli;

import dev.npid4j.torch.Torch;
import picocli.CommandLine.IVersionProvider;

final class Version implements IVersionProvider {
  @Override
  public String[] getVersion() {
    String v = Main.class.getPackage().getImplementationVersion();
    return new String[] {"npid4j " + (v != null ? v : "0.1.0-SNAPSHOT") + " (libtorch " + Torch.LIBTORCH_VERSION + ", Java "
        + System.getProperty("java.version") + ")"};
  }
}
