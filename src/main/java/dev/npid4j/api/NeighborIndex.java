package dev.npid4j.api;

import dev.npid4j.eval.WeightedKnn;
import dev.npid4j.formats.Py;
import dev.npid4j.formats.TorchFiles;
import dev.npid4j.torch.NoGrad;
import dev.npid4j.torch.Ops;
import dev.npid4j.torch.Scopes;
import dev.npid4j.torch.Tensors;
import dev.npid4j.weights.CheckpointFile;
import java.io.IOException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.bytedeco.pytorch.Tensor;
import org.bytedeco.pytorch.global.torch.ScalarType;

/**
 * Cosine nearest neighbours over a set of embeddings, with optional labels and NPID's weighted
 * vote. Built from vectors (an {@link Embedder}'s, or any) or from a training run's memory bank;
 * saved and loaded as a file that PyTorch also reads ({@code torch.load(f, weights_only=True)}:
 * {@code ["vectors"]}, {@code ["labels"]}).
 *
 * <p>A search is the chunked matrix product, top-k and (for {@link #classify}) one
 * scatter-add of NPID's kNN ({@code npid4j bench knn}: 60,000 x 10,000 at k=200 in 2.4 s on 2
 * cores, 1.34x PyTorch 2.13's tightest loop for the same result). Thread-safe: searches only read.
 */
public final class NeighborIndex implements AutoCloseable {
  /** What the index file says it is. */
  static final String FORMAT = "npid4j-neighbor-index-1";
  /** Similarities held at once while searching a batch of queries: the chunk size follows from it. */
  private static final long CHUNK_VALUES = 64L << 20;

  /** One neighbour: its id (row in the index), cosine similarity to the query, and its label (-1 when unlabelled). */
  public record Neighbor(int id, float similarity, int label) {}

  private final Tensor vectors;
  private final long[] labels;

  private NeighborIndex(Tensor vectors, long[] labels) {
    this.vectors = vectors;
    this.labels = labels;
  }

  /**
   * An index over {@code vectors} (one row each; L2-normalised here, so that similarity is the
   * cosine), with {@code labels} (one per row, class ids from 0) or null.
   *
   * @param vectors the rows to search, all of one length
   * @param labels one class id per row, or null
   * @return the index
   */
  public static NeighborIndex of(float[][] vectors, int[] labels) {
    if (vectors.length == 0) {
      throw new Npid4jException("an index needs at least one vector");
    }
    int d = vectors[0].length;
    float[] flat = new float[vectors.length * d];
    for (int i = 0; i < vectors.length; i++) {
      if (vectors[i].length != d) {
        throw new Npid4jException("vector " + i + " has " + vectors[i].length + " values, vector 0 has " + d);
      }
      System.arraycopy(vectors[i], 0, flat, i * d, d);
    }
    return build(flat, vectors.length, d, labels);
  }

  /**
   * The memory bank of an npid4j checkpoint (one row per training image, in data-set order) as
   * an index; {@code labels} are the training set's, in the same order, or null.
   *
   * @param checkpoint an npid4j checkpoint ({@code checkpoint.torch} of a run directory)
   * @param labels the training images' class ids in data-set order, or null
   * @return the index
   */
  public static NeighborIndex fromCheckpoint(Path checkpoint, int[] labels) {
    return Npid4jException.wrap(() -> {
      try (var s = Scopes.open(); CheckpointFile ck = CheckpointFile.read(checkpoint)) {
        Tensor bank = ck.memory().to(ScalarType.Float).contiguous();
        return build(Tensors.toFloats(bank), (int) bank.size(0), (int) bank.size(1), labels);
      }
    });
  }

  private static NeighborIndex build(float[] flat, int n, int d, int[] labels) {
    if (labels != null && labels.length != n) {
      throw new Npid4jException(labels.length + " labels for " + n + " vectors");
    }
    long[] l = new long[n];
    Arrays.fill(l, -1);
    if (labels != null) {
      for (int i = 0; i < n; i++) {
        if (labels[i] < 0) {
          throw new Npid4jException("label " + i + " is " + labels[i] + "; labels are class ids from 0");
        }
        l[i] = labels[i];
      }
    }
    try (var s = Scopes.open(); var g = NoGrad.open()) {
      return new NeighborIndex(Tensors.keep(Ops.l2Normalize(Tensors.fromFloats(flat, n, d))), l);
    }
  }

  /**
   * The number of entries.
   *
   * @return rows in the index
   */
  public int size() {
    return (int) vectors.size(0);
  }

  /**
   * The length of the vectors.
   *
   * @return the vectors' dimension
   */
  public int dimension() {
    return (int) vectors.size(1);
  }

  /**
   * The {@code k} most similar entries to {@code query}, most similar first.
   *
   * @param query a vector of {@link #dimension()} values (normalised here)
   * @param k how many neighbours
   * @return the neighbours, most similar first
   */
  public List<Neighbor> search(float[] query, int k) {
    return search(new float[][] {query}, k).get(0);
  }

  /**
   * For each query, its {@code k} most similar entries, most similar first.
   *
   * @param queries vectors of {@link #dimension()} values (normalised here)
   * @param k how many neighbours per query
   * @return one list of neighbours per query
   */
  public List<List<Neighbor>> search(float[][] queries, int k) {
    int kk = Math.min(k, size());
    if (kk < 1) {
      throw new Npid4jException("k must be at least 1, got " + k);
    }
    Tensor q = queryTensor(queries);
    List<List<Neighbor>> out = new ArrayList<>(queries.length);
    int chunk = (int) Math.max(1, Math.min(queries.length, CHUNK_VALUES / size()));
    try (var s = Scopes.open(); var g = NoGrad.open()) {
      Tensor t = vectors.t();
      for (int from = 0; from < queries.length; from += chunk) {
        try (var c = Scopes.open()) {
          int n = Math.min(chunk, queries.length - from);
          Ops.TopK top = Ops.topk(q.narrow(0, from, n).mm(t), kk);
          float[] sims = Tensors.toFloats(top.values());
          long[] ids = Tensors.toLongs(top.indices());
          for (int i = 0; i < n; i++) {
            List<Neighbor> row = new ArrayList<>(kk);
            for (int j = 0; j < kk; j++) {
              int id = (int) ids[i * kk + j];
              row.add(new Neighbor(id, sims[i * kk + j], (int) labels[id]));
            }
            out.add(row);
          }
        }
      }
    } finally {
      q.close();
    }
    return out;
  }

  /**
   * NPID's weighted kNN vote for {@code query}: its {@code k} nearest entries vote for their
   * labels with weight exp(similarity / sigma) (NPID and VISSL use k=200, sigma=0.07); the label
   * with the largest total wins.
   *
   * @param query a vector of {@link #dimension()} values
   * @param k how many neighbours vote
   * @param sigma the vote's temperature
   * @return the winning label
   */
  public int classify(float[] query, int k, double sigma) {
    if (labels.length > 0 && labels[0] < 0) {
      throw new Npid4jException("this index has no labels to vote with");
    }
    int classes = 0;
    for (long l : labels) {
      classes = (int) Math.max(classes, l + 1);
    }
    Tensor q = queryTensor(new float[][] {query});
    try (var s = Scopes.open()) {
      return WeightedKnn.predict(vectors, labels, q, Math.min(k, size()), sigma, classes)[0];
    } finally {
      q.close();
    }
  }

  private Tensor queryTensor(float[][] queries) {
    int d = dimension();
    float[] flat = new float[queries.length * d];
    for (int i = 0; i < queries.length; i++) {
      if (queries[i].length != d) {
        throw new Npid4jException("query " + i + " has " + queries[i].length + " values; this index holds " + d + "-d vectors");
      }
      System.arraycopy(queries[i], 0, flat, i * d, d);
    }
    try (var s = Scopes.open(); var g = NoGrad.open()) {
      return Tensors.keep(Ops.l2Normalize(Tensors.fromFloats(flat, queries.length, d)));
    }
  }

  /**
   * Writes the index to {@code file} (atomically), in torch.save's format.
   *
   * @param file where to write
   * @throws IOException when it cannot be written
   */
  public void save(Path file) throws IOException {
    Map<String, Object> root = new LinkedHashMap<>();
    root.put("format", FORMAT);
    root.put("vectors", vectors);
    try (var s = Scopes.open()) {
      root.put("labels", Tensors.fromLongs(labels, labels.length));
      TorchFiles.save(file, root);
    }
  }

  /**
   * Reads an index {@link #save} wrote, through the same checked reader as every weights file.
   *
   * @param file an index file
   * @return the index
   * @throws Npid4jException when the file is not an index, or not a readable one
   */
  public static NeighborIndex load(Path file) {
    return Npid4jException.wrap(() -> {
      Object v = TorchFiles.load(file);
      if (!(v instanceof Map<?, ?> m) || !FORMAT.equals(m.get("format")) || !(m.get("vectors") instanceof Tensor vec)
          || !(m.get("labels") instanceof Tensor lab)) {
        throw new Npid4jException(file + " is not an npid4j neighbour index (" + FORMAT + ": format, vectors, labels)");
      }
      if (vec.dim() != 2 || vec.size(0) < 1 || lab.dim() != 1 || lab.size(0) != vec.size(0) || vec.is_floating_point() == false
          || lab.is_floating_point()) {
        throw new Npid4jException(file + " holds " + Py.typeName(vec) + " vectors and labels that do not match (" + vec.dim() + "-d, "
            + lab.numel() + " labels)");
      }
      long[] labels = Tensors.toLongs(lab.to(ScalarType.Long));
      for (long l : labels) {
        if (l < -1) {
          throw new Npid4jException(file + " holds a label of " + l);
        }
      }
      try (var s = Scopes.open()) {
        return new NeighborIndex(Tensors.keep(Ops.l2Normalize(vec.to(ScalarType.Float).contiguous())), labels);
      }
    });
  }

  /** Frees the vectors. */
  @Override
  public void close() {
    vectors.close();
  }
}
