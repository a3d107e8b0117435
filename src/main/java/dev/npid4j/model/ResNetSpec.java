package dev.npid4j.model;

import java.util.Map;

/**
 * Shape of a ResNet/ResNeXt trunk, as VISSL's {@code MODEL.TRUNK.RESNETS} plus npid4j's stem,
 * input channel and base width keys (for small images such as Fashion-MNIST).
 *
 * @param depth 18, 34, 50, 101 or 152
 * @param stem "imagenet" (7x7/2 conv + 3x3/2 max-pool) or "cifar" (3x3/1 conv, no pool)
 * @param inputChannels 3 for RGB, 1 for grayscale
 * @param baseWidth channels of the stem and of layer1's planes before the width multiplier (64 in torchvision)
 * @param widthMultiplier VISSL's WIDTH_MULTIPLIER (RN50-w2: 2)
 * @param groups ResNeXt cardinality (Bottleneck only)
 * @param widthPerGroup ResNeXt width per group (Bottleneck only)
 * @param layer4Stride 1 or 2
 * @param zeroInitResidual zero the last BN weight of every block
 * @param norm VISSL's NORM: "BatchNorm" or "GroupNorm" (batch-independent, e.g. for data-parallel runs without SyncBN)
 * @param groupNormGroups VISSL's GROUPNORM_GROUPS
 */
public record ResNetSpec(
    int depth,
    String stem,
    int inputChannels,
    int baseWidth,
    int widthMultiplier,
    int groups,
    int widthPerGroup,
    int layer4Stride,
    boolean zeroInitResidual,
    String norm,
    int groupNormGroups) {

  /** A BatchNorm trunk. */
  public ResNetSpec(int depth, String stem, int inputChannels, int baseWidth, int widthMultiplier, int groups, int widthPerGroup,
      int layer4Stride, boolean zeroInitResidual) {
    this(depth, stem, inputChannels, baseWidth, widthMultiplier, groups, widthPerGroup, layer4Stride, zeroInitResidual, "BatchNorm", 32);
  }

  static final Map<Integer, int[]> LAYERS = Map.of(
      18, new int[] {2, 2, 2, 2},
      34, new int[] {3, 4, 6, 3},
      50, new int[] {3, 4, 6, 3},
      101, new int[] {3, 4, 23, 3},
      152, new int[] {3, 8, 36, 3});

  public ResNetSpec {
    if (!LAYERS.containsKey(depth)) {
      throw new IllegalArgumentException("ResNet depth must be one of 18, 34, 50, 101, 152, got " + depth);
    }
    if (!stem.equals("imagenet") && !stem.equals("cifar")) {
      throw new IllegalArgumentException("ResNet stem must be 'imagenet' or 'cifar', got '" + stem + "'");
    }
    if (inputChannels < 1 || baseWidth < 1 || widthMultiplier < 1 || groups < 1 || widthPerGroup < 1) {
      throw new IllegalArgumentException("ResNet channels, widths and groups must be positive");
    }
    if (!norm.equals("BatchNorm") && !norm.equals("GroupNorm")) {
      throw new IllegalArgumentException("NORM must be BatchNorm or GroupNorm, got '" + norm + "'");
    }
    if (norm.equals("GroupNorm") && (groupNormGroups < 1 || (baseWidth * widthMultiplier) % groupNormGroups != 0)) {
      throw new IllegalArgumentException("GROUPNORM_GROUPS=" + groupNormGroups + " must divide the stem width "
          + baseWidth * widthMultiplier);
    }
    if (layer4Stride != 1 && layer4Stride != 2) {
      throw new IllegalArgumentException("LAYER4_STRIDE must be 1 or 2, got " + layer4Stride);
    }
    if (!usesBottleneck(depth) && (groups != 1 || widthPerGroup != 64)) {
      throw new IllegalArgumentException("BasicBlock (depth 18/34) supports only GROUPS=1 and WIDTH_PER_GROUP=64, as torchvision");
    }
  }

  /** torchvision's resnet{depth} on RGB ImageNet-size input. */
  public static ResNetSpec torchvision(int depth) {
    return new ResNetSpec(depth, "imagenet", 3, 64, 1, 1, 64, 2, false);
  }

  static boolean usesBottleneck(int depth) {
    return depth >= 50;
  }

  /** Width of the trunk's output (res5avg): 512 for ResNet-18, 2048 for ResNet-50. */
  public int outputDim() {
    int expansion = usesBottleneck(depth) ? Bottleneck.EXPANSION : BasicBlock.EXPANSION;
    return baseWidth * widthMultiplier * 8 * expansion;
  }
}
