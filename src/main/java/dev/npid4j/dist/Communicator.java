package dev.npid4j.dist;

import org.bytedeco.pytorch.Tensor;

/**
 * The collective operations training needs, over the ranks of one job. A single process uses
 * {@link #local()}; multi-process runs implement it on libtorch's c10d process groups.
 */
public interface Communicator {
  int rank();

  int worldSize();

  /** In place: every rank ends with the element-wise mean over ranks. */
  void allReduceMean(Tensor t);

  /** Concatenation along dim 0 of every rank's tensor, in rank order (shapes may differ in dim 0). */
  Tensor allGather(Tensor t);

  static Communicator local() {
    return LocalCommunicator.INSTANCE;
  }
}
