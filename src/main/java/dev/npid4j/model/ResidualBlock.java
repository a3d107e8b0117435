package dev.npid4j.model;

import org.bytedeco.pytorch.Tensor;

/** A ResNet block: torchvision's BasicBlock or Bottleneck. */
interface ResidualBlock {
  Tensor forward(Tensor x);

  /** Sets the last BN's weight to zero so the block starts as identity (ZERO_INIT_RESIDUAL). */
  void zeroInitResidual();
}
