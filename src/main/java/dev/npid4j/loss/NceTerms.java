package dev.npid4j.loss;

import dev.npid4j.distributed.Communicator;
import dev.npid4j.torch.Ops;
import org.bytedeco.pytorch.Scalar;
import org.bytedeco.pytorch.Tensor;
import org.bytedeco.pytorch.global.torch;
import org.bytedeco.pytorch.global.torch.ScalarType;

/**
 * VISSL's loss terms over a block of scores s = (v . m) / T (rows x (K+1), the positive in
 * column 0): NCE with the normalisation constant Z (estimated once from the first batch when
 * norm_constant is -1), or InfoNCE cross-entropy; their sums and dL/ds.
 */
final class NceTerms {
  /** float32 machine epsilon: VISSL's NCECriterion uses it even in float64. */
  static final double EPS = Math.ulp(1.0f);

  private final NceLossParams.LossType type;
  private final long bankSize;
  private final ScalarType dtype;
  private final double temperature;
  private double z;

  NceTerms(NceLossParams params, long bankSize, ScalarType dtype) {
    this.type = params.lossType();
    this.bankSize = bankSize;
    this.dtype = dtype;
    boolean f32 = dtype == ScalarType.Float;
    // VISSL keeps [K, T, Z, m] in a buffer of the default dtype and reads them back from it.
    this.temperature = Ops.roundToFloatIf(f32, params.temperature());
    this.z = Ops.roundToFloatIf(f32, params.normConstant());
  }

  /** The sums of the positive and of the negative log terms (the loss is minus their total over B'), and dL/ds with 1/B' included. */
  record Terms(double positive, double negative, Tensor dS) {}

  double temperature() {
    return temperature;
  }

  double z() {
    return z;
  }

  void setZ(double z) {
    this.z = z;
  }

  /** nce with norm_constant -1 before its first batch: Z is still to be estimated. */
  boolean zPending() {
    return type == NceLossParams.LossType.NCE && z < 0;
  }

  /** Z from the first batch: the mean of exp(s) over all its B'(K+1) scores (and all ranks), times N. */
  void estimateZ(double expSum, long count, Communicator comm) {
    Tensor mean = torch.tensor(expSum / count).to(dtype);
    comm.allReduceMean(mean);
    z = Ops.roundToFloatIf(dtype == ScalarType.Float, mean.item_double() * bankSize);
  }

  /** The terms of the scores {@code s} (rows x (K+1), already over T) with K negatives a row; dL/ds scaled by {@code invB}. */
  Terms of(Tensor s, int k, Scalar invB) {
    if (type == NceLossParams.LossType.NCE) {
      double c = k * (1.0 / bankSize);
      Tensor xh = s.exp().div(new Scalar(z));
      Tensor denom = xh.add(new Scalar(c + EPS));
      Tensor pos = xh.select(1, 0);
      Tensor negDenom = denom.narrow(1, 1, k);
      double positive = pos.div(denom.select(1, 0)).log().sum().item_double();
      double negative = torch.full_like(negDenom, new Scalar(c)).div(negDenom).log().sum().item_double();
      Tensor dS = xh.div(denom).mul(invB);
      dS.select(1, 0).copy_(torch.full_like(pos, new Scalar(-(c + EPS))).div(denom.select(1, 0)).mul(invB));
      return new Terms(positive, negative, dS);
    }
    Tensor logp = s.log_softmax(1);
    double positive = logp.select(1, 0).sum().item_double();
    Tensor dS = logp.exp();
    dS.select(1, 0).sub_(new Scalar(1.0));
    dS.mul_(invB);
    return new Terms(positive, 0, dS);
  }
}
