// bf16 micro-kernel for CPUs without AVX512_BF16 (AVX2+FMA, AVX-512 without BF16): 4 rows ×
// 16 columns in 8 ymm accumulators. A bf16 is the top half of a float32, so each 32-bit pair
// (even element low, odd high) widens with an AND (odd) or a shift (even); then one FMA per
// element, odd first. Under the drivers' MXCSR DAZ+FTZ (gemm_bf16_packed sets it) each FMA
// reads denormals as zero and flushes its result: VDPBF16PS's arithmetic, the same bits.
// Also the float32 -> bf16 row converter (RNE in integer arithmetic, as f32_to_bf16).
#include <immintrin.h>

#include <climits>
#include <cstdint>
#include <cstring>

#include "gemm/gemm_bf16.h"

namespace frnn {

template <int M>
static void kernel_4x16(size_t n, size_t k2, const bf16* a, size_t lda, const bf16* w, float* c, size_t ldc,
                        const float* add, size_t ld_add) {
  const __m256i hi = _mm256_set1_epi32(static_cast<int>(0xffff0000u));
  __m256 acc0[M], acc1[M];
#pragma GCC unroll 4
  for (int i = 0; i < M; ++i) acc0[i] = acc1[i] = _mm256_setzero_ps();
  for (size_t p = 0; p < k2; ++p) {
    const __m256i w0 = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(w + p * 32));
    const __m256i w1 = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(w + p * 32 + 16));
    const __m256 w0o = _mm256_castsi256_ps(_mm256_and_si256(w0, hi));
    const __m256 w1o = _mm256_castsi256_ps(_mm256_and_si256(w1, hi));
    const __m256 w0e = _mm256_castsi256_ps(_mm256_slli_epi32(w0, 16));
    const __m256 w1e = _mm256_castsi256_ps(_mm256_slli_epi32(w1, 16));
#pragma GCC unroll 4
    for (int i = 0; i < M; ++i) {
      uint32_t pair;
      std::memcpy(&pair, a + i * lda + 2 * p, sizeof pair);
      const uint32_t odd_bits = pair & 0xffff0000u, even_bits = pair << 16;
      float odd, even;
      std::memcpy(&odd, &odd_bits, 4);
      std::memcpy(&even, &even_bits, 4);
      const __m256 ao = _mm256_set1_ps(odd), ae = _mm256_set1_ps(even);
      acc0[i] = _mm256_fmadd_ps(ao, w0o, acc0[i]);
      acc1[i] = _mm256_fmadd_ps(ao, w1o, acc1[i]);
      acc0[i] = _mm256_fmadd_ps(ae, w0e, acc0[i]);
      acc1[i] = _mm256_fmadd_ps(ae, w1e, acc1[i]);
    }
  }
#pragma GCC unroll 4
  for (int i = 0; i < M; ++i) {
    float* ci = c + i * ldc;
    const float* ai = add ? add + i * ld_add : nullptr;
    if (n == 16) {
      if (ai) {
        acc0[i] = _mm256_add_ps(_mm256_loadu_ps(ai), acc0[i]);
        acc1[i] = _mm256_add_ps(_mm256_loadu_ps(ai + 8), acc1[i]);
      }
      _mm256_storeu_ps(ci, acc0[i]);
      _mm256_storeu_ps(ci + 8, acc1[i]);
    } else {
      float tmp[16];
      _mm256_storeu_ps(tmp, acc0[i]);
      _mm256_storeu_ps(tmp + 8, acc1[i]);
      for (size_t j = 0; j < n; ++j) ci[j] = ai ? ai[j] + tmp[j] : tmp[j];
    }
  }
}

void frnn_bf16_gemm_ukernel_4x16__avx2_fma(size_t m, size_t n, size_t k2, const bf16* a, size_t lda, const bf16* w,
                                           float* c, size_t ldc, const float* add, size_t ld_add) {
  switch (m) {
    case 1: kernel_4x16<1>(n, k2, a, lda, w, c, ldc, add, ld_add); break;
    case 2: kernel_4x16<2>(n, k2, a, lda, w, c, ldc, add, ld_add); break;
    case 3: kernel_4x16<3>(n, k2, a, lda, w, c, ldc, add, ld_add); break;
    default: kernel_4x16<4>(n, k2, a, lda, w, c, ldc, add, ld_add); break;
  }
}

// Each 32-bit lane: its float's bf16 (f32_to_bf16: round to nearest even, NaN kept quiet)
// in the low 16 bits, 0 above.
static inline __m256i to_bf16_lanes(__m256i u) {
  const __m256i abs = _mm256_and_si256(u, _mm256_set1_epi32(0x7fffffff));
  const __m256i nan = _mm256_cmpgt_epi32(abs, _mm256_set1_epi32(0x7f800000));
  const __m256i lsb = _mm256_and_si256(_mm256_srli_epi32(u, 16), _mm256_set1_epi32(1));
  const __m256i rounded = _mm256_srli_epi32(_mm256_add_epi32(_mm256_add_epi32(u, _mm256_set1_epi32(0x7fff)), lsb), 16);
  const __m256i quiet = _mm256_or_si256(_mm256_srli_epi32(u, 16), _mm256_set1_epi32(0x40));
  return _mm256_blendv_epi8(rounded, quiet, nan);  // each 32-bit lane holds 0..0xffff
}

// 8 floats -> 8 bf16 in the low 128 bits.
static inline __m128i to_bf16x8(__m256i u) {
  const __m256i r = to_bf16_lanes(u);
  const __m256i packed = _mm256_packus_epi32(r, r);           // per 128-bit lane: 4 + 4 (copies)
  return _mm256_castsi256_si128(_mm256_permute4x64_epi64(packed, 0x08));  // lanes 0 and 2
}

void frnn_bf16_convert__avx2(size_t m, size_t k, const float* a, size_t lda, bf16* out, size_t ldo) {
  for (size_t i = 0; i < m; ++i) {
    const float* src = a + i * lda;
    bf16* dst = out + i * ldo;
    size_t p = 0;
    for (; p + 8 <= k; p += 8)
      _mm_storeu_si128(reinterpret_cast<__m128i*>(dst + p),
                       to_bf16x8(_mm256_loadu_si256(reinterpret_cast<const __m256i*>(src + p))));
    for (; p < k; ++p) dst[p] = f32_to_bf16(src[p]);
    for (; p < ldo; ++p) dst[p] = 0;
  }
}

// out[2c] = bf16(r0[c]), out[2c+1] = bf16(r1[c]) (0 without r1), c < n: 8 pairs per store.
void frnn_bf16_pack_pairs__avx2(size_t n, const float* r0, const float* r1, bf16* out) {
  size_t c = 0;
  for (; c + 8 <= n; c += 8) {
    const __m256i lo = to_bf16_lanes(_mm256_loadu_si256(reinterpret_cast<const __m256i*>(r0 + c)));
    const __m256i hi = r1 ? to_bf16_lanes(_mm256_loadu_si256(reinterpret_cast<const __m256i*>(r1 + c)))
                          : _mm256_setzero_si256();
    _mm256_storeu_si256(reinterpret_cast<__m256i*>(out + 2 * c), _mm256_or_si256(lo, _mm256_slli_epi32(hi, 16)));
  }
  for (; c < n; ++c) {
    out[2 * c] = f32_to_bf16(r0[c]);
    out[2 * c + 1] = r1 ? f32_to_bf16(r1[c]) : 0;
  }
}

// convert_cols_bf16: 8 rows of A at a time, each column of them one gather.
void frnn_bf16_convert_cols__avx2(size_t k, size_t i0, size_t i1, const float* a, size_t lda, bf16* out,
                                  size_t ldo) {
  if (lda > static_cast<size_t>(INT32_MAX) / 8) {  // gather offsets are 32-bit
    convert_cols_bf16(k, i0, i1, a, lda, out, ldo);
    return;
  }
  const __m256i idx =
      _mm256_mullo_epi32(_mm256_setr_epi32(0, 1, 2, 3, 4, 5, 6, 7), _mm256_set1_epi32(static_cast<int>(lda)));
  size_t p = 0;
  for (; p + 8 <= k; p += 8) {
    const float* base = a + p * lda;
    for (size_t i = i0; i < i1; ++i)
      _mm_storeu_si128(reinterpret_cast<__m128i*>(out + (i - i0) * ldo + p),
                       to_bf16x8(_mm256_castps_si256(_mm256_i32gather_ps(base + i, idx, 4))));
  }
  for (size_t i = i0; i < i1; ++i) {
    for (size_t q = p; q < k; ++q) out[(i - i0) * ldo + q] = f32_to_bf16(a[q * lda + i]);
    for (size_t q = k; q < ldo; ++q) out[(i - i0) * ldo + q] = 0;
  }
}

}  // namespace frnn
