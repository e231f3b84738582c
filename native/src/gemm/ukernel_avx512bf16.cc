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
                        const float* add, size_t ld_add) {
  // Every loop over i is unrolled so the accumulators live in registers, never on the stack.
  __m512 acc0[M], acc1[M];
#pragma GCC unroll 8
  for (int i = 0; i < M; ++i) acc0[i] = acc1[i] = _mm512_setzero_ps();
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
    if (add) {
      const float* ai = add + i * ld_add;
      acc0[i] = _mm512_add_ps(_mm512_maskz_loadu_ps(mask0, ai), acc0[i]);
      acc1[i] = _mm512_add_ps(_mm512_maskz_loadu_ps(mask1, ai + 16), acc1[i]);
    }
    _mm512_mask_storeu_ps(ci, mask0, acc0[i]);
    _mm512_mask_storeu_ps(ci + 16, mask1, acc1[i]);
  }
}

// C[m×n] = (add +) A[m × 2·k2] · W (one panel), m <= 8, n <= 32; lda in bf16 elements (even).
void frnn_bf16_gemm_ukernel_8x32__avx512bf16(size_t m, size_t n, size_t k2, const bf16* a, size_t lda,
                                             const bf16* w, float* c, size_t ldc, const float* add, size_t ld_add) {
  switch (m) {
    case 1: kernel_8x32<1>(n, k2, a, lda, w, c, ldc, add, ld_add); break;
    case 2: kernel_8x32<2>(n, k2, a, lda, w, c, ldc, add, ld_add); break;
    case 3: kernel_8x32<3>(n, k2, a, lda, w, c, ldc, add, ld_add); break;
    case 4: kernel_8x32<4>(n, k2, a, lda, w, c, ldc, add, ld_add); break;
    case 5: kernel_8x32<5>(n, k2, a, lda, w, c, ldc, add, ld_add); break;
    case 6: kernel_8x32<6>(n, k2, a, lda, w, c, ldc, add, ld_add); break;
    case 7: kernel_8x32<7>(n, k2, a, lda, w, c, ldc, add, ld_add); break;
    default: kernel_8x32<8>(n, k2, a, lda, w, c, ldc, add, ld_add); break;
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

// Columns [i, i + 16) of rows [p, p + 16) of A into 16 rows of out (32 bytes each): rows
// 2q, 2q+1 become one vector of bf16 pairs (lane c: column i + c), then the 8 vectors'
// dwords are transposed in registers (two unpack stages leave column c's pairs in 128-bit
// lane c/4 of two vectors).
template <int L>
static inline void store_lane(bf16* dst, __m512i lo, __m512i hi) {
  _mm_storeu_si128(reinterpret_cast<__m128i*>(dst), _mm512_maskz_extracti32x4_epi32(0xf, lo, L));
  _mm_storeu_si128(reinterpret_cast<__m128i*>(dst + 8), _mm512_maskz_extracti32x4_epi32(0xf, hi, L));
}

static inline void transpose_16x16(const float* a, size_t lda, bf16* out, size_t ldo) {
  __m512i v[8];
  for (int q = 0; q < 8; ++q) {
    const __m512i lo = to_bf16_lanes(_mm512_loadu_si512(a + 2 * q * lda));
    const __m512i hi = to_bf16_lanes(_mm512_loadu_si512(a + (2 * q + 1) * lda));
    v[q] = _mm512_or_si512(lo, _mm512_maskz_slli_epi32(0xffff, hi, 16));
  }
  __m512i u[8];
  for (int h = 0; h < 2; ++h) {  // v[0..3] -> u[0..3], v[4..7] -> u[4..7]
    const __m512i* w = v + 4 * h;
    // (maskz forms with full masks: GCC 12 warns about the plain ones' "undefined" vectors)
    const __m512i t0 = _mm512_maskz_unpacklo_epi32(0xffff, w[0], w[1]);
    const __m512i t1 = _mm512_maskz_unpackhi_epi32(0xffff, w[0], w[1]);
    const __m512i t2 = _mm512_maskz_unpacklo_epi32(0xffff, w[2], w[3]);
    const __m512i t3 = _mm512_maskz_unpackhi_epi32(0xffff, w[2], w[3]);
    u[4 * h + 0] = _mm512_maskz_unpacklo_epi64(0xff, t0, t2);  // lane L: column 4L's pairs from w[0..3]
    u[4 * h + 1] = _mm512_maskz_unpackhi_epi64(0xff, t0, t2);  // column 4L + 1
    u[4 * h + 2] = _mm512_maskz_unpacklo_epi64(0xff, t1, t3);  // column 4L + 2
    u[4 * h + 3] = _mm512_maskz_unpackhi_epi64(0xff, t1, t3);  // column 4L + 3
  }
  for (int j = 0; j < 4; ++j) {
    store_lane<0>(out + (0 + j) * ldo, u[j], u[4 + j]);
    store_lane<1>(out + (4 + j) * ldo, u[j], u[4 + j]);
    store_lane<2>(out + (8 + j) * ldo, u[j], u[4 + j]);
    store_lane<3>(out + (12 + j) * ldo, u[j], u[4 + j]);
  }
}

// convert_cols_bf16: 16×16 blocks transposed in registers; the columns past the last whole
// block of 16 and the rows past the last whole 16 by gathers (16 rows, one column each).
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
    size_t i = i0;
    if (m == 0xffff) {
      for (; i + 16 <= i1; i += 16) {
        // The next block's rows, a line each (strided rows: no hardware prefetch).
        for (size_t r = 16; r < 32 && p + r < k; ++r)
          _mm_prefetch(reinterpret_cast<const char*>(base + r * lda + i), _MM_HINT_T0);
        transpose_16x16(base + i, lda, out + (i - i0) * ldo + p, ldo);
      }
    }
    for (; i < i1; ++i) {
      const __m512 v = _mm512_mask_i32gather_ps(_mm512_setzero_ps(), m, idx, base + i, 4);
      _mm256_mask_storeu_epi16(out + (i - i0) * ldo + p, m, to_bf16x16(_mm512_castps_si512(v)));
    }
  }
  for (size_t i = i0; i < i1; ++i)
    for (size_t p = k; p < ldo; ++p) out[(i - i0) * ldo + p] = 0;
}

}  // namespace frnn
