package dev.npid4j.distributed;

import java.time.Duration;
import org.bytedeco.pytorch.Tensor;

/**
 * The collective operations training needs, over the ranks of one job. A single process uses
 * {@link #local()}; multi-process runs use {@link GlooCommunicator} (libtorch's c10d Gloo
 * process group). Every collective either completes or throws {@link CollectiveFailure}
 * within the job's timeout: a rank that died or stopped answering never makes the others hang.
 */
public interface Communicator extends AutoCloseable {
  int rank();

  int worldSize();

  /** This process's index among the ranks of its node (its GPU, in a GPU run). */
  default int localRank() {
    return 0;
  }

  /** In place: every rank ends with the element-wise mean over ranks. */
  void allReduceMean(Tensor t);

  /** {@link #allReduceMean(Tensor)} of several tensors; an implementation may overlap them. */
  default void allReduceMean(java.util.List<Tensor> tensors) {
    for (Tensor t : tensors) {
      allReduceMean(t);
    }
  }

  /** In place: every rank ends with the element-wise sum over ranks. */
  void allReduceSum(Tensor t);

  /** An all-reduce in flight. */
  interface Pending {
    /** Waits until the all-reduce has finished (or throws {@link CollectiveFailure}). */
    void await();
  }

  /**
   * Starts {@link #allReduceSum} of a contiguous tensor and returns at once where the backend
   * runs collectives in the background (Gloo does); the tensor holds the sum after {@code await}.
   */
  default Pending startAllReduceSum(Tensor t) {
    allReduceSum(t);
    return () -> {};
  }

  /** In place: every rank ends with the element-wise maximum over ranks. */
  void allReduceMax(Tensor t);

  /** Concatenation along dim 0 of every rank's tensor, in rank order (shapes may differ in dim 0). */
  Tensor allGather(Tensor t);

  /** In place: every rank ends with rank {@code root}'s values. */
  void broadcast(Tensor t, int root);

  /** Waits until every rank has arrived, for at most {@code timeout}. */
  void barrier(Duration timeout);

  /**
   * After a failed collective: a line naming the ranks that did not answer a short check-in
   * (rank 0 learns every missing rank; the others learn whether rank 0 is there), or "" if
   * nothing more could be learnt.
   */
  default String diagnoseLostRanks(Duration wait) {
    return "";
  }

  @Override
  default void close() {}

  static Communicator local() {
    return LocalCommunicator.INSTANCE;
  }
}
