// int8 micro-kernel for AVX-VNNI (VEX-encoded VPDPBUSD on ymm, e.g. Alder Lake, Zen 5 on its
// AVX2 path): 4 rows × 16 columns in 8 ymm accumulators, 4 k per instruction (4 u8 of A
// broadcast against 16 columns' 4 s8 of one W panel row). The accumulators start at the
// columns' comp; dequantized as the reference (gemm/int8.h). Edge columns go through a buffer.
#include <immintrin.h>

#include <cstdint>
#include <cstring>

#include "gemm/gemm_int8.h"

namespace frnn {

// ci = (ai ? ai + v : v) for the n <= 8 columns of one row.
static inline void store_row(float* ci, const float* ai, __m256i acc, __m256 sa, __m256 sw, size_t n) {
  __m256 v = _mm256_mul_ps(_mm256_mul_ps(_mm256_cvtepi32_ps(acc), sa), sw);
  if (n >= 8) {
    if (ai) v = _mm256_add_ps(_mm256_loadu_ps(ai), v);
    _mm256_storeu_ps(ci, v);
    return;
  }
  float tmp[8] = {};
  if (ai) std::memcpy(tmp, ai, n * sizeof(float));
  if (ai) v = _mm256_add_ps(_mm256_loadu_ps(tmp), v);
  _mm256_storeu_ps(tmp, v);
  std::memcpy(ci, tmp, n * sizeof(float));
}

// acc += Σ of 4 u8·s8 per lane, VEX-encoded. Inline asm for the reason given in
// int8_ukernel_avx512vnni.cc (GCC copies the accumulators around the intrinsic).
static inline void dpbusd(__m256i& acc, __m256i a, __m256i w) {
#if defined(__GNUC__)
  __asm__("%{vex%} vpdpbusd %2, %1, %0" : "+x"(acc) : "x"(a), "x"(w));
#else
  acc = _mm256_dpbusd_avx_epi32(acc, a, w);
#endif
}

template <int M>
static void kernel_4x16(size_t n, size_t k4, const uint8_t* a, size_t lda, const float* a_scale, const int8_t* w,
                        const int32_t* w_comp, const float* w_scale, float* c, size_t ldc,
                        const float* add, size_t ld_add) {
  __m256i acc0[M], acc1[M];
  const __m256i comp0 = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(w_comp));
  const __m256i comp1 = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(w_comp + 8));
#pragma GCC unroll 4
  for (int i = 0; i < M; ++i) {
    acc0[i] = comp0;
    acc1[i] = comp1;
  }
  for (size_t p = 0; p < k4; ++p) {
    const __m256i w0 = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(w + p * 64));
    const __m256i w1 = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(w + p * 64 + 32));
#pragma GCC unroll 4
    for (int i = 0; i < M; ++i) {
      int32_t quad;
      std::memcpy(&quad, a + i * lda + 4 * p, sizeof quad);
      const __m256i ai = _mm256_set1_epi32(quad);
      dpbusd(acc0[i], ai, w0);
      dpbusd(acc1[i], ai, w1);
    }
  }
  const __m256 sw0 = _mm256_loadu_ps(w_scale), sw1 = _mm256_loadu_ps(w_scale + 8);
#pragma GCC unroll 4
  for (int i = 0; i < M; ++i) {
    const __m256 sa = _mm256_set1_ps(a_scale[i]);
    float* ci = c + i * ldc;
    const float* ai = add ? add + i * ld_add : nullptr;
    store_row(ci, ai, acc0[i], sa, sw0, n);
    if (n > 8) store_row(ci + 8, ai ? ai + 8 : nullptr, acc1[i], sa, sw1, n - 8);
  }
}

void frnn_int8_gemm_ukernel_4x16__avxvnni(size_t m, size_t n, size_t k4, const uint8_t* a, size_t lda,
                                          const float* a_scale, const int8_t* w, const int32_t* w_comp,
                                          const float* w_scale, float* c, size_t ldc, const float* add, size_t ld_add) {
  switch (m) {
    case 1: kernel_4x16<1>(n, k4, a, lda, a_scale, w, w_comp, w_scale, c, ldc, add, ld_add); break;
    case 2: kernel_4x16<2>(n, k4, a, lda, a_scale, w, w_comp, w_scale, c, ldc, add, ld_add); break;
    case 3: kernel_4x16<3>(n, k4, a, lda, a_scale, w, w_comp, w_scale, c, ldc, add, ld_add); break;
    default: kernel_4x16<4>(n, k4, a, lda, a_scale, w, w_comp, w_scale, c, ldc, add, ld_add); break;
  }
}

}  // namespace frnn
