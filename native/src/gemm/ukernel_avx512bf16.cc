// AVX512_BF16 micro-kernel: 8 rows × 32 columns of C in 16 zmm accumulators, two k per
// VDPBF16PS (a bf16 pair of A broadcast against 16 columns' pairs of one W panel row).
// A and W are bf16 (gemm/bf16.h layouts), C float32. Edge columns use store masks.
// Also the float32 -> bf16 row converter: RNE in integer arithmetic, as f32_to_bf16 (not
// VCVTNEPS2BF16, which flushes denormal inputs: a float just below the smallest normal
// would become 0 there and the smallest normal bf16 in f32_to_bf16).
#include <immintrin.h>

#include <climits>
#include <cstdint>
#include <cstring>

#include "gemm/gemm_bf16.h"

namespace frnn {

template <int M>
static void kernel_8x32(size_t n, size_t k2, const bf16* a, size_t lda, const bf16* w, float* c, size_t ldc,
                        bool accumulate) {
  // Every loop over i is unrolled so the accumulators live in registers, never on the stack.
  __m512 acc0[M], acc1[M];
#pragma GCC unroll 8
  for (int i = 0; i < M; ++i) {
    acc0[i] = acc1[i] = _mm512_setzero_ps();
    _mm_prefetch(reinterpret_cast<const char*>(c + i * ldc), _MM_HINT_T0);
    if (n > 16) _mm_prefetch(reinterpret_cast<const char*>(c + i * ldc + 16), _MM_HINT_T0);
  }
  for (size_t p = 0; p < k2; ++p) {
    const __m512bh w0 = (__m512bh)_mm512_loadu_si512(w + p * 64);
    const __m512bh w1 = (__m512bh)_mm512_loadu_si512(w + p * 64 + 32);
#pragma GCC unroll 8
    for (int i = 0; i < M; ++i) {
      int32_t pair;
      std::memcpy(&pair, a + i * lda + 2 * p, sizeof pair);
      const __m512bh ai = (__m512bh)_mm512_set1_epi32(pair);
      acc0[i] = _mm512_dpbf16_ps(acc0[i], ai, w0);
      acc1[i] = _mm512_dpbf16_ps(acc1[i], ai, w1);
    }
  }
  const __mmask16 mask0 = n >= 16 ? 0xffff : static_cast<__mmask16>((1u << n) - 1);
  const __mmask16 mask1 = n >= 32 ? 0xffff : n > 16 ? static_cast<__mmask16>((1u << (n - 16)) - 1) : 0;
#pragma GCC unroll 8
  for (int i = 0; i < M; ++i) {
    float* ci = c + i * ldc;
    if (accumulate) {
      acc0[i] = _mm512_add_ps(_mm512_maskz_loadu_ps(mask0, ci), acc0[i]);
      acc1[i] = _mm512_add_ps(_mm512_maskz_loadu_ps(mask1, ci + 16), acc1[i]);
    }
    _mm512_mask_storeu_ps(ci, mask0, acc0[i]);
    _mm512_mask_storeu_ps(ci + 16, mask1, acc1[i]);
  }
}

// C[m×n] (+)= A[m × 2·k2] · W (one panel), m <= 8, n <= 32; lda in bf16 elements (even).
void frnn_bf16_gemm_ukernel_8x32__avx512bf16(size_t m, size_t n, size_t k2, const bf16* a, size_t lda,
                                             const bf16* w, float* c, size_t ldc, bool accumulate) {
  switch (m) {
    case 1: kernel_8x32<1>(n, k2, a, lda, w, c, ldc, accumulate); break;
    case 2: kernel_8x32<2>(n, k2, a, lda, w, c, ldc, accumulate); break;
    case 3: kernel_8x32<3>(n, k2, a, lda, w, c, ldc, accumulate); break;
    case 4: kernel_8x32<4>(n, k2, a, lda, w, c, ldc, accumulate); break;
    case 5: kernel_8x32<5>(n, k2, a, lda, w, c, ldc, accumulate); break;
    case 6: kernel_8x32<6>(n, k2, a, lda, w, c, ldc, accumulate); break;
    case 7: kernel_8x32<7>(n, k2, a, lda, w, c, ldc, accumulate); break;
    default: kernel_8x32<8>(n, k2, a, lda, w, c, ldc, accumulate); break;
  }
}

// 16 floats -> 16 bf16 (f32_to_bf16's arithmetic). The maskz forms with a full mask: GCC 12
// warns about the "undefined" vectors inside the plain _mm512_srli_epi32/_mm512_cvtepi32_epi16.
// Each 32-bit lane: its float's bf16 in the low 16 bits, 0 above.
static inline __m512i to_bf16_lanes(__m512i u) {
  constexpr __mmask16 all = 0xffff;
  const __m512i abs = _mm512_and_si512(u, _mm512_set1_epi32(0x7fffffff));
  const __mmask16 nan = _mm512_cmpgt_epi32_mask(abs, _mm512_set1_epi32(0x7f800000));
  const __m512i top = _mm512_maskz_srli_epi32(all, u, 16);
  const __m512i lsb = _mm512_and_si512(top, _mm512_set1_epi32(1));
  __m512i r = _mm512_maskz_srli_epi32(all, _mm512_add_epi32(_mm512_add_epi32(u, _mm512_set1_epi32(0x7fff)), lsb), 16);
  return _mm512_mask_or_epi32(r, nan, top, _mm512_set1_epi32(0x40));
}

static inline __m256i to_bf16x16(__m512i u) { return _mm512_maskz_cvtepi32_epi16(0xffff, to_bf16_lanes(u)); }

void frnn_bf16_convert__avx512bf16(size_t m, size_t k, const float* a, size_t lda, bf16* out, size_t ldo) {
  for (size_t i = 0; i < m; ++i) {
    const float* src = a + i * lda;
    bf16* dst = out + i * ldo;
    size_t p = 0;
    for (; p + 16 <= k; p += 16)
      _mm256_storeu_si256(reinterpret_cast<__m256i*>(dst + p), to_bf16x16(_mm512_loadu_si512(src + p)));
    if (p < k) {
      const __mmask16 tail = static_cast<__mmask16>((1u << (k - p)) - 1);
      _mm256_mask_storeu_epi16(dst + p, tail, to_bf16x16(_mm512_maskz_loadu_epi32(tail, src + p)));
      p = k;
    }
    for (; p < ldo; ++p) dst[p] = 0;
  }
}

// out[2c] = bf16(r0[c]), out[2c+1] = bf16(r1[c]) (0 without r1), c < n: two rows of B
// into one pair-row of a panel, 16 pairs per store.
void frnn_bf16_pack_pairs__avx512bf16(size_t n, const float* r0, const float* r1, bf16* out) {
  constexpr __mmask16 all = 0xffff;
  for (size_t c = 0; c < n; c += 16) {
    const __mmask16 m = n - c >= 16 ? all : static_cast<__mmask16>((1u << (n - c)) - 1);
    const __m512i lo = to_bf16_lanes(_mm512_maskz_loadu_epi32(m, r0 + c));
    const __m512i hi = r1 ? to_bf16_lanes(_mm512_maskz_loadu_epi32(m, r1 + c)) : _mm512_setzero_si512();
    _mm512_mask_storeu_epi32(out + 2 * c, m, _mm512_or_si512(lo, _mm512_maskz_slli_epi32(all, hi, 16)));
  }
}

// convert_cols_bf16: 16 rows of A at a time, each column of them one gather (the 16 rows'
// lines stay in L1 across the columns), converted and stored as 16 bf16 of a row of out.
void frnn_bf16_convert_cols__avx512bf16(size_t k, size_t i0, size_t i1, const float* a, size_t lda, bf16* out,
                                        size_t ldo) {
  if (lda > static_cast<size_t>(INT32_MAX) / 16) {  // gather offsets are 32-bit
    convert_cols_bf16(k, i0, i1, a, lda, out, ldo);
    return;
  }
  const __m512i idx = _mm512_mullo_epi32(_mm512_setr_epi32(0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15),
                                         _mm512_set1_epi32(static_cast<int>(lda)));
  for (size_t p = 0; p < k; p += 16) {
    const __mmask16 m = k - p >= 16 ? 0xffff : static_cast<__mmask16>((1u << (k - p)) - 1);
    const float* base = a + p * lda;
    for (size_t i = i0; i < i1; ++i) {
      const __m512 v = _mm512_mask_i32gather_ps(_mm512_setzero_ps(), m, idx, base + i, 4);
      _mm256_mask_storeu_epi16(out + (i - i0) * ldo + p, m, to_bf16x16(_mm512_castps_si512(v)));
    }
  }
  for (size_t i = i0; i < i1; ++i)
    for (size_t p = k; p < ldo; ++p) out[(i - i0) * ldo + p] = 0;
}

}  // namespace frnn
