// int8 micro-kernel for AVX2 CPUs without VNNI: 4 rows × 8 columns. VPMADDUBSW would saturate
// its 16-bit pair sums, so both operands are widened to 16 bits first (A zero-extended, W
// sign-extended) and VPMADDWD sums pairs of exact products into 32 bits. A panel row holds 8
// columns × 4 k: its low half widens to columns 0-3, its high half to 4-7, and each column
// keeps two partial sums (k 0-1 and k 2-3) until the end, where VPHADDD joins them. Integer
// sums are exact, so the result is the reference's whatever the order.
// Also the float32 -> u8 row quantizer (quantize_rows_u8's arithmetic) for both AVX2 rows.
#include <immintrin.h>

#include <cstdint>
#include <cstring>

#include "gemm/gemm_int8.h"

namespace frnn {

template <int M>
static void kernel_4x8(size_t n, size_t k4, const uint8_t* a, size_t lda, const float* a_scale, const int8_t* w,
                       const int32_t* w_comp, const float* w_scale, float* c, size_t ldc,
                       const float* add, size_t ld_add) {
  __m256i lo[M], hi[M];
#pragma GCC unroll 4
  for (int i = 0; i < M; ++i) lo[i] = hi[i] = _mm256_setzero_si256();
  for (size_t p = 0; p < k4; ++p) {
    const __m256i wv = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(w + p * 32));
    const __m256i w_lo = _mm256_cvtepi8_epi16(_mm256_castsi256_si128(wv));
    const __m256i w_hi = _mm256_cvtepi8_epi16(_mm256_extracti128_si256(wv, 1));
#pragma GCC unroll 4
    for (int i = 0; i < M; ++i) {
      int32_t quad;
      std::memcpy(&quad, a + i * lda + 4 * p, sizeof quad);
      const __m256i av = _mm256_broadcastq_epi64(_mm_cvtepu8_epi16(_mm_cvtsi32_si128(quad)));
      lo[i] = _mm256_add_epi32(lo[i], _mm256_madd_epi16(w_lo, av));
      hi[i] = _mm256_add_epi32(hi[i], _mm256_madd_epi16(w_hi, av));
    }
  }
  const __m256i comp = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(w_comp));
  const __m256 sw = _mm256_loadu_ps(w_scale);
#pragma GCC unroll 4
  for (int i = 0; i < M; ++i) {
    // hadd: [c0 c1 c4 c5 | c2 c3 c6 c7] -> columns in order.
    const __m256i sums = _mm256_permute4x64_epi64(_mm256_hadd_epi32(lo[i], hi[i]), 0xd8);
    __m256 v = _mm256_cvtepi32_ps(_mm256_add_epi32(sums, comp));
    v = _mm256_mul_ps(v, _mm256_set1_ps(a_scale[i]));
    v = _mm256_mul_ps(v, sw);
    float* ci = c + i * ldc;
    const float* ai = add ? add + i * ld_add : nullptr;
    if (n == 8) {
      if (ai) v = _mm256_add_ps(_mm256_loadu_ps(ai), v);
      _mm256_storeu_ps(ci, v);
    } else {
      float tmp[8] = {};
      if (ai) std::memcpy(tmp, ai, n * sizeof(float));
      if (ai) v = _mm256_add_ps(_mm256_loadu_ps(tmp), v);
      _mm256_storeu_ps(tmp, v);
      std::memcpy(ci, tmp, n * sizeof(float));
    }
  }
}

void frnn_int8_gemm_ukernel_4x8__avx2(size_t m, size_t n, size_t k4, const uint8_t* a, size_t lda,
                                      const float* a_scale, const int8_t* w, const int32_t* w_comp,
                                      const float* w_scale, float* c, size_t ldc, const float* add, size_t ld_add) {
  switch (m) {
    case 1: kernel_4x8<1>(n, k4, a, lda, a_scale, w, w_comp, w_scale, c, ldc, add, ld_add); break;
    case 2: kernel_4x8<2>(n, k4, a, lda, a_scale, w, w_comp, w_scale, c, ldc, add, ld_add); break;
    case 3: kernel_4x8<3>(n, k4, a, lda, a_scale, w, w_comp, w_scale, c, ldc, add, ld_add); break;
    default: kernel_4x8<4>(n, k4, a, lda, a_scale, w, w_comp, w_scale, c, ldc, add, ld_add); break;
  }
}

void frnn_int8_quantize__avx2(size_t m, size_t k, const float* a, size_t lda, uint8_t* out, size_t ldo,
                              float* scale) {
  const __m256i abs_mask = _mm256_set1_epi32(0x7fffffff);
  const __m256i lo = _mm256_set1_epi32(-127), hi = _mm256_set1_epi32(127), bias = _mm256_set1_epi32(128);
  for (size_t i = 0; i < m; ++i) {
    const float* src = a + i * lda;
    uint8_t* dst = out + i * ldo;
    // max |x| as bits (integer order = |x| order, NaN above Inf), as quantize_rows_u8.
    __m256i mv = _mm256_setzero_si256();
    size_t p = 0;
    for (; p + 8 <= k; p += 8)
      mv = _mm256_max_epu32(mv, _mm256_and_si256(_mm256_loadu_si256(reinterpret_cast<const __m256i*>(src + p)), abs_mask));
    uint32_t lanes[8];
    _mm256_storeu_si256(reinterpret_cast<__m256i*>(lanes), mv);
    uint32_t mb = 0;
    for (uint32_t l : lanes) mb = l > mb ? l : mb;
    for (; p < k; ++p) mb = abs_bits(src[p]) > mb ? abs_bits(src[p]) : mb;
    float inv;
    int8_scales(mb, &scale[i], &inv);
    if (inv == 0.0f) {
      std::memset(dst, 128, ldo);
      continue;
    }
    const __m256 vinv = _mm256_set1_ps(inv);
    for (p = 0; p + 8 <= k; p += 8) {
      // x · inv rounded to nearest even (MXCSR's mode, as nearbyint), clamped, + 128.
      __m256i q = _mm256_cvtps_epi32(_mm256_mul_ps(_mm256_loadu_ps(src + p), vinv));
      q = _mm256_add_epi32(_mm256_min_epi32(_mm256_max_epi32(q, lo), hi), bias);
      const __m128i q16 = _mm_packs_epi32(_mm256_castsi256_si128(q), _mm256_extracti128_si256(q, 1));
      _mm_storel_epi64(reinterpret_cast<__m128i*>(dst + p), _mm_packus_epi16(q16, q16));
    }
    for (; p < k; ++p) dst[p] = static_cast<uint8_t>(quantize_one(src[p], inv) + 128);
    for (; p < ldo; ++p) dst[p] = 128;
  }
}

}  // namespace frnn
