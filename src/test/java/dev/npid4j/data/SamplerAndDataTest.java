package dev.npid4j.data;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.npid4j.UserError;
import dev.npid4j.data.transform.Transforms;
import dev.npid4j.torch.Torch;
import java.io.DataOutputStream;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.HashSet;
import java.util.Iterator;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.zip.GZIPOutputStream;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class SamplerAndDataTest {
  @BeforeAll
  static void load() {
    Torch.load();
  }

  @Test
  void samplerIsASeededPermutationPaddedAcrossRanks() {
    EpochSampler one = new EpochSampler(10, 0, 0, 1, true);
    int[] e0 = one.indices(0);
    assertThat(Arrays.stream(e0).sorted().toArray()).containsExactly(0, 1, 2, 3, 4, 5, 6, 7, 8, 9);
    assertThat(one.indices(0)).containsExactly(e0);
    assertThat(one.indices(1)).isNotEqualTo(e0);
    Set<Integer> union = new HashSet<>();
    for (int r = 0; r < 3; r++) {
      int[] part = new EpochSampler(10, 0, r, 3, true).indices(0);
      assertThat(part).hasSize(4); // ceil(10 / 3)
      for (int i = 0; i < part.length; i++) {
        assertThat(part[i]).isEqualTo(e0[(r + 3 * i) % 10]); // rank r takes r, r+W, ... of the padded order
        union.add(part[i]);
      }
    }
    assertThat(union).hasSize(10);
  }

  @Test
  void idxReaderAndLoaderCarryIndicesAndLabels(@TempDir Path dir) throws IOException {
    writeIdx(dir, "train", 7);
    writeIdx(dir, "t10k", 3);
    FashionMnist train = FashionMnist.read(dir, "train");
    assertThat(train.size()).isEqualTo(7);
    assertThat(train.label(5)).isEqualTo(5);
    assertThat(train.image(2).get(0, 1, 1)).isEqualTo((2 + 1 * 4 + 1) % 256);
    Transforms t = Transforms.fromConfig(List.of(Map.of("name", "ToTensor")), "T");
    try (BatchLoader loader = new BatchLoader(train, t, 3, false, 2, 0)) {
      int[] order = {6, 0, 3, 1, 2, 5, 4};
      Iterator<Batch> it = loader.epoch(0, order, 0);
      Batch b0 = it.next();
      assertThat(b0.indices()).containsExactly(6, 0, 3);
      assertThat(b0.labels()).containsExactly(6, 0, 3);
      assertThat(b0.shape()).containsExactly(3, 1, 4, 4);
      assertThat(b0.images()[0]).isEqualTo(6 / 255f);
      assertThat(it.next().indices()).containsExactly(1, 2, 5);
      assertThat(it.next().indices()).containsExactly(4); // drop_last false keeps the short batch
      assertThat(it.hasNext()).isFalse();
      Iterator<Batch> resumed = loader.epoch(0, order, 1);
      assertThat(resumed.next().indices()).containsExactly(1, 2, 5);
    }
  }

  @Test
  void missingOrBrokenFilesAreUserErrors(@TempDir Path dir) throws IOException {
    assertThatThrownBy(() -> FashionMnist.read(dir, "train")).isInstanceOf(UserError.class).hasMessageContaining("not found");
    Files.write(dir.resolve("train-images-idx3-ubyte"), new byte[] {0, 0, 8, 3, 0, 0, 0, 9, 0, 0, 0, 28, 0, 0, 0, 28, 1, 2});
    Files.write(dir.resolve("train-labels-idx1-ubyte"), new byte[] {0, 0, 8, 1, 0, 0, 0, 9});
    assertThatThrownBy(() -> FashionMnist.read(dir, "train")).isInstanceOf(UserError.class).hasMessageContaining("truncated");
  }

  @Test
  void dataLimitDrawsAFixedSubset() {
    Dataset base = new SyntheticDataset(100, 1, 8, 10, 0);
    SubsetDataset a = new SubsetDataset(base, 20, 0);
    SubsetDataset b = new SubsetDataset(base, 20, 0);
    assertThat(a.size()).isEqualTo(20);
    for (int i = 0; i < 20; i++) {
      assertThat(a.label(i)).isEqualTo(b.label(i));
      assertThat(a.image(i).data()).containsExactly(b.image(i).data());
    }
  }

  @Test
  void fashionMnistFromDebianWhenInstalled() {
    org.junit.jupiter.api.Assumptions.assumeTrue(FashionMnist.presentIn(Datasets.DEBIAN_FASHION_MNIST), "dataset-fashion-mnist not installed");
    FashionMnist test = FashionMnist.read(Datasets.DEBIAN_FASHION_MNIST, "test");
    assertThat(test.size()).isEqualTo(10000);
    assertThat(test.numClasses()).isEqualTo(10);
    int[] counts = new int[10];
    for (int i = 0; i < test.size(); i++) {
      counts[test.label(i)]++;
    }
    assertThat(counts).containsOnly(1000);
  }

  /** An IDX pair of n 4x4 images whose pixel (y, x) of image i is (i + 4y + x) % 256 and label i. */
  private static void writeIdx(Path dir, String prefix, int n) throws IOException {
    try (DataOutputStream out = new DataOutputStream(new GZIPOutputStream(Files.newOutputStream(dir.resolve(prefix + "-images-idx3-ubyte.gz"))))) {
      out.writeInt(0x803);
      out.writeInt(n);
      out.writeInt(4);
      out.writeInt(4);
      for (int i = 0; i < n; i++) {
        for (int p = 0; p < 16; p++) {
          out.writeByte((i + p) % 256);
        }
      }
    }
    try (DataOutputStream out = new DataOutputStream(Files.newOutputStream(dir.resolve(prefix + "-labels-idx1-ubyte")))) {
      out.writeInt(0x801);
      out.writeInt(n);
      for (int i = 0; i < n; i++) {
        out.writeByte(i);
      }
    }
  }
}
