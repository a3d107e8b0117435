package dev.npid4j.model;

import java.util.List;
import org.bytedeco.pytorch.Tensor;

/** A ResNet block: torchvision's BasicBlock or Bottleneck. */
interface ResidualBlock {
  Tensor forward(Tensor x);

  /** The block's normalisation layers (its downsample's included). */
  List<Norm> norms();

  /** Sets the last BN's weight to zero so the block starts as identity (ZERO_INIT_RESIDUAL). */
  void zeroInitResidual();
}
