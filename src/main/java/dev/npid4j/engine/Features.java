package dev.npid4j.engine;

import dev.npid4j.data.Batch;
import dev.npid4j.data.BatchLoader;
import dev.npid4j.data.Dataset;
import dev.npid4j.data.transform.Transform;
import dev.npid4j.model.NpidModel;
import dev.npid4j.torch.Ops;
import dev.npid4j.torch.Tensors;
import java.util.Iterator;
import java.util.function.Function;
import org.bytedeco.javacpp.PointerScope;
import org.bytedeco.pytorch.MemoryFormatOptional;
import org.bytedeco.pytorch.NoGradGuard;
import org.bytedeco.pytorch.Tensor;
import org.bytedeco.pytorch.global.torch;
import org.bytedeco.pytorch.global.torch.ScalarType;

/** Features of a whole data set in its natural order (N x D, float), with its class labels. */
public record Features(Tensor values, long[] labels) implements AutoCloseable {

  /**
   * Head outputs of {@code model} in eval mode (BN running statistics), L2-normalised when
   * {@code normalize}. The model is put back in training mode afterwards.
   */
  public static Features extract(NpidModel model, Dataset data, Transform evalTransform, int batchSize, int workers, boolean normalize) {
    model.eval();
    try (NoGradGuard g = new NoGradGuard()) {
      return collect(data, evalTransform, batchSize, workers, normalize,
          b -> model.forward(Tensors.fromFloats(b.images(), b.shape())));
    } finally {
      model.train(true);
    }
  }

  /** The images themselves, flattened after the eval transforms: the raw-pixel kNN baseline. */
  public static Features pixels(Dataset data, Transform evalTransform, int batchSize, int workers, boolean normalize) {
    return collect(data, evalTransform, batchSize, workers, normalize,
        b -> Tensors.fromFloats(b.images(), b.size(), (long) b.channels() * b.height() * b.width()));
  }

  private static Features collect(Dataset data, Transform transform, int batchSize, int workers, boolean normalize,
      Function<Batch, Tensor> featureOf) {
    int n = data.size();
    int[] order = new int[n];
    for (int i = 0; i < n; i++) {
      order[i] = i;
    }
    Tensor out = null;
    long[] labels = new long[n];
    try (BatchLoader loader = new BatchLoader(data, transform, batchSize, false, workers, 0)) {
      Iterator<Batch> it = loader.epoch(0, order, 0);
      int row = 0;
      while (it.hasNext()) {
        Batch b = it.next();
        try (PointerScope scope = new PointerScope()) {
          Tensor f = featureOf.apply(b);
          if (normalize) {
            f = Ops.l2Normalize(f);
          }
          if (out == null) {
            out = torch.empty(new long[] {n, f.size(1)}, Tensors.options(ScalarType.Float), new MemoryFormatOptional());
            Tensors.keep(out);
          }
          out.narrow(0, row, b.size()).copy_(f);
        }
        System.arraycopy(b.labels(), 0, labels, row, b.size());
        row += b.size();
      }
    }
    return new Features(out, labels);
  }

  @Override
  public void close() {
    if (values != null) {
      values.close();
    }
  }
}
