package dev.npid4j.model;

import java.util.ArrayList;
import java.util.List;
import org.bytedeco.pytorch.Module;
import org.bytedeco.pytorch.Tensor;

/**
 * Trunk followed by the heads in order, like VISSL's {@code multi_input_output_model} with one
 * input and one output. Keys: {@code trunk.<torchvision key>}, {@code heads.<i>.clf.<j>.*}.
 * The output is the raw head output: normalisation happens inside the loss.
 */
public final class NpidModel extends Module {
  private final Trunk trunk;
  private final List<MlpHead> heads = new ArrayList<>();
  private final Module headList; // kept reachable: see MlpHead#clf

  public NpidModel(ResNetSpec trunkSpec, List<MlpHeadSpec> headSpecs) {
    this(TrunkType.RESNET, trunkSpec, headSpecs);
  }

  /** AlexNet takes only the input channels of the spec. */
  public NpidModel(TrunkType trunkType, ResNetSpec trunkSpec, List<MlpHeadSpec> headSpecs) {
    trunk = register_module("trunk", trunkType.build(trunkSpec));
    headList = register_module("heads", new Module());
    int dim = trunk.outputDim();
    for (int i = 0; i < headSpecs.size(); i++) {
      MlpHeadSpec h = headSpecs.get(i);
      if (dim >= 0 && h.inputDim() != dim) {
        throw new IllegalArgumentException("head " + i + " expects input dim " + h.inputDim()
            + " but the trunk/previous head gives " + dim + " (MODEL.HEAD.PARAMS dims[0] must be " + dim + ")");
      }
      heads.add(headList.register_module(Integer.toString(i), new MlpHead(h)));
      dim = h.outputDim();
    }
  }

  /** Every normalisation layer of the trunk and the heads, in forward order. */
  public List<Norm> norms() {
    List<Norm> out = new ArrayList<>(trunk.norms());
    heads.forEach(h -> out.addAll(h.norms()));
    return out;
  }

  public Trunk trunk() {
    return trunk;
  }

  public int embeddingDim() {
    return heads.isEmpty() ? trunk.outputDim() : heads.get(heads.size() - 1).spec().outputDim();
  }

  public Tensor forward(Tensor images) {
    Tensor features = trunk.forward(images);
    if (!heads.isEmpty() && features.size(1) != heads.get(0).spec().inputDim()) {
      // AlexNet's width depends on the image size: say so instead of libtorch's matrix-shape error
      throw new IllegalArgumentException("the trunk gives " + features.size(1) + "-d features for " + images.size(2) + "x"
          + images.size(3) + " images but the head expects " + heads.get(0).spec().inputDim()
          + " (MODEL.HEAD.PARAMS dims[0]; alexnet_bvlc: 9216 at 227x227, 6400 at 224x224)");
    }
    return forwardHeads(features);
  }

  public Tensor forwardHeads(Tensor features) {
    Tensor out = features;
    for (MlpHead h : heads) {
      out = h.forward(out);
    }
    return out;
  }
}
