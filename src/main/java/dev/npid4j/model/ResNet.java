package dev.npid4j.model;


import dev.npid4j.torch.NoGrad;
import dev.npid4j.torch.Layers;
import java.util.ArrayList;
import java.util.List;
import org.bytedeco.pytorch.Conv2dImpl;
import org.bytedeco.pytorch.Module;
import org.bytedeco.pytorch.Tensor;
import org.bytedeco.pytorch.global.torch;

/**
 * A torchvision-layout ResNet/ResNeXt trunk without the classifier: its state-dict keys are
 * torchvision's ({@code conv1.weight}, {@code layer1.0.downsample.0.weight}, ...).
 *
 * <p>Init is PyTorch's module default (conv: kaiming-uniform a=sqrt(5); BN: 1/0), which is what
 * VISSL ends up with because it rebuilds conv1, bn1 and layer1-4 after torchvision's init.
 */
public final class ResNet extends Trunk {
  private final ResNetSpec spec;
  private final Conv2dImpl conv1;
  private final Norm bn1;
  private final List<Stage> stages = new ArrayList<>();

  public ResNet(ResNetSpec spec) {
    this.spec = spec;
    long width = (long) spec.baseWidth() * spec.widthMultiplier();
    boolean imagenet = spec.stem().equals("imagenet");
    conv1 = register_module("conv1", imagenet
        ? Layers.conv2d(spec.inputChannels(), width, 7, 2, 3, 1, false)
        : Layers.conv2d(spec.inputChannels(), width, 3, 1, 1, 1, false));
    bn1 = new Norm(register_module("bn1", Layers.norm2d(spec.norm(), width, spec.groupNormGroups())));
    int[] layers = ResNetSpec.LAYERS.get(spec.depth());
    long[] inplanes = {width};
    for (int i = 0; i < 4; i++) {
      long planes = width << i;
      long stride = i == 0 ? 1 : (i == 3 ? spec.layer4Stride() : 2);
      stages.add(register_module("layer" + (i + 1), new Stage(spec, inplanes, planes, layers[i], stride)));
    }
    if (spec.zeroInitResidual()) {
      for (Stage s : stages) {
        s.blocks.forEach(ResidualBlock::zeroInitResidual);
      }
    }
  }

  public ResNetSpec spec() {
    return spec;
  }

  @Override
  public int outputDim() {
    return spec.outputDim();
  }

  /** Image batch N x C x H x W to res5avg features N x outputDim. */
  @Override
  public Tensor forward(Tensor x) {
    return torch.flatten(forwardLayers(x, RES5AVG).get("res5avg"), 1, -1);
  }

  private static final List<String> RES5AVG = List.of("res5avg");

  /** VISSL's names of the trunk's feature layers, in forward order. */
  public static final List<String> FEATURE_LAYERS = TrunkType.RESNET.featureLayers();

  @Override
  public List<String> featureLayers() {
    return FEATURE_LAYERS;
  }

  /**
   * The outputs of the named layers ({@link #FEATURE_LAYERS}: conv1 after its ReLU, res2..res5
   * the outputs of layer1..layer4, res5avg the global average pool, N x C x 1 x 1), stopping
   * after the last one asked for.
   */
  @Override
  public java.util.Map<String, Tensor> forwardLayers(Tensor x, java.util.Collection<String> names) {
    for (String n : names) {
      if (!FEATURE_LAYERS.contains(n)) {
        throw new IllegalArgumentException("unknown trunk layer '" + n + "'; known: " + FEATURE_LAYERS);
      }
    }
    java.util.Map<String, Tensor> out = new java.util.LinkedHashMap<>();
    Tensor cur = bn1.forwardRelu(conv1.forward(x));
    if (names.contains("conv1")) {
      out.put("conv1", cur);
    }
    if (spec.stem().equals("imagenet")) {
      cur = Layers.maxPool2d(cur, 3, 2, 1);
    }
    for (int i = 0; i < stages.size() && out.size() < names.size(); i++) {
      cur = stages.get(i).forward(cur);
      if (names.contains("res" + (i + 2))) {
        out.put("res" + (i + 2), cur);
      }
    }
    if (names.contains("res5avg")) {
      out.put("res5avg", torch.adaptive_avg_pool2d(cur, 1, 1));
    }
    return out;
  }

  @Override
  public List<Norm> norms() {
    List<Norm> out = new ArrayList<>(List.of(bn1));
    for (Stage s : stages) {
      s.blocks.forEach(b -> out.addAll(b.norms()));
    }
    return out;
  }

  static void zeroWeight(Norm norm) {
    try (var g = NoGrad.open()) {
      Layers.normWeight(norm.layer()).zero_();
    }
  }

  /** torchvision's {@code layerN}: blocks registered as "0", "1", ... */
  private static final class Stage extends Module {
    final List<ResidualBlock> blocks = new ArrayList<>();

    Stage(ResNetSpec spec, long[] inplanes, long planes, int count, long stride) {
      boolean bottleneck = ResNetSpec.usesBottleneck(spec.depth());
      long expansion = bottleneck ? Bottleneck.EXPANSION : BasicBlock.EXPANSION;
      for (int b = 0; b < count; b++) {
        long s = b == 0 ? stride : 1;
        Downsample ds = (b == 0 && (s != 1 || inplanes[0] != planes * expansion))
            ? new Downsample(spec, inplanes[0], planes * expansion, s) : null;
        ResidualBlock block = bottleneck
            ? new Bottleneck(spec, inplanes[0], planes, s, ds, spec.groups(), spec.widthPerGroup())
            : new BasicBlock(spec, inplanes[0], planes, s, ds);
        register_module(Integer.toString(b), (Module) block);
        blocks.add(block);
        inplanes[0] = planes * expansion;
      }
    }

    Tensor forward(Tensor x) {
      Tensor out = x;
      for (ResidualBlock b : blocks) {
        out = b.forward(out);
      }
      return out;
    }
  }
}
