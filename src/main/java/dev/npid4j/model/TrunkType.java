package dev.npid4j.model;

import java.util.Arrays;
import java.util.List;

/**
 * The trunks MODEL.TRUNK.NAME names, with what the config needs to know of each before any
 * native code loads (feature layer names, output width): reading a config never touches
 * libtorch, so a bad config fails fast and a fresh JavaCPP cache is filled before first use.
 */
public enum TrunkType {
  RESNET("resnet", List.of("conv1", "res2", "res3", "res4", "res5", "res5avg")),
  ALEXNET_BVLC("alexnet_bvlc", List.of("conv1", "pool1", "conv2", "pool2", "conv3", "conv4", "conv5", "pool5", "flatten"));

  private final String configName;
  private final List<String> featureLayers;

  TrunkType(String configName, List<String> featureLayers) {
    this.configName = configName;
    this.featureLayers = featureLayers;
  }

  /** The name in MODEL.TRUNK.NAME. */
  public String configName() {
    return configName;
  }

  /** VISSL's feature layer names, in forward order. */
  public List<String> featureLayers() {
    return featureLayers;
  }

  /** The names MODEL.TRUNK.NAME accepts. */
  public static List<String> names() {
    return Arrays.stream(values()).map(TrunkType::configName).toList();
  }

  /** The trunk of a MODEL.TRUNK.NAME, or null. */
  public static TrunkType named(String name) {
    return Arrays.stream(values()).filter(t -> t.configName.equals(name)).findFirst().orElse(null);
  }

  /** Width of the trunk's output for {@code spec}, or -1 when it depends on the image size (AlexNet). */
  public int outputDim(ResNetSpec spec) {
    return this == RESNET ? spec.outputDim() : -1;
  }

  /** A new trunk: the ResNet of {@code spec}, or BVLC AlexNet on spec's input channels. */
  public Trunk build(ResNetSpec spec) {
    return this == RESNET ? new ResNet(spec) : new AlexNetBvlc(spec.inputChannels());
  }
}
