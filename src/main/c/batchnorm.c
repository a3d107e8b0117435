/*
 * BatchNorm (optionally followed by ReLU) over an N x C x H x W float32 tensor in training mode:
 * forward and backward, for dev.npid4j.torch.FusedBatchNorm.
 *
 * Why this exists: libtorch's CPU BatchNorm gathers its statistics with a scalar double loop
 * (batch_norm_cpu_collect_stats_contiguous_impl), 17 of the 22 ms of a 32x256x56x56 forward,
 * and ReLU costs two more passes over memory. Here each channel is done by one thread from start
 * to end: its slice (N rows of H*W floats) is read from memory once and the later passes over it
 * mostly hit the core's L2 cache.
 *
 * The arithmetic is libtorch's: two-pass statistics (the mean, then the squared deviations
 * around it) accumulated in double, y = x * alpha + beta with alpha = w * invstd and
 * beta = b - mean * alpha, and the backward
 *   dx = (g - (x - mean) * invstd^2 * sum(g * (x - mean)) / n - sum(g) / n) * invstd * w
 * where g is dy, masked by y > 0 when ReLU is fused. The backward recomputes y from x with the
 * same instructions as the forward, so the mask is that of the forward's output.
 *
 * The loops over rows come in AVX-512, AVX2+FMA and plain versions, chosen once at load time;
 * all three do the same operations in the same order, so they give the same bits.
 *
 * Built by scripts/build-kernels.sh; loaded by dev.npid4j.torch.NativeKernels.
 */
#include <jni.h>
#include <math.h>
#include <stdint.h>
#include <immintrin.h>

/* Partial sums per channel: LANES lanes, and (backward) float partials flushed into double every BLOCK values. */
#define LANES 16
#define BLOCK 512

static inline float affine(float x, float alpha, float beta, int relu) {
  float y = fmaf(x, alpha, beta);
  /* NaN stays NaN, as in torch.relu */
  return relu && y < 0.0f ? 0.0f : y;
}

/* dy, masked by the forward's y > 0 when relu (y recomputed exactly as the forward computed it). */
static inline float masked(float g, float x, float alpha, float beta, const int relu) {
  return relu && !(fmaf(x, alpha, beta) > 0.0f) ? 0.0f : g;
}

static inline float dx_value(float g, float x, float alpha, float beta, float mf, float proj, float grad_mean,
    float gscale, int relu) {
  return (masked(g, x, alpha, beta, relu) - (x - mf) * proj - grad_mean) * gscale;
}

/*
 * The two passes that write a whole tensor (y in the forward, dx in the backward), one row at a
 * time, in AVX-512 or AVX2 where the CPU has it. Long rows are written with non-temporal stores: the output is far larger than the
 * caches, and a plain store first reads each line from memory (a third more traffic) and evicts
 * the input rows the next pass over the channel wants to find in L2. The vector versions do the
 * scalar version's arithmetic, operation for operation (fmaf is one rounding, as vfmadd), so all
 * three give the same bits, and the backward's ReLU mask matches the forward's output.
 */
/* shorter rows share cache lines with their neighbours, and partial-line streaming is slow */
#define STREAM_MIN 1024

static void apply_row_scalar(const float* p, float* q, long len, float alpha, float beta, int relu) {
  for (long i = 0; i < len; i++) q[i] = affine(p[i], alpha, beta, relu);
}

static void dx_row_scalar(const float* g, const float* p, float* q, long len, float alpha, float beta, float mf,
    float proj, float grad_mean, float gscale, int relu) {
  for (long i = 0; i < len; i++) q[i] = dx_value(g[i], p[i], alpha, beta, mf, proj, grad_mean, gscale, relu);
}

__attribute__((target("avx512f,fma")))
static void apply_row_avx512(const float* p, float* q, long len, float alpha, float beta, int relu) {
  const int stream = len >= STREAM_MIN;
  long i = 0;
  if (stream) {
    for (; ((uintptr_t) (q + i) & 63) != 0; i++) q[i] = affine(p[i], alpha, beta, relu);
  }
  const __m512 va = _mm512_set1_ps(alpha), vb = _mm512_set1_ps(beta), z = _mm512_setzero_ps();
  for (; i + 16 <= len; i += 16) {
    __m512 v = _mm512_fmadd_ps(_mm512_loadu_ps(p + i), va, vb);
    if (relu) v = _mm512_max_ps(z, v); /* (z, v): a NaN or -0 in v comes out as it is, as in affine() */
    if (stream) {
      _mm512_stream_ps(q + i, v);
    } else {
      _mm512_storeu_ps(q + i, v);
    }
  }
  for (; i < len; i++) q[i] = affine(p[i], alpha, beta, relu);
}

__attribute__((target("avx512f,fma")))
static void dx_row_avx512(const float* g, const float* p, float* q, long len, float alpha, float beta, float mf,
    float proj, float grad_mean, float gscale, int relu) {
  const int stream = len >= STREAM_MIN;
  long i = 0;
  if (stream) {
    for (; ((uintptr_t) (q + i) & 63) != 0; i++) q[i] = dx_value(g[i], p[i], alpha, beta, mf, proj, grad_mean, gscale, relu);
  }
  const __m512 va = _mm512_set1_ps(alpha), vb = _mm512_set1_ps(beta), z = _mm512_setzero_ps();
  const __m512 vm = _mm512_set1_ps(mf), vp = _mm512_set1_ps(proj), vg = _mm512_set1_ps(grad_mean), vs = _mm512_set1_ps(gscale);
  for (; i + 16 <= len; i += 16) {
    __m512 x = _mm512_loadu_ps(p + i);
    __m512 gi = _mm512_loadu_ps(g + i);
    if (relu) gi = _mm512_maskz_mov_ps(_mm512_cmp_ps_mask(_mm512_fmadd_ps(x, va, vb), z, _CMP_GT_OQ), gi);
    __m512 u = _mm512_sub_ps(gi, _mm512_mul_ps(_mm512_sub_ps(x, vm), vp));
    __m512 d = _mm512_mul_ps(_mm512_sub_ps(u, vg), vs);
    if (stream) {
      _mm512_stream_ps(q + i, d);
    } else {
      _mm512_storeu_ps(q + i, d);
    }
  }
  for (; i < len; i++) q[i] = dx_value(g[i], p[i], alpha, beta, mf, proj, grad_mean, gscale, relu);
}

__attribute__((target("avx2,fma")))
static void apply_row_avx2(const float* p, float* q, long len, float alpha, float beta, int relu) {
  const int stream = len >= STREAM_MIN;
  long i = 0;
  if (stream) {
    for (; ((uintptr_t) (q + i) & 31) != 0; i++) q[i] = affine(p[i], alpha, beta, relu);
  }
  const __m256 va = _mm256_set1_ps(alpha), vb = _mm256_set1_ps(beta), z = _mm256_setzero_ps();
  for (; i + 8 <= len; i += 8) {
    __m256 v = _mm256_fmadd_ps(_mm256_loadu_ps(p + i), va, vb);
    if (relu) v = _mm256_max_ps(z, v);
    if (stream) {
      _mm256_stream_ps(q + i, v);
    } else {
      _mm256_storeu_ps(q + i, v);
    }
  }
  for (; i < len; i++) q[i] = affine(p[i], alpha, beta, relu);
}

__attribute__((target("avx2,fma")))
static void dx_row_avx2(const float* g, const float* p, float* q, long len, float alpha, float beta, float mf,
    float proj, float grad_mean, float gscale, int relu) {
  const int stream = len >= STREAM_MIN;
  long i = 0;
  if (stream) {
    for (; ((uintptr_t) (q + i) & 31) != 0; i++) q[i] = dx_value(g[i], p[i], alpha, beta, mf, proj, grad_mean, gscale, relu);
  }
  const __m256 va = _mm256_set1_ps(alpha), vb = _mm256_set1_ps(beta), z = _mm256_setzero_ps();
  const __m256 vm = _mm256_set1_ps(mf), vp = _mm256_set1_ps(proj), vg = _mm256_set1_ps(grad_mean), vs = _mm256_set1_ps(gscale);
  for (; i + 8 <= len; i += 8) {
    __m256 x = _mm256_loadu_ps(p + i);
    __m256 gi = _mm256_loadu_ps(g + i);
    if (relu) gi = _mm256_and_ps(_mm256_cmp_ps(_mm256_fmadd_ps(x, va, vb), z, _CMP_GT_OQ), gi);
    __m256 u = _mm256_sub_ps(gi, _mm256_mul_ps(_mm256_sub_ps(x, vm), vp));
    __m256 d = _mm256_mul_ps(_mm256_sub_ps(u, vg), vs);
    if (stream) {
      _mm256_stream_ps(q + i, d);
    } else {
      _mm256_storeu_ps(q + i, d);
    }
  }
  for (; i < len; i++) q[i] = dx_value(g[i], p[i], alpha, beta, mf, proj, grad_mean, gscale, relu);
}

/*
 * The backward's reduction over one row: adds the (masked) dy and dy * (x - mean) into LANES
 * float partial sums each. Written out in vector code because the compiler vectorises the
 * plain loop for one ReLU setting and not the other (2x slower).
 */
static void reduce_row_scalar(const float* g, const float* p, long len, float alpha, float beta, float mf, int relu,
    float* acc_g, float* acc_d) {
  long i = 0;
  for (; i + LANES <= len; i += LANES) {
    for (int j = 0; j < LANES; j++) {
      float gi = masked(g[i + j], p[i + j], alpha, beta, relu);
      acc_g[j] += gi;
      acc_d[j] += gi * (p[i + j] - mf);
    }
  }
  for (; i < len; i++) {
    float gi = masked(g[i], p[i], alpha, beta, relu);
    acc_g[0] += gi;
    acc_d[0] += gi * (p[i] - mf);
  }
}

__attribute__((target("avx512f,fma")))
static void reduce_row_avx512(const float* g, const float* p, long len, float alpha, float beta, float mf, int relu,
    float* acc_g, float* acc_d) {
  __m512 sg = _mm512_loadu_ps(acc_g), sd = _mm512_loadu_ps(acc_d);
  const __m512 va = _mm512_set1_ps(alpha), vb = _mm512_set1_ps(beta), vm = _mm512_set1_ps(mf), z = _mm512_setzero_ps();
  long i = 0;
  for (; i + 16 <= len; i += 16) {
    __m512 x = _mm512_loadu_ps(p + i);
    __m512 gi = _mm512_loadu_ps(g + i);
    if (relu) gi = _mm512_maskz_mov_ps(_mm512_cmp_ps_mask(_mm512_fmadd_ps(x, va, vb), z, _CMP_GT_OQ), gi);
    sg = _mm512_add_ps(sg, gi);
    sd = _mm512_add_ps(sd, _mm512_mul_ps(gi, _mm512_sub_ps(x, vm)));
  }
  _mm512_storeu_ps(acc_g, sg);
  _mm512_storeu_ps(acc_d, sd);
  for (; i < len; i++) {
    float gi = masked(g[i], p[i], alpha, beta, relu);
    acc_g[0] += gi;
    acc_d[0] += gi * (p[i] - mf);
  }
}

__attribute__((target("avx2,fma")))
static void reduce_row_avx2(const float* g, const float* p, long len, float alpha, float beta, float mf, int relu,
    float* acc_g, float* acc_d) {
  __m256 sg0 = _mm256_loadu_ps(acc_g), sg1 = _mm256_loadu_ps(acc_g + 8);
  __m256 sd0 = _mm256_loadu_ps(acc_d), sd1 = _mm256_loadu_ps(acc_d + 8);
  const __m256 va = _mm256_set1_ps(alpha), vb = _mm256_set1_ps(beta), vm = _mm256_set1_ps(mf), z = _mm256_setzero_ps();
  long i = 0;
  for (; i + 16 <= len; i += 16) {
    __m256 x0 = _mm256_loadu_ps(p + i), x1 = _mm256_loadu_ps(p + i + 8);
    __m256 g0 = _mm256_loadu_ps(g + i), g1 = _mm256_loadu_ps(g + i + 8);
    if (relu) {
      g0 = _mm256_and_ps(_mm256_cmp_ps(_mm256_fmadd_ps(x0, va, vb), z, _CMP_GT_OQ), g0);
      g1 = _mm256_and_ps(_mm256_cmp_ps(_mm256_fmadd_ps(x1, va, vb), z, _CMP_GT_OQ), g1);
    }
    sg0 = _mm256_add_ps(sg0, g0);
    sg1 = _mm256_add_ps(sg1, g1);
    sd0 = _mm256_add_ps(sd0, _mm256_mul_ps(g0, _mm256_sub_ps(x0, vm)));
    sd1 = _mm256_add_ps(sd1, _mm256_mul_ps(g1, _mm256_sub_ps(x1, vm)));
  }
  _mm256_storeu_ps(acc_g, sg0);
  _mm256_storeu_ps(acc_g + 8, sg1);
  _mm256_storeu_ps(acc_d, sd0);
  _mm256_storeu_ps(acc_d + 8, sd1);
  for (; i < len; i++) {
    float gi = masked(g[i], p[i], alpha, beta, relu);
    acc_g[0] += gi;
    acc_d[0] += gi * (p[i] - mf);
  }
}

/*
 * One row's sum (mf null) or sum of (x - *mf)^2 into LANES double partial sums; the deviation
 * and its square in float, the sum in double, as libtorch's batch_norm_cpu_collect_stats.
 */
static void stats_row_scalar(const float* p, long len, const float* mf, double* acc) {
  long i = 0;
  if (mf) {
    const float m = *mf;
    for (; i + LANES <= len; i += LANES) {
      for (int j = 0; j < LANES; j++) {
        float d = p[i + j] - m;
        acc[j] += (double) (d * d);
      }
    }
    for (; i < len; i++) {
      float d = p[i] - m;
      acc[0] += (double) (d * d);
    }
  } else {
    for (; i + LANES <= len; i += LANES) {
      for (int j = 0; j < LANES; j++) acc[j] += (double) p[i + j];
    }
    for (; i < len; i++) acc[0] += (double) p[i];
  }
}

__attribute__((target("avx512f,fma")))
static void stats_row_avx512(const float* p, long len, const float* mf, double* acc) {
  __m512d lo = _mm512_loadu_pd(acc), hi = _mm512_loadu_pd(acc + 8);
  long i = 0;
  if (mf) {
    const __m512 m = _mm512_set1_ps(*mf);
    for (; i + 16 <= len; i += 16) {
      __m512 d = _mm512_sub_ps(_mm512_loadu_ps(p + i), m);
      d = _mm512_mul_ps(d, d);
      lo = _mm512_add_pd(lo, _mm512_cvtps_pd(_mm512_castps512_ps256(d)));
      hi = _mm512_add_pd(hi, _mm512_cvtps_pd(_mm256_castpd_ps(_mm512_extractf64x4_pd(_mm512_castps_pd(d), 1))));
    }
  } else {
    for (; i + 16 <= len; i += 16) {
      __m512 v = _mm512_loadu_ps(p + i);
      lo = _mm512_add_pd(lo, _mm512_cvtps_pd(_mm512_castps512_ps256(v)));
      hi = _mm512_add_pd(hi, _mm512_cvtps_pd(_mm256_castpd_ps(_mm512_extractf64x4_pd(_mm512_castps_pd(v), 1))));
    }
  }
  _mm512_storeu_pd(acc, lo);
  _mm512_storeu_pd(acc + 8, hi);
  stats_row_scalar(p + i, len - i, mf, acc);
}

__attribute__((target("avx2,fma")))
static void stats_row_avx2(const float* p, long len, const float* mf, double* acc) {
  __m256d a0 = _mm256_loadu_pd(acc), a1 = _mm256_loadu_pd(acc + 4), a2 = _mm256_loadu_pd(acc + 8), a3 = _mm256_loadu_pd(acc + 12);
  long i = 0;
  const __m256 m = _mm256_set1_ps(mf ? *mf : 0.0f);
  for (; i + 16 <= len; i += 16) {
    __m256 v0 = _mm256_loadu_ps(p + i), v1 = _mm256_loadu_ps(p + i + 8);
    if (mf) {
      v0 = _mm256_sub_ps(v0, m);
      v1 = _mm256_sub_ps(v1, m);
      v0 = _mm256_mul_ps(v0, v0);
      v1 = _mm256_mul_ps(v1, v1);
    }
    a0 = _mm256_add_pd(a0, _mm256_cvtps_pd(_mm256_castps256_ps128(v0)));
    a1 = _mm256_add_pd(a1, _mm256_cvtps_pd(_mm256_extractf128_ps(v0, 1)));
    a2 = _mm256_add_pd(a2, _mm256_cvtps_pd(_mm256_castps256_ps128(v1)));
    a3 = _mm256_add_pd(a3, _mm256_cvtps_pd(_mm256_extractf128_ps(v1, 1)));
  }
  _mm256_storeu_pd(acc, a0);
  _mm256_storeu_pd(acc + 4, a1);
  _mm256_storeu_pd(acc + 8, a2);
  _mm256_storeu_pd(acc + 12, a3);
  stats_row_scalar(p + i, len - i, mf, acc);
}

static void (*apply_row)(const float*, float*, long, float, float, int) = apply_row_scalar;
static void (*dx_row)(const float*, const float*, float*, long, float, float, float, float, float, float, int) = dx_row_scalar;
static void (*reduce_row)(const float*, const float*, long, float, float, float, int, float*, float*) = reduce_row_scalar;
static void (*stats_row)(const float*, long, const float*, double*) = stats_row_scalar;

/* 2: AVX-512, 1: AVX2+FMA, 0: plain; whether this CPU has it */
static int isa_supported(int level) {
  __builtin_cpu_init();
  switch (level) {
    case 2: return __builtin_cpu_supports("avx512f");
    case 1: return __builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma");
    case 0: return 1;
    default: return 0;
  }
}

static void use_isa(int level) {
  if (level == 2) {
    apply_row = apply_row_avx512;
    dx_row = dx_row_avx512;
    reduce_row = reduce_row_avx512;
    stats_row = stats_row_avx512;
  } else if (level == 1) {
    apply_row = apply_row_avx2;
    dx_row = dx_row_avx2;
    reduce_row = reduce_row_avx2;
    stats_row = stats_row_avx2;
  } else {
    apply_row = apply_row_scalar;
    dx_row = dx_row_scalar;
    reduce_row = reduce_row_scalar;
    stats_row = stats_row_scalar;
  }
}

__attribute__((constructor))
static void choose_rows(void) {
  use_isa(isa_supported(2) ? 2 : isa_supported(1) ? 1 : 0);
}

/*
 * The backward's sums: float partial sums in LANES lanes, flushed into a double every BLOCK or
 * so values, so each float sum holds few terms. Short rows (7x7 maps) share one set of partials,
 * so the flush does not dominate.
 */
#define FLUSH(acc, total)                        \
  do {                                           \
    float part_ = 0.0f;                          \
    for (int j_ = 0; j_ < LANES; j_++) {         \
      part_ += (acc)[j_];                        \
      (acc)[j_] = 0.0f;                          \
    }                                            \
    (total) += part_;                            \
  } while (0)

/*
 * Sum (mf_in null) or sum of squared deviations from *mf_in of the n rows of one channel (row
 * stride c * hw), accumulated in double as libtorch does. Float partial sums would be faster,
 * but the mean must round as libtorch's does: in flat image regions the whole region sits at
 * the mean, and the last bit of the mean decides the sign of its normalised value and so the
 * ReLU mask (a one-step ResNet-18 gradient moved by 2.5% with float partials).
 */
static inline __attribute__((always_inline)) double channel_stats(const float* x, long ch, long n, long c, long hw,
    const float* mf_in) {
  double acc[LANES] = {0};
  for (long r = 0; r < n; r++) {
    stats_row(x + (r * c + ch) * hw, hw, mf_in, acc);
  }
  double total = 0.0;
  for (int j = 0; j < LANES; j++) total += acc[j];
  return total;
}

/* The forward of one channel, for relu fixed at compile time (so the loops vectorise). */
static inline __attribute__((always_inline)) void forward_channel(const float* x, float* y, const float* w,
    const float* b, float* mean_out, float* var_out, float* invstd_out, long ch, long n, long c, long hw,
    double eps, const int relu) {
  const double count = (double) n * (double) hw;
  const float mf = (float) (channel_stats(x, ch, n, c, hw, 0) / count);
  const double sq = channel_stats(x, ch, n, c, hw, &mf);
  const double var = sq / count;
  const float is = (float) (1.0 / sqrt(var + eps));
  mean_out[ch] = mf;
  var_out[ch] = (float) var;
  invstd_out[ch] = is;
  const float alpha = (w ? w[ch] : 1.0f) * is;
  const float beta = (b ? b[ch] : 0.0f) - mf * alpha;
  for (long r = 0; r < n; r++) {
    apply_row(x + (r * c + ch) * hw, y + (r * c + ch) * hw, hw, alpha, beta, relu);
  }
  _mm_sfence(); /* the non-temporal stores are visible before the parallel region ends */
}

static void forward_impl(const float* x, float* y, const float* w, const float* b, float* mean_out,
    float* var_out, float* invstd_out, long n, long c, long hw, double eps, int relu, int threads) {
#pragma omp parallel for schedule(dynamic, 1) num_threads(threads)
  for (long ch = 0; ch < c; ch++) {
    if (relu) {
      forward_channel(x, y, w, b, mean_out, var_out, invstd_out, ch, n, c, hw, eps, 1);
    } else {
      forward_channel(x, y, w, b, mean_out, var_out, invstd_out, ch, n, c, hw, eps, 0);
    }
  }
}

static inline __attribute__((always_inline)) void backward_channel(const float* dy, const float* x, float* dx,
    const float* w, const float* b, const float* mean, const float* invstd, float* dw_out, float* db_out, long ch,
    long n, long c, long hw, const int relu) {
  const double count = (double) n * (double) hw;
  const float mf = mean[ch];
  const float is = invstd[ch];
  const float wc = w ? w[ch] : 1.0f;
  const float alpha = wc * is;
  const float beta = (b ? b[ch] : 0.0f) - mf * alpha;
  double sum_g = 0.0, dot = 0.0;
  float acc_g[LANES] = {0}, acc_d[LANES] = {0};
  long pending = 0;
  for (long r = 0; r < n; r++) {
    const float* p = x + (r * c + ch) * hw;
    const float* g = dy + (r * c + ch) * hw;
    for (long s = 0; s < hw;) {
      long e = s + (BLOCK - pending) < hw ? s + (BLOCK - pending) : hw;
      reduce_row(g + s, p + s, e - s, alpha, beta, mf, relu, acc_g, acc_d);
      pending += e - s;
      s = e;
      if (pending >= BLOCK) {
        FLUSH(acc_g, sum_g);
        FLUSH(acc_d, dot);
        pending = 0;
      }
    }
  }
  FLUSH(acc_g, sum_g);
  FLUSH(acc_d, dot);
  if (db_out) db_out[ch] = (float) sum_g;
  if (dw_out) dw_out[ch] = (float) (dot * is);
  if (!dx) return;
  const float grad_mean = (float) (sum_g / count);
  const float proj = (float) (dot / count * is * is);
  const float gscale = is * wc;
  for (long r = 0; r < n; r++) {
    long o = (r * c + ch) * hw;
    dx_row(dy + o, x + o, dx + o, hw, alpha, beta, mf, proj, grad_mean, gscale, relu);
  }
  _mm_sfence();
}

static void backward_impl(const float* dy, const float* x, float* dx, const float* w, const float* b,
    const float* mean, const float* invstd, float* dw_out, float* db_out, long n, long c, long hw,
    int relu, int threads) {
#pragma omp parallel for schedule(dynamic, 1) num_threads(threads)
  for (long ch = 0; ch < c; ch++) {
    if (relu) {
      backward_channel(dy, x, dx, w, b, mean, invstd, dw_out, db_out, ch, n, c, hw, 1);
    } else {
      backward_channel(dy, x, dx, w, b, mean, invstd, dw_out, db_out, ch, n, c, hw, 0);
    }
  }
}

#define F(a) ((float*) (intptr_t) (a))
#define CF(a) ((const float*) (intptr_t) (a))

/*
 * torch.nn.BatchNorm's running-statistics update, in double as libtorch's: num_batches_tracked
 * counts steps, and the running mean and the unbiased running variance move by momentum (a
 * cumulative average when momentum < 0, PyTorch's None). Here, not in Java, because six small
 * tensor ops per layer cost more than the update itself on small models.
 */
static void update_running(float* run_mean, float* run_var, int64_t* batches, const float* mean, const float* var,
    long c, double count, double momentum) {
  double m = momentum;
  if (batches) {
    *batches += 1;
    if (momentum < 0) m = 1.0 / (double) *batches;
  } else if (momentum < 0) {
    m = 1.0;
  }
  const double unbias = count / (count - 1.0);
  for (long ch = 0; ch < c; ch++) {
    run_mean[ch] = (float) (m * (double) mean[ch] + (1.0 - m) * (double) run_mean[ch]);
    run_var[ch] = (float) (m * (double) var[ch] * unbias + (1.0 - m) * (double) run_var[ch]);
  }
}

JNIEXPORT void JNICALL Java_dev_npid4j_torch_NativeKernels_batchNormForward(JNIEnv* env, jclass cls,
    jlong x, jlong y, jlong w, jlong b, jlong mean, jlong var, jlong invstd, jlong runMean, jlong runVar,
    jlong batches, jdouble momentum, jlong n, jlong c, jlong hw, jdouble eps, jboolean relu, jint threads) {
  (void) env;
  (void) cls;
  forward_impl(CF(x), F(y), CF(w), CF(b), F(mean), F(var), F(invstd), n, c, hw, eps, relu, threads);
  if (runMean && runVar) {
    update_running(F(runMean), F(runVar), (int64_t*) (intptr_t) batches, CF(mean), CF(var), c, (double) n * (double) hw,
        momentum);
  }
}

JNIEXPORT void JNICALL Java_dev_npid4j_torch_NativeKernels_batchNormBackward(JNIEnv* env, jclass cls,
    jlong dy, jlong x, jlong dx, jlong w, jlong b, jlong mean, jlong invstd, jlong dw, jlong db, jlong n,
    jlong c, jlong hw, jboolean relu, jint threads) {
  (void) env;
  (void) cls;
  backward_impl(CF(dy), CF(x), F(dx), CF(w), CF(b), CF(mean), CF(invstd), F(dw), F(db), n, c, hw, relu, threads);
}

/* Tests: switch the row loops to another instruction set (-1: the best this CPU has). Returns the
 * level now in use, or -1 (nothing changed) when the CPU lacks it. */
JNIEXPORT jint JNICALL Java_dev_npid4j_torch_NativeKernels_useInstructionSet(JNIEnv* env, jclass cls, jint level) {
  (void) env;
  (void) cls;
  if (level < 0) level = isa_supported(2) ? 2 : isa_supported(1) ? 1 : 0;
  if (!isa_supported(level)) return -1;
  use_isa(level);
  return level;
}
