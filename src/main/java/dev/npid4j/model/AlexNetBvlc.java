package dev.npid4j.model;

import dev.npid4j.torch.Layers;
import java.util.Collection;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.bytedeco.pytorch.Conv2dImpl;
import org.bytedeco.pytorch.LocalResponseNormImpl;
import org.bytedeco.pytorch.LocalResponseNormOptions;
import org.bytedeco.pytorch.Module;
import org.bytedeco.pytorch.Tensor;
import org.bytedeco.pytorch.global.torch;

/**
 * VISSL's {@code alexnet_bvlc} trunk (Caffe's BVLC AlexNet, the two-tower grouping kept as
 * groups=2): conv1 96 11x11/4 + ReLU | LRN(5, 1e-4, 0.75) + max-pool 3/2 | conv2 256 5x5 g2 +
 * ReLU | LRN + max-pool | conv3 384 3x3 | conv4 384 3x3 g2 | conv5 256 3x3 g2 (each + ReLU) |
 * max-pool 3/2 | flatten. Parameters are named as VISSL's {@code _feature_blocks.<i>.0.*}
 * without the prefix (trunk.0.0.weight is conv1), so VISSL checkpoints load and export as they
 * are. 2,334,080 parameters; the output is 256 x 6 x 6 = 9216 for 227 x 227 input (6400 at 224).
 */
public final class AlexNetBvlc extends Trunk {
  public static final List<String> FEATURE_LAYERS = TrunkType.ALEXNET_BVLC.featureLayers();

  private final Conv2dImpl conv1;
  private final Conv2dImpl conv2;
  private final Conv2dImpl conv3;
  private final Conv2dImpl conv4;
  private final Conv2dImpl conv5;
  private final LocalResponseNormImpl lrn1;
  private final LocalResponseNormImpl lrn2;
  /** The Sequential-like block containers: libtorch calls back into them (train/eval), so their Java peers must stay reachable. */
  private final List<Module> blocks = new java.util.ArrayList<>();

  AlexNetBvlc(int inputChannels) {
    // block i is registered as "i" and its conv as "i.0", as in VISSL's Sequential blocks
    conv1 = block(0).register_module("0", Layers.conv2d(inputChannels, 96, 11, 4, 0, 1, true));
    lrn1 = block(1).register_module("0", lrn());
    conv2 = block(2).register_module("0", Layers.conv2d(96, 256, 5, 1, 2, 2, true));
    lrn2 = block(3).register_module("0", lrn());
    conv3 = block(4).register_module("0", Layers.conv2d(256, 384, 3, 1, 1, 1, true));
    conv4 = block(5).register_module("0", Layers.conv2d(384, 384, 3, 1, 1, 2, true));
    conv5 = block(6).register_module("0", Layers.conv2d(384, 256, 3, 1, 1, 2, true));
  }

  private Module block(int i) {
    Module m = register_module(Integer.toString(i), new Module());
    blocks.add(m);
    return m;
  }

  private static LocalResponseNormImpl lrn() {
    LocalResponseNormOptions o = new LocalResponseNormOptions(5);
    o.alpha().put(1e-4);
    o.beta().put(0.75);
    o.k().put(1.0);
    return new LocalResponseNormImpl(o);
  }

  @Override
  public Tensor forward(Tensor x) {
    return forwardLayers(x, List.of("flatten")).get("flatten");
  }

  @Override
  public Map<String, Tensor> forwardLayers(Tensor x, Collection<String> names) {
    for (String n : names) {
      if (!FEATURE_LAYERS.contains(n)) {
        throw new IllegalArgumentException("unknown alexnet_bvlc layer '" + n + "'; known: " + FEATURE_LAYERS);
      }
    }
    Map<String, Tensor> out = new LinkedHashMap<>();
    Tensor cur = x;
    for (String layer : FEATURE_LAYERS) {
      if (out.size() == names.size()) {
        break;
      }
      cur = switch (layer) {
        case "conv1" -> torch.relu(conv1.forward(cur));
        case "pool1" -> maxPool(lrn1.forward(cur));
        case "conv2" -> torch.relu(conv2.forward(cur));
        case "pool2" -> maxPool(lrn2.forward(cur));
        case "conv3" -> torch.relu(conv3.forward(cur));
        case "conv4" -> torch.relu(conv4.forward(cur));
        case "conv5" -> torch.relu(conv5.forward(cur));
        case "pool5" -> maxPool(cur);
        default -> torch.flatten(cur, 1, -1);
      };
      if (names.contains(layer)) {
        out.put(layer, cur);
      }
    }
    return out;
  }

  private static Tensor maxPool(Tensor x) {
    return Layers.maxPool2d(x, 3, 2, 0);
  }

  @Override
  public List<String> featureLayers() {
    return FEATURE_LAYERS;
  }

  @Override
  public int outputDim() {
    return -1;
  }
}
