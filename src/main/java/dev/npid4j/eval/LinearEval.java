package dev.npid4j.eval;

import dev.npid4j.torch.Scopes;
import dev.npid4j.torch.NoGrad;
import dev.npid4j.config.EvalSettings.PooledLayer;
import dev.npid4j.data.Batch;
import dev.npid4j.data.BatchLoader;
import dev.npid4j.config.ConfigError;
import dev.npid4j.data.Dataset;
import dev.npid4j.data.EpochSampler;
import dev.npid4j.data.transform.Transform;
import dev.npid4j.engine.Features;
import dev.npid4j.model.Trunk;
import dev.npid4j.optim.LrSchedule;
import dev.npid4j.optim.ParamGroups;
import dev.npid4j.optim.Sgd;
import dev.npid4j.torch.Layers;
import dev.npid4j.torch.Tensors;
import java.util.ArrayList;
import java.util.Iterator;
import java.util.List;
import java.util.Map;
import java.util.function.Consumer;
import org.bytedeco.pytorch.BatchNorm2dImpl;
import org.bytedeco.pytorch.LinearImpl;
import org.bytedeco.pytorch.Module;
import org.bytedeco.pytorch.Tensor;
import org.bytedeco.pytorch.global.torch;

/**
 * VISSL's linear benchmark on a frozen trunk: one head per pooled trunk layer, each
 * {@code eval_mlp} (BatchNorm2d over the pooled map, flatten, Linear) or a plain Linear
 * ({@code mlp} with two dims), trained together on the sum of their cross-entropy losses with
 * SGD; the trunk stays in eval mode (BN running statistics) and gets no gradient.
 */
public final class LinearEval {
  /** One head's configuration: {@code in_channels} is 0 for a plain Linear. */
  public record HeadSpec(String type, int inChannels, int inDim, int classes) {}

  /** Accuracy of each head on the test split after one epoch. */
  public record EpochResult(int epoch, double lr, double loss, List<double[]> top1Top5) {}

  private final Trunk trunk;
  private final List<PooledLayer> layers;
  private final List<HeadSpec> specs;
  private final Heads heads;

  public LinearEval(Trunk trunk, List<PooledLayer> layers, List<HeadSpec> specs, double bnEps, double bnMomentum) {
    if (layers.size() != specs.size()) {
      throw new ConfigError("config.MODEL.HEAD.PARAMS has " + specs.size() + " heads but"
          + " config.MODEL.FEATURE_EVAL_SETTINGS.LINEAR_EVAL_FEAT_POOL_OPS_MAP names " + layers.size() + " layers: one head per layer");
    }
    this.trunk = trunk;
    this.layers = layers;
    this.specs = specs;
    this.heads = new Heads(specs, bnEps, bnMomentum);
  }

  public Module heads() {
    return heads;
  }

  /** Trains the heads for {@code epochs}, testing after each; {@code onEpoch} sees every result. */
  public List<EpochResult> run(Dataset train, Transform trainTransform, Dataset test, Transform testTransform, int batchSize,
      int testBatchSize, int workers, long seed, int epochs, LrSchedule schedule, LrSchedule.Interval interval, double momentum,
      double weightDecay, boolean nesterov, boolean regularizeBn, boolean regularizeBias, Consumer<String> log,
      Consumer<EpochResult> onEpoch) {
    trunk.eval();
    List<EpochResult> results = new ArrayList<>();
    EpochSampler sampler = new EpochSampler(train.size(), seed, 0, 1, true);
    int steps = BatchLoader.batchesPerEpoch(train.size(), batchSize, false);
    try (Sgd sgd = new Sgd(ParamGroups.of(heads, regularizeBn, regularizeBias), momentum, weightDecay, nesterov);
        BatchLoader loader = new BatchLoader(train, trainTransform, batchSize, false, workers, seed * 31 + 7)) {
      for (int epoch = 0; epoch < epochs; epoch++) {
        heads.train(true);
        Iterator<Batch> it = loader.epoch(epoch, sampler.indices(epoch), 0);
        double lossSum = 0;
        int count = 0;
        int step = 0;
        double lr = schedule.at((double) epoch / epochs);
        long t0 = System.nanoTime();
        while (it.hasNext()) {
          Batch b = it.next();
          if (interval == LrSchedule.Interval.STEP) {
            lr = schedule.at((double) (epoch * steps + step) / ((long) epochs * steps));
          }
          sgd.setLr(lr);
          try (var scope = Scopes.open()) {
            List<Tensor> feats = features(b);
            Tensor y = Tensors.fromLongs(b.labels(), b.size());
            Tensor loss = null;
            for (int h = 0; h < specs.size(); h++) {
              Tensor l = torch.cross_entropy_loss(heads.forward(h, feats.get(h)), y);
              loss = loss == null ? l : loss.add(l);
            }
            sgd.zeroGrad();
            loss.backward();
            sgd.step();
            lossSum += loss.item_double();
            count++;
          }
          step++;
          if (step % 50 == 0 || step == steps) {
            log.accept(String.format(java.util.Locale.ROOT, "[linear] epoch %d/%d step %d/%d loss %.4f lr %.5f %.0f img/s",
                epoch + 1, epochs, step, steps, lossSum / count, lr, (double) step * batchSize / ((System.nanoTime() - t0) / 1e9)));
          }
        }
        EpochResult r = new EpochResult(epoch + 1, lr, lossSum / Math.max(1, count), test(test, testTransform, testBatchSize, workers));
        results.add(r);
        onEpoch.accept(r);
      }
    }
    return results;
  }

  /** Top-1 and top-5 (percent) of every head on {@code data}. */
  public List<double[]> test(Dataset data, Transform transform, int batchSize, int workers) {
    heads.eval();
    long[] c1 = new long[specs.size()];
    long[] c5 = new long[specs.size()];
    int[] order = new int[data.size()];
    for (int i = 0; i < order.length; i++) {
      order[i] = i;
    }
    try (BatchLoader loader = new BatchLoader(data, transform, batchSize, false, workers, 0); var g = NoGrad.open()) {
      Iterator<Batch> it = loader.epoch(0, order, 0);
      while (it.hasNext()) {
        Batch b = it.next();
        try (var scope = Scopes.open()) {
          List<Tensor> feats = features(b);
          for (int h = 0; h < specs.size(); h++) {
            Tensor logits = heads.forward(h, feats.get(h));
            long[] hits = Hits.count(logits, (int) Math.min(5, logits.size(1)), b.labels(), 0);
            c1[h] += hits[0];
            c5[h] += hits[1];
          }
        }
      }
    }
    List<double[]> out = new ArrayList<>();
    for (int h = 0; h < specs.size(); h++) {
      out.add(new double[] {100.0 * c1[h] / data.size(), 100.0 * c5[h] / data.size()});
    }
    return out;
  }

  /** Frozen trunk features, pooled per head, with no graph behind them. */
  private List<Tensor> features(Batch b) {
    try (var g = NoGrad.open()) {
      Tensor x = Tensors.fromFloats(b.images(), b.shape());
      Map<String, Tensor> f = trunk.forwardLayers(x, layers.stream().map(PooledLayer::layer).distinct().toList());
      List<Tensor> out = new ArrayList<>();
      for (int h = 0; h < layers.size(); h++) {
        Tensor pooled = Features.pool(f.get(layers.get(h).layer()), layers.get(h));
        long flat = pooled.numel() / pooled.size(0);
        HeadSpec s = specs.get(h);
        if (flat != s.inDim() || (s.inChannels() > 0 && pooled.size(1) != s.inChannels())) {
          throw new ConfigError("config.MODEL.HEAD.PARAMS[" + h + "] expects " + (s.inChannels() > 0 ? s.inChannels() + " channels and " : "")
              + s.inDim() + " features, but " + layers.get(h).layer() + " after " + layers.get(h).op() + " gives "
              + pooled.size(1) + " channels and " + flat + " features (" + java.util.Arrays.toString(Tensors.shape(pooled)) + ")");
        }
        out.add(pooled);
      }
      return out;
    }
  }

  /** heads.{i}: eval_mlp = channel_bn + clf (Linear); mlp = clf (Linear). */
  private static final class Heads extends Module {
    private final List<BatchNorm2dImpl> bns = new ArrayList<>();
    private final List<LinearImpl> linears = new ArrayList<>();
    private final List<Module> holders = new ArrayList<>(); // Java peers stay reachable

    Heads(List<HeadSpec> specs, double eps, double momentum) {
      for (int i = 0; i < specs.size(); i++) {
        HeadSpec s = specs.get(i);
        Module h = register_module(Integer.toString(i), new Module());
        holders.add(h);
        bns.add(s.inChannels() > 0 ? h.register_module("channel_bn", Layers.batchNorm2d(s.inChannels(), eps, momentum)) : null);
        LinearImpl lin = h.register_module("clf", Layers.linear(s.inDim(), s.classes(), true));
        try (var g = NoGrad.open()) {
          lin.weight().normal_(0.0, 0.01, null); // VISSL's MLP init
          lin.bias().zero_();
        }
        linears.add(lin);
      }
    }

    Tensor forward(int h, Tensor x) {
      Tensor out = bns.get(h) != null ? bns.get(h).forward(x) : x;
      return linears.get(h).forward(torch.flatten(out, 1, -1));
    }
  }
}
