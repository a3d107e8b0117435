package dev.npid4j.model;


import java.util.List;
import dev.npid4j.torch.Layers;
import org.bytedeco.pytorch.Conv2dImpl;
import org.bytedeco.pytorch.Module;
import org.bytedeco.pytorch.Tensor;
import org.bytedeco.pytorch.global.torch;

/** torchvision's BasicBlock (ResNet-18/34): two 3x3 convs, expansion 1. */
final class BasicBlock extends Module implements ResidualBlock {
  static final int EXPANSION = 1;

  private final Conv2dImpl conv1;
  private final Norm bn1;
  private final Conv2dImpl conv2;
  private final Norm bn2;
  private final Downsample downsample;

  BasicBlock(ResNetSpec spec, long inplanes, long planes, long stride, Downsample downsample) {
    conv1 = register_module("conv1", Layers.conv2d(inplanes, planes, 3, stride, 1, 1, false));
    bn1 = new Norm(register_module("bn1", Layers.norm2d(spec.norm(), planes, spec.groupNormGroups())));
    conv2 = register_module("conv2", Layers.conv2d(planes, planes, 3, 1, 1, 1, false));
    bn2 = new Norm(register_module("bn2", Layers.norm2d(spec.norm(), planes, spec.groupNormGroups())));
    this.downsample = downsample == null ? null : register_module("downsample", downsample);
  }

  @Override
  public Tensor forward(Tensor x) {
    Tensor out = bn1.forwardRelu(conv1.forward(x));
    out = bn2.forward(conv2.forward(out));
    Tensor identity = downsample == null ? x : downsample.forward(x);
    return torch.relu_(out.add_(identity));
  }

  @Override
  public List<Norm> norms() {
    return downsample == null ? List.of(bn1, bn2) : List.of(bn1, bn2, downsample.norm());
  }

  @Override
  public void zeroInitResidual() {
    ResNet.zeroWeight(bn2);
  }
}
