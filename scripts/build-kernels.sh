#!/usr/bin/env bash
# Compiles npid4j's C kernels (src/main/c) into libnpid4j_kernels.so in the given folder on the
# classpath; run by Maven in the compile phase. Usage: build-kernels.sh OUT_DIR JAVA_HOME
# Without a C compiler it builds nothing and says so: npid4j then runs libtorch's own kernels for
# the same maths, more slowly (dev.npid4j.torch.NativeKernels).
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
OUT="$1"
JHOME="$2"
CC="${CC:-cc}"
LIB="$OUT/libnpid4j_kernels.so"
SOURCES=("$ROOT"/src/main/c/*.c)

if [ "$(uname -m)" != x86_64 ]; then
  echo "npid4j: note: the native kernels are x86-64 code; on $(uname -m) libtorch's BatchNorm runs instead" >&2
  exit 0
fi
if ! command -v "$CC" >/dev/null 2>&1; then
  echo "npid4j: warning: no C compiler ($CC), so the native kernels are not built and libtorch's slower" \
    "BatchNorm runs instead (sudo apt-get install gcc, then rebuild)" >&2
  exit 0
fi
# JAVA_HOME of a JRE inside a JDK (Java 8 layout) has its headers one level up
INC="$JHOME/include"
[ -f "$INC/jni.h" ] || INC="$JHOME/../include"
if [ ! -f "$INC/jni.h" ]; then
  echo "npid4j: warning: no jni.h under $JHOME, so the native kernels are not built (install a JDK:" \
    "openjdk-17-jdk-headless)" >&2
  exit 0
fi
if [ -f "$LIB" ] && [ -z "$(find "${SOURCES[@]}" "${BASH_SOURCE[0]}" -newer "$LIB" -print -quit)" ]; then
  exit 0
fi
mkdir -p "$OUT"
# -ffp-contract=off: the backward recomputes the forward's y = x * alpha + beta for the ReLU mask and
# must round it the same way, so no multiply-add is fused except the explicit fmaf().
if ! "$CC" -O3 -fPIC -shared -fopenmp -ffp-contract=off -fno-math-errno -Wall -Werror \
    -I"$INC" -I"$INC/linux" "${SOURCES[@]}" -o "$LIB.tmp" -lm; then
  rm -f "$LIB.tmp"
  # CI (NPID4J_REQUIRE_KERNELS=1) fails here; elsewhere npid4j still builds, without them
  [ "${NPID4J_REQUIRE_KERNELS:-0}" = 1 ] && exit 1
  echo "npid4j: warning: the native kernels did not compile (above); libtorch's BatchNorm runs instead" >&2
  exit 0
fi
mv "$LIB.tmp" "$LIB"
