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
  private final ResNet trunk;
  private final List<MlpHead> heads = new ArrayList<>();
  private final Module headList; // kept reachable: see MlpHead#clf

  public NpidModel(ResNetSpec trunkSpec, List<MlpHeadSpec> headSpecs) {
    trunk = register_module("trunk", new ResNet(trunkSpec));
    headList = register_module("heads", new Module());
    int dim = trunk.outputDim();
    for (int i = 0; i < headSpecs.size(); i++) {
      MlpHeadSpec h = headSpecs.get(i);
      if (h.inputDim() != dim) {
        throw new IllegalArgumentException("head " + i + " expects input dim " + h.inputDim()
            + " but the trunk/previous head gives " + dim + " (MODEL.HEAD.PARAMS dims[0] must be " + dim + ")");
      }
      heads.add(headList.register_module(Integer.toString(i), new MlpHead(h)));
      dim = h.outputDim();
    }
  }

  public ResNet trunk() {
    return trunk;
  }

  public int embeddingDim() {
    return heads.isEmpty() ? trunk.outputDim() : heads.get(heads.size() - 1).spec().outputDim();
  }

  public Tensor forward(Tensor images) {
    return forwardHeads(trunk.forward(images));
  }

  public Tensor forwardHeads(Tensor features) {
    Tensor out = features;
    for (MlpHead h : heads) {
      out = h.forward(out);
    }
    return out;
  }
}
