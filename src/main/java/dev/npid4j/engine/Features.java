package dev.npid4j.engine;

import dev.npid4j.torch.Scopes;
import dev.npid4j.torch.NoGrad;
import dev.npid4j.data.Batch;
import dev.npid4j.data.BatchLoader;
import dev.npid4j.data.Dataset;
import dev.npid4j.data.transform.Transform;
import dev.npid4j.model.NpidModel;
import dev.npid4j.torch.Ops;
import dev.npid4j.torch.Devices;
import dev.npid4j.torch.Tensors;
import dev.npid4j.config.EvalSettings;
import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.function.Function;
import org.bytedeco.pytorch.Device;
import org.bytedeco.pytorch.Tensor;
import org.bytedeco.pytorch.global.torch;
import org.bytedeco.pytorch.global.torch.ScalarType;

/** Features of a whole data set in its natural order (N x D, float), with its class labels. */
public record Features(Tensor values, long[] labels, long[] itemShape) implements AutoCloseable {

  public Features(Tensor values, long[] labels) {
    this(values, labels, new long[] {values.size(1)});
  }

  /**
   * Head outputs of {@code model} in eval mode (BN running statistics), L2-normalised when
   * {@code normalize}. The model is put back in training mode afterwards.
   */
  public static Features extract(NpidModel model, Dataset data, Transform evalTransform, int batchSize, int workers, boolean normalize) {
    model.eval();
    Device device = Devices.of(model);
    try (var g = NoGrad.open()) {
      return collect(data, evalTransform, batchSize, workers, normalize,
          b -> Devices.cpu(model.forward(Devices.to(Tensors.fromFloats(b.images(), b.shape()), device))));
    } finally {
      model.train(true);
    }
  }

  /** The images themselves, flattened after the eval transforms: the raw-pixel kNN baseline. */
  public static Features pixels(Dataset data, Transform evalTransform, int batchSize, int workers, boolean normalize) {
    return collect(data, evalTransform, batchSize, workers, normalize,
        b -> Tensors.fromFloats(b.images(), b.size(), (long) b.channels() * b.height() * b.width()));
  }

  /**
   * Features of named layers in eval mode: "heads" (the head output) and/or trunk layers, each
   * pooled as configured, flattened to N x D; {@code itemShape} keeps the unflattened shape.
   */
  public static Map<String, Features> extractLayers(NpidModel model, Dataset data, Transform evalTransform, int batchSize,
      int workers, List<EvalSettings.PooledLayer> layers, boolean head) {
    List<String> trunkLayers = layers.stream().map(EvalSettings.PooledLayer::layer).distinct().toList();
    model.eval();
    Device device = Devices.of(model);
    try (var g = NoGrad.open()) {
      return collectMany(data, evalTransform, batchSize, workers, false, b -> {
        Tensor x = Devices.to(Tensors.fromFloats(b.images(), b.shape()), device);
        Map<String, Tensor> out = new LinkedHashMap<>();
        if (head) {
          out.put("heads", Devices.cpu(model.forward(x)));
        }
        if (!trunkLayers.isEmpty()) {
          Map<String, Tensor> f = model.trunk().forwardLayers(x, trunkLayers);
          for (EvalSettings.PooledLayer l : layers) {
            out.put(l.layer(), Devices.cpu(pool(f.get(l.layer()), l)));
          }
        }
        return out;
      });
    } finally {
      model.train(true);
    }
  }

  /** VISSL's LINEAR_EVAL_FEAT_POOL_OPS_MAP op: AvgPool2d(kernel, stride, padding) with PyTorch's defaults, or Identity. */
  public static Tensor pool(Tensor x, EvalSettings.PooledLayer l) {
    if (!l.op().equals("AvgPool2d")) {
      return x;
    }
    return Ops.avgPool2d(x, l.kernel(), l.stride(), l.padding());
  }

  private static Features collect(Dataset data, Transform transform, int batchSize, int workers, boolean normalize,
      Function<Batch, Tensor> featureOf) {
    return collectMany(data, transform, batchSize, workers, normalize, b -> Map.of("f", featureOf.apply(b))).get("f");
  }

  private static Map<String, Features> collectMany(Dataset data, Transform transform, int batchSize, int workers, boolean normalize,
      Function<Batch, Map<String, Tensor>> featureOf) {
    int n = data.size();
    int[] order = new int[n];
    for (int i = 0; i < n; i++) {
      order[i] = i;
    }
    Map<String, Tensor> out = new LinkedHashMap<>();
    Map<String, long[]> shapes = new LinkedHashMap<>();
    long[] labels = new long[n];
    try (BatchLoader loader = new BatchLoader(data, transform, batchSize, false, workers, 0)) {
      Iterator<Batch> it = loader.epoch(0, order, 0);
      int row = 0;
      while (it.hasNext()) {
        Batch b = it.next();
        try (var scope = Scopes.open()) {
          for (Map.Entry<String, Tensor> e : featureOf.apply(b).entrySet()) {
            Tensor f = e.getValue();
            if (!shapes.containsKey(e.getKey())) {
              long[] s = Tensors.shape(f);
              shapes.put(e.getKey(), java.util.Arrays.copyOfRange(s, 1, s.length));
            }
            f = torch.flatten(f, 1, -1);
            if (normalize) {
              f = Ops.l2Normalize(f);
            }
            Tensor dst = out.get(e.getKey());
            if (dst == null) {
              dst = Tensors.keep(Tensors.empty(Tensors.options(ScalarType.Float), n, f.size(1)));
              out.put(e.getKey(), dst);
            }
            dst.narrow(0, row, b.size()).copy_(f);
          }
        }
        System.arraycopy(b.labels(), 0, labels, row, b.size());
        row += b.size();
      }
    }
    Map<String, Features> result = new LinkedHashMap<>();
    out.forEach((k, v) -> result.put(k, new Features(v, labels, shapes.get(k))));
    return result;
  }

  @Override
  public void close() {
    if (values != null) {
      values.close();
    }
  }
}
