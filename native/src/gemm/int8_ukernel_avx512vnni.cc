// int8 micro-kernel for AVX512_VNNI: 8 rows × 32 columns of C in 16 zmm accumulators, 4 k per
// VPDPBUSD (4 u8 of A broadcast against 16 columns' 4 s8 of one W panel row). The
// accumulators start at the columns' comp; dequantized as the reference (gemm/int8.h) with
// masked edge columns. Also the float32 -> u8 row quantizer (quantize_rows_u8's arithmetic).
#include <immintrin.h>

#include <cstdint>
#include <cstring>

#include "gemm/gemm_int8.h"

namespace frnn {

// acc += Σ of 4 u8·s8 per lane. Inline asm: GCC 12 copies the accumulator around every
// _mm512_dpbusd_epi32 (and spilled some to the stack), which cost a third of the kernel's rate.
static inline void dpbusd(__m512i& acc, __m512i a, __m512i w) {
#if defined(__GNUC__)
  __asm__("vpdpbusd %2, %1, %0" : "+v"(acc) : "v"(a), "v"(w));
#else
  acc = _mm512_dpbusd_epi32(acc, a, w);
#endif
}

// The maskz forms with a full mask: GCC 12 warns about the "undefined" vectors inside the
// plain ones (as in ukernel_avx512bf16.cc).
constexpr __mmask16 kAll = 0xffff;

template <int M>
static void kernel_8x32(size_t n, size_t k4, const uint8_t* a, size_t lda, const float* a_scale, const int8_t* w,
                        const int32_t* w_comp, const float* w_scale, float* c, size_t ldc,
                        const float* add, size_t ld_add) {
  // Every loop over i is unrolled so the accumulators live in registers, never on the stack.
  __m512i acc0[M], acc1[M];
  const __m512i comp0 = _mm512_loadu_si512(w_comp), comp1 = _mm512_loadu_si512(w_comp + 16);
#pragma GCC unroll 8
  for (int i = 0; i < M; ++i) {
    acc0[i] = comp0;
    acc1[i] = comp1;
  }
  for (size_t p = 0; p < k4; ++p) {
    const __m512i w0 = _mm512_loadu_si512(w + p * 128);
    const __m512i w1 = _mm512_loadu_si512(w + p * 128 + 64);
#pragma GCC unroll 8
    for (int i = 0; i < M; ++i) {
      int32_t quad;
      std::memcpy(&quad, a + i * lda + 4 * p, sizeof quad);
      const __m512i ai = _mm512_set1_epi32(quad);
      dpbusd(acc0[i], ai, w0);
      dpbusd(acc1[i], ai, w1);
    }
  }
  const __mmask16 mask0 = n >= 16 ? 0xffff : static_cast<__mmask16>((1u << n) - 1);
  const __mmask16 mask1 = n >= 32 ? 0xffff : n > 16 ? static_cast<__mmask16>((1u << (n - 16)) - 1) : 0;
  const __m512 sw0 = _mm512_loadu_ps(w_scale), sw1 = _mm512_loadu_ps(w_scale + 16);
#pragma GCC unroll 8
  for (int i = 0; i < M; ++i) {
    const __m512 sa = _mm512_set1_ps(a_scale[i]);
    __m512 v0 = _mm512_mul_ps(_mm512_mul_ps(_mm512_maskz_cvtepi32_ps(kAll, acc0[i]), sa), sw0);
    __m512 v1 = _mm512_mul_ps(_mm512_mul_ps(_mm512_maskz_cvtepi32_ps(kAll, acc1[i]), sa), sw1);
    float* ci = c + i * ldc;
    if (add) {
      const float* ai = add + i * ld_add;
      v0 = _mm512_add_ps(_mm512_maskz_loadu_ps(mask0, ai), v0);
      v1 = _mm512_add_ps(_mm512_maskz_loadu_ps(mask1, ai + 16), v1);
    }
    _mm512_mask_storeu_ps(ci, mask0, v0);
    _mm512_mask_storeu_ps(ci + 16, mask1, v1);
  }
}

void frnn_int8_gemm_ukernel_8x32__avx512vnni(size_t m, size_t n, size_t k4, const uint8_t* a, size_t lda,
                                             const float* a_scale, const int8_t* w, const int32_t* w_comp,
                                             const float* w_scale, float* c, size_t ldc,
                                             const float* add, size_t ld_add) {
  switch (m) {
    case 1: kernel_8x32<1>(n, k4, a, lda, a_scale, w, w_comp, w_scale, c, ldc, add, ld_add); break;
    case 2: kernel_8x32<2>(n, k4, a, lda, a_scale, w, w_comp, w_scale, c, ldc, add, ld_add); break;
    case 3: kernel_8x32<3>(n, k4, a, lda, a_scale, w, w_comp, w_scale, c, ldc, add, ld_add); break;
    case 4: kernel_8x32<4>(n, k4, a, lda, a_scale, w, w_comp, w_scale, c, ldc, add, ld_add); break;
    case 5: kernel_8x32<5>(n, k4, a, lda, a_scale, w, w_comp, w_scale, c, ldc, add, ld_add); break;
    case 6: kernel_8x32<6>(n, k4, a, lda, a_scale, w, w_comp, w_scale, c, ldc, add, ld_add); break;
    case 7: kernel_8x32<7>(n, k4, a, lda, a_scale, w, w_comp, w_scale, c, ldc, add, ld_add); break;
    default: kernel_8x32<8>(n, k4, a, lda, a_scale, w, w_comp, w_scale, c, ldc, add, ld_add); break;
  }
}

// The largest of 16 unsigned lanes, in registers (maskz forms: GCC 12 warns about the
// "undefined" vectors inside the plain shuffles, extracts and _mm512_reduce_max_epu32).
static inline uint32_t reduce_max_u32(__m512i v) {
  v = _mm512_maskz_max_epu32(kAll, v, _mm512_maskz_shuffle_i64x2(0xff, v, v, 0x4e));  // 256-bit halves
  v = _mm512_maskz_max_epu32(kAll, v, _mm512_maskz_shuffle_i64x2(0xff, v, v, 0xb1));  // 128-bit lanes
  v = _mm512_maskz_max_epu32(kAll, v, _mm512_maskz_shuffle_epi32(kAll, v, _MM_PERM_BADC));
  v = _mm512_maskz_max_epu32(kAll, v, _mm512_maskz_shuffle_epi32(kAll, v, _MM_PERM_CDAB));
  return static_cast<uint32_t>(_mm512_cvtsi512_si32(v));
}

void frnn_int8_quantize__avx512vnni(size_t m, size_t k, const float* a, size_t lda, uint8_t* out, size_t ldo,
                                    float* scale) {
  const __m512i abs_mask = _mm512_set1_epi32(0x7fffffff);
  const __m512i lo = _mm512_set1_epi32(-127), hi = _mm512_set1_epi32(127), bias = _mm512_set1_epi32(128);
  // After the two packs below, dword 4L + s of a vector holds source vector s's units 4L..4L+3;
  // this puts it at 4s + L, back in order.
  const __m512i order = _mm512_setr_epi32(0, 4, 8, 12, 1, 5, 9, 13, 2, 6, 10, 14, 3, 7, 11, 15);
  for (size_t i = 0; i < m; ++i) {
    const float* src = a + i * lda;
    uint8_t* dst = out + i * ldo;
    // max |x| as bits (integer order = |x| order, NaN above Inf), as quantize_rows_u8; two
    // chains of max, then one reduction in registers.
    __m512i mv0 = _mm512_setzero_si512(), mv1 = _mm512_setzero_si512();
    size_t p = 0;
    for (; p + 32 <= k; p += 32) {
      mv0 = _mm512_maskz_max_epu32(kAll, mv0, _mm512_and_si512(_mm512_loadu_si512(src + p), abs_mask));
      mv1 = _mm512_maskz_max_epu32(kAll, mv1, _mm512_and_si512(_mm512_loadu_si512(src + p + 16), abs_mask));
    }
    for (; p < k; p += 16) {
      const __mmask16 live = k - p >= 16 ? kAll : static_cast<__mmask16>((1u << (k - p)) - 1);
      mv0 = _mm512_maskz_max_epu32(kAll, mv0, _mm512_and_si512(_mm512_maskz_loadu_epi32(live, src + p), abs_mask));
    }
    const uint32_t mb = reduce_max_u32(_mm512_maskz_max_epu32(kAll, mv0, mv1));
    float inv;
    int8_scales(mb, &scale[i], &inv);
    if (inv == 0.0f) {
      std::memset(dst, 128, ldo);
      continue;
    }
    const __m512 vinv = _mm512_set1_ps(inv);
    // x · inv rounded to nearest even (MXCSR's mode, as nearbyint), clamped, + 128: in [1, 255].
    auto q32 = [&](__m512 x) {
      const __m512i q = _mm512_maskz_cvtps_epi32(kAll, _mm512_mul_ps(x, vinv));
      return _mm512_add_epi32(_mm512_maskz_min_epi32(kAll, _mm512_maskz_max_epi32(kAll, q, lo), hi), bias);
    };
    // 64 at a time: the packs saturate nothing (every value is in [1, 255]).
    for (p = 0; p + 64 <= k; p += 64) {
      const __m512i q0 = q32(_mm512_loadu_ps(src + p)), q1 = q32(_mm512_loadu_ps(src + p + 16));
      const __m512i q2 = q32(_mm512_loadu_ps(src + p + 32)), q3 = q32(_mm512_loadu_ps(src + p + 48));
      const __m512i q01 = _mm512_maskz_packs_epi32(~__mmask32{0}, q0, q1);
      const __m512i q23 = _mm512_maskz_packs_epi32(~__mmask32{0}, q2, q3);
      const __m512i q8 = _mm512_maskz_packus_epi16(~__mmask64{0}, q01, q23);
      _mm512_storeu_si512(dst + p, _mm512_maskz_permutexvar_epi32(kAll, order, q8));
    }
    for (; p < k; p += 16) {
      const __mmask16 live = k - p >= 16 ? kAll : static_cast<__mmask16>((1u << (k - p)) - 1);
      _mm_mask_storeu_epi8(dst + p, live, _mm512_maskz_cvtepi32_epi8(kAll, q32(_mm512_maskz_loadu_ps(live, src + p))));
    }
    for (p = k; p < ldo; ++p) dst[p] = 128;
  }
}

}  // namespace frnn
