package dev.npid4j.model;


import java.util.List;
import dev.npid4j.torch.Layers;
import org.bytedeco.pytorch.Conv2dImpl;
import org.bytedeco.pytorch.Module;
import org.bytedeco.pytorch.Tensor;
import org.bytedeco.pytorch.global.torch;

/**
 * torchvision's Bottleneck (ResNet-50 and up, ResNeXt): 1x1 reduce, 3x3 (grouped, strided),
 * 1x1 expand by 4. Inner width = planes * (widthPerGroup / 64) * groups, as torchvision.
 */
final class Bottleneck extends Module implements ResidualBlock {
  static final int EXPANSION = 4;

  private final Conv2dImpl conv1;
  private final Norm bn1;
  private final Conv2dImpl conv2;
  private final Norm bn2;
  private final Conv2dImpl conv3;
  private final Norm bn3;
  private final Downsample downsample;

  Bottleneck(ResNetSpec spec, long inplanes, long planes, long stride, Downsample downsample, long groups, long widthPerGroup) {
    long width = (long) (planes * (widthPerGroup / 64.0)) * groups;
    conv1 = register_module("conv1", Layers.conv2d(inplanes, width, 1, 1, 0, 1, false));
    bn1 = new Norm(register_module("bn1", Layers.norm2d(spec.norm(), width, spec.groupNormGroups())));
    conv2 = register_module("conv2", Layers.conv2d(width, width, 3, stride, 1, groups, false));
    bn2 = new Norm(register_module("bn2", Layers.norm2d(spec.norm(), width, spec.groupNormGroups())));
    conv3 = register_module("conv3", Layers.conv2d(width, planes * EXPANSION, 1, 1, 0, 1, false));
    bn3 = new Norm(register_module("bn3", Layers.norm2d(spec.norm(), planes * EXPANSION, spec.groupNormGroups())));
    this.downsample = downsample == null ? null : register_module("downsample", downsample);
  }

  @Override
  public Tensor forward(Tensor x) {
    Tensor out = bn1.forwardRelu(conv1.forward(x));
    out = bn2.forwardRelu(conv2.forward(out));
    out = bn3.forward(conv3.forward(out));
    Tensor identity = downsample == null ? x : downsample.forward(x);
    return torch.relu_(out.add_(identity));
  }

  @Override
  public List<Norm> norms() {
    return downsample == null ? List.of(bn1, bn2, bn3) : List.of(bn1, bn2, bn3, downsample.norm());
  }

  @Override
  public void zeroInitResidual() {
    ResNet.zeroWeight(bn3);
  }
}
