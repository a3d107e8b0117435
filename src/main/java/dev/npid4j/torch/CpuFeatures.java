package dev.npid4j.torch;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.List;

/** What the CPU computes natively, read from the kernel's view of it ({@code /proc/cpuinfo}). */
public final class CpuFeatures {
  /** Instruction-set flags with which oneDNN runs bfloat16 convolutions and matrix products natively. */
  public static final List<String> NATIVE_BF16_FLAGS = List.of("avx512_bf16", "amx_bf16");

  private static volatile Boolean nativeBf16;

  private CpuFeatures() {}

  /**
   * Whether the CPU has bfloat16 dot products (AVX512-BF16 or AMX). Without them oneDNN emulates
   * bfloat16 or falls back to reference kernels, and a bfloat16 forward is slower than float32.
   * False where {@code /proc/cpuinfo} cannot be read (not Linux).
   */
  public static boolean nativeBf16() {
    Boolean v = nativeBf16;
    if (v == null) {
      v = hasAnyFlag(Path.of("/proc/cpuinfo"), NATIVE_BF16_FLAGS);
      nativeBf16 = v;
    }
    return v;
  }

  static boolean hasAnyFlag(Path cpuinfo, List<String> wanted) {
    try (var lines = Files.lines(cpuinfo)) {
      return lines.filter(l -> l.startsWith("flags"))
          .findFirst()
          .map(l -> Arrays.asList(l.substring(l.indexOf(':') + 1).trim().split("\\s+")))
          .map(flags -> wanted.stream().anyMatch(flags::contains))
          .orElse(false);
    } catch (IOException | UncheckedIOException e) {
      return false;
    }
  }
}
