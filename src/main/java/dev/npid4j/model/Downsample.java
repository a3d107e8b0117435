package dev.npid4j.model;

import dev.npid4j.torch.Layers;
import org.bytedeco.pytorch.Conv2dImpl;
import org.bytedeco.pytorch.Module;
import org.bytedeco.pytorch.Tensor;

/**
 * torchvision's {@code downsample} = Sequential(conv1x1(stride), norm), registered as children
 * "0" and "1" so the state-dict keys match. The stride is applied by subsampling the input and
 * running the 1x1 conv at stride 1 (see {@link Layers#subsample}).
 */
final class Downsample extends Module {
  private final Conv2dImpl conv;
  private final Norm bn;
  private final long stride;

  Downsample(ResNetSpec spec, long in, long out, long stride) {
    this.stride = stride;
    conv = register_module("0", Layers.conv2d(in, out, 1, 1, 0, 1, false));
    bn = new Norm(register_module("1", Layers.norm2d(spec.norm(), out, spec.groupNormGroups())));
  }

  Tensor forward(Tensor x) {
    return bn.forward(conv.forward(Layers.subsample(x, stride)));
  }

  Norm norm() {
    return bn;
  }
}
