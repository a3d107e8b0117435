package dev.npid4j.model;

import java.util.Collection;
import java.util.List;
import java.util.Map;
import org.bytedeco.pytorch.Module;
import org.bytedeco.pytorch.Tensor;

/** A feature extractor in front of the heads: VISSL's MODEL.TRUNK (resnet, alexnet_bvlc). */
public abstract class Trunk extends Module {
  /** Images N x C x H x W to the features the heads take, N x D. */
  public abstract Tensor forward(Tensor x);

  /** The outputs of the named feature layers (VISSL's names, {@link #featureLayers()}), stopping after the last one asked for. */
  public abstract Map<String, Tensor> forwardLayers(Tensor x, Collection<String> names);

  /** VISSL's feature layer names, in forward order. */
  public abstract List<String> featureLayers();

  /** The normalisation layers, in forward order (none for AlexNet). */
  public List<Norm> norms() {
    return List.of();
  }

  /** Width of {@link #forward}'s output, or -1 when it depends on the image size. */
  public abstract int outputDim();
}
