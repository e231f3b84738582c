// AVX-512F micro-kernels: 8 rows × 32 columns of C in 16 zmm accumulators
// (+2 for the W panel row, +1 broadcast). Edge columns use store masks. A is row-major
// (gemm) or one pre-packed micro-panel of 8 floats per k (ppmm); the loop is the same.
// Also the strip packer that writes A for ppmm step by step.
#include <immintrin.h>

#include <cstring>

#include "gemm/ukernel.h"

namespace frnn {

// A[i, p] = a[i*lda + p] (row-major) or a[p*8 + i] (kPackedA).
template <int M, bool kPackedA>
static void kernel_8x32(size_t n, size_t k, const float* a, size_t lda, const float* w, float* c, size_t ldc,
                        bool accumulate) {
  // Every loop over i is unrolled so the accumulators live in registers, never on the stack.
  __m512 acc0[M], acc1[M];
#pragma GCC unroll 8
  for (int i = 0; i < M; ++i) {
    acc0[i] = acc1[i] = _mm512_setzero_ps();
    // C is read (or its lines owned for the stores) only after the k loop: fetch it now, so
    // a C far out in memory (a big product's output) arrives while the FMAs run.
    _mm_prefetch(reinterpret_cast<const char*>(c + i * ldc), _MM_HINT_T0);
    if (n > 16) _mm_prefetch(reinterpret_cast<const char*>(c + i * ldc + 16), _MM_HINT_T0);
  }
  for (size_t p = 0; p < k; ++p) {
    const __m512 w0 = _mm512_loadu_ps(w + p * 32), w1 = _mm512_loadu_ps(w + p * 32 + 16);
#pragma GCC unroll 8
    for (int i = 0; i < M; ++i) {
      const __m512 ai = _mm512_set1_ps(kPackedA ? a[p * 8 + i] : a[i * lda + p]);
      acc0[i] = _mm512_fmadd_ps(ai, w0, acc0[i]);
      acc1[i] = _mm512_fmadd_ps(ai, w1, acc1[i]);
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

template <bool kPackedA>
static void kernel_8x32_m(size_t m, size_t n, size_t k, const float* a, size_t lda, const float* w, float* c,
                          size_t ldc, bool accumulate) {
  switch (m) {
    case 1: kernel_8x32<1, kPackedA>(n, k, a, lda, w, c, ldc, accumulate); break;
    case 2: kernel_8x32<2, kPackedA>(n, k, a, lda, w, c, ldc, accumulate); break;
    case 3: kernel_8x32<3, kPackedA>(n, k, a, lda, w, c, ldc, accumulate); break;
    case 4: kernel_8x32<4, kPackedA>(n, k, a, lda, w, c, ldc, accumulate); break;
    case 5: kernel_8x32<5, kPackedA>(n, k, a, lda, w, c, ldc, accumulate); break;
    case 6: kernel_8x32<6, kPackedA>(n, k, a, lda, w, c, ldc, accumulate); break;
    case 7: kernel_8x32<7, kPackedA>(n, k, a, lda, w, c, ldc, accumulate); break;
    default: kernel_8x32<8, kPackedA>(n, k, a, lda, w, c, ldc, accumulate); break;
  }
}

void frnn_f32_gemm_ukernel_8x32__avx512f(size_t m, size_t n, size_t k, const float* a, size_t lda, const float* w,
                                         float* c, size_t ldc, bool accumulate) {
  kernel_8x32_m<false>(m, n, k, a, lda, w, c, ldc, accumulate);
}

void frnn_f32_ppmm_ukernel_8x32__avx512f(size_t m, size_t n, size_t k, const float* a, const float* w, float* c,
                                         size_t ldc, bool accumulate) {
  kernel_8x32_m<true>(m, n, k, a, 0, w, c, ldc, accumulate);
}

}  // namespace frnn

namespace frnn {

// Four W rows at a time (four independent FMA chains), 16 k per step, a masked k tail.
void frnn_f32_gemm_dot__avx512f(size_t m, size_t n, size_t k, const float* a, size_t lda, const float* w,
                                size_t ldw, float* c, size_t ldc, bool accumulate) {
  const size_t k16 = k & ~size_t{15};
  const __mmask16 tail = static_cast<__mmask16>((1u << (k - k16)) - 1);
  for (size_t i = 0; i < m; ++i) {
    const float* ai = a + i * lda;
    float* ci = c + i * ldc;
    const __m512 at = _mm512_maskz_loadu_ps(tail, ai + k16);
    size_t j = 0;
    for (; j + 4 <= n; j += 4) {
      const float* w0 = w + j * ldw;
      __m512 s0 = _mm512_setzero_ps(), s1 = s0, s2 = s0, s3 = s0;
      for (size_t p = 0; p < k16; p += 16) {
        const __m512 av = _mm512_loadu_ps(ai + p);
        s0 = _mm512_fmadd_ps(av, _mm512_loadu_ps(w0 + p), s0);
        s1 = _mm512_fmadd_ps(av, _mm512_loadu_ps(w0 + ldw + p), s1);
        s2 = _mm512_fmadd_ps(av, _mm512_loadu_ps(w0 + 2 * ldw + p), s2);
        s3 = _mm512_fmadd_ps(av, _mm512_loadu_ps(w0 + 3 * ldw + p), s3);
      }
      if (tail) {
        s0 = _mm512_fmadd_ps(at, _mm512_maskz_loadu_ps(tail, w0 + k16), s0);
        s1 = _mm512_fmadd_ps(at, _mm512_maskz_loadu_ps(tail, w0 + ldw + k16), s1);
        s2 = _mm512_fmadd_ps(at, _mm512_maskz_loadu_ps(tail, w0 + 2 * ldw + k16), s2);
        s3 = _mm512_fmadd_ps(at, _mm512_maskz_loadu_ps(tail, w0 + 3 * ldw + k16), s3);
      }
      const float r[4] = {_mm512_reduce_add_ps(s0), _mm512_reduce_add_ps(s1), _mm512_reduce_add_ps(s2),
                          _mm512_reduce_add_ps(s3)};
      for (int q = 0; q < 4; ++q) ci[j + q] = accumulate ? ci[j + q] + r[q] : r[q];
    }
    for (; j < n; ++j) {
      const float* wj = w + j * ldw;
      __m512 s0 = _mm512_setzero_ps();
      for (size_t p = 0; p < k16; p += 16) s0 = _mm512_fmadd_ps(_mm512_loadu_ps(ai + p), _mm512_loadu_ps(wj + p), s0);
      if (tail) s0 = _mm512_fmadd_ps(at, _mm512_maskz_loadu_ps(tail, wj + k16), s0);
      const float r = _mm512_reduce_add_ps(s0);
      ci[j] = accumulate ? ci[j] + r : r;
    }
  }
}

}  // namespace frnn

namespace frnn {

// Strips of 8 floats (32 bytes, 32-byte aligned in a 64-byte aligned buffer) per row of M.
// The strips of a whole sequence are read only after its last step: cached stores would
// evict the step's weights (medium LSTM training: 2% slower with plain copies than with
// the packing pass, 1.5% faster with these).
void frnn_f32_pack_strips_8__avx512f(float* strips, size_t k, size_t p0, size_t rows, const float* src, size_t ld,
                                     size_t c0, size_t c1) {
  for (size_t c = c0; c < c1; c += 8) {
    float* d = strips + c * k + p0 * 8;
    const float* s = src + c;
    if (c + 8 <= c1) {
      for (size_t p = 0; p < rows; ++p) _mm256_stream_ps(d + p * 8, _mm256_loadu_ps(s + p * ld));
    } else {
      for (size_t p = 0; p < rows; ++p) std::memcpy(d + p * 8, s + p * ld, (c1 - c) * sizeof(float));
    }
  }
  _mm_sfence();  // other threads see the streamed stores after their next barrier
}

}  // namespace frnn
