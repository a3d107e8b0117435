package dev.npid4j.torch;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class CpuFeaturesTest {
  @TempDir
  Path dir;

  private boolean flags(String text) throws Exception {
    Path f = dir.resolve("cpuinfo");
    Files.writeString(f, text);
    return CpuFeatures.hasAnyFlag(f, CpuFeatures.NATIVE_BF16_FLAGS);
  }

  @Test
  void readsTheFlagsLineOfTheFirstCpu() throws Exception {
    assertThat(flags("processor\t: 0\nmodel name\t: AMD EPYC\nflags\t\t: fpu avx2 avx512f avx512_bf16 avx512_vnni\n")).isTrue();
    assertThat(flags("processor\t: 0\nflags\t\t: fpu sse avx2 amx_bf16 amx_tile\n")).isTrue();
  }

  @Test
  void aCpuWithoutBf16DotProductsHasNone() throws Exception {
    // avx512bw and avx512_vnni alone do not make bfloat16 native; a prefix of a flag is no flag
    assertThat(flags("processor\t: 0\nflags\t\t: fpu avx2 avx512f avx512bw avx512_vnni avx512_bf\n")).isFalse();
    assertThat(flags("processor\t: 0\nmodel name\t: no flags line\n")).isFalse();
    assertThat(CpuFeatures.hasAnyFlag(dir.resolve("missing"), List.of("avx512_bf16"))).isFalse();
  }
}
