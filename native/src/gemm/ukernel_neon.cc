// AArch64 NEON micro-kernel: 8 rows × 8 columns of C in 16 q-register accumulators.
//
// Register budget (32 q-registers): 16 accumulators + 8 for four W panel rows (k .. k+3)
// + 1-2 A vectors (4 consecutive k of one row, one LDR q) = 25-26. The k loop is unrolled
// by 4 and each A element is used straight from its lane (FMLA v.4s, v.4s, v.s[lane]), so
// no broadcast instruction or register is spent on A; a k % 4 tail broadcasts (LD1R).
// 8x12 would need 24 + 12 + 1 = 37 (24 + 3 + 8 with the loops swapped), past 32.
//
// Every C element sums its k terms in increasing order with one fused multiply-add each,
// exactly as the broadcast kernels of the other ISAs do.
//
// NEON is baseline on AArch64: no ISA flag. Elsewhere this file compiles to nothing (and the
// builds leave it out on x86-64 anyway).
#if defined(__aarch64__)

#include <arm_neon.h>

#include "gemm/ukernel.h"

namespace frnn {

template <int M>
static void kernel_8x8(size_t n, size_t k, const float* a, size_t lda, const float* w, float* c, size_t ldc,
                       bool accumulate) {
  // Every loop over i is unrolled so the accumulators live in registers, never on the stack.
  float32x4_t acc0[M], acc1[M];
#pragma GCC unroll 8
  for (int i = 0; i < M; ++i) acc0[i] = acc1[i] = vdupq_n_f32(0.0f);
  size_t p = 0;
  for (; p + 4 <= k; p += 4) {
    const float* wp = w + p * 8;  // W rows p .. p+3, 8 floats each
    const float32x4_t w00 = vld1q_f32(wp), w01 = vld1q_f32(wp + 4);
    const float32x4_t w10 = vld1q_f32(wp + 8), w11 = vld1q_f32(wp + 12);
    const float32x4_t w20 = vld1q_f32(wp + 16), w21 = vld1q_f32(wp + 20);
    const float32x4_t w30 = vld1q_f32(wp + 24), w31 = vld1q_f32(wp + 28);
#pragma GCC unroll 8
    for (int i = 0; i < M; ++i) {
      const float32x4_t ai = vld1q_f32(a + i * lda + p);  // A[i, p .. p+3]
      acc0[i] = vfmaq_laneq_f32(acc0[i], w00, ai, 0);
      acc1[i] = vfmaq_laneq_f32(acc1[i], w01, ai, 0);
      acc0[i] = vfmaq_laneq_f32(acc0[i], w10, ai, 1);
      acc1[i] = vfmaq_laneq_f32(acc1[i], w11, ai, 1);
      acc0[i] = vfmaq_laneq_f32(acc0[i], w20, ai, 2);
      acc1[i] = vfmaq_laneq_f32(acc1[i], w21, ai, 2);
      acc0[i] = vfmaq_laneq_f32(acc0[i], w30, ai, 3);
      acc1[i] = vfmaq_laneq_f32(acc1[i], w31, ai, 3);
    }
  }
  for (; p < k; ++p) {  // k % 4 tail
    const float32x4_t w0 = vld1q_f32(w + p * 8), w1 = vld1q_f32(w + p * 8 + 4);
#pragma GCC unroll 8
    for (int i = 0; i < M; ++i) {
      const float32x4_t ai = vld1q_dup_f32(a + i * lda + p);
      acc0[i] = vfmaq_f32(acc0[i], ai, w0);
      acc1[i] = vfmaq_f32(acc1[i], ai, w1);
    }
  }
  if (n == 8) {
#pragma GCC unroll 8
    for (int i = 0; i < M; ++i) {
      float* ci = c + i * ldc;
      if (accumulate) {
        acc0[i] = vaddq_f32(vld1q_f32(ci), acc0[i]);
        acc1[i] = vaddq_f32(vld1q_f32(ci + 4), acc1[i]);
      }
      vst1q_f32(ci, acc0[i]);
      vst1q_f32(ci + 4, acc1[i]);
    }
    return;
  }
  // Edge tile: go through a buffer so no element past n is read or written. (Unrolled too:
  // one indexed access to acc0 / acc1 would put them on the stack for the whole kernel.)
#pragma GCC unroll 8
  for (int i = 0; i < M; ++i) {
    float tile[8];
    vst1q_f32(tile, acc0[i]);
    vst1q_f32(tile + 4, acc1[i]);
    float* ci = c + i * ldc;
    for (size_t j = 0; j < n; ++j) ci[j] = accumulate ? ci[j] + tile[j] : tile[j];
  }
}

void frnn_f32_gemm_ukernel_8x8__neon(size_t m, size_t n, size_t k, const float* a, size_t lda, const float* w,
                                     float* c, size_t ldc, bool accumulate) {
  switch (m) {
    case 1: kernel_8x8<1>(n, k, a, lda, w, c, ldc, accumulate); break;
    case 2: kernel_8x8<2>(n, k, a, lda, w, c, ldc, accumulate); break;
    case 3: kernel_8x8<3>(n, k, a, lda, w, c, ldc, accumulate); break;
    case 4: kernel_8x8<4>(n, k, a, lda, w, c, ldc, accumulate); break;
    case 5: kernel_8x8<5>(n, k, a, lda, w, c, ldc, accumulate); break;
    case 6: kernel_8x8<6>(n, k, a, lda, w, c, ldc, accumulate); break;
    case 7: kernel_8x8<7>(n, k, a, lda, w, c, ldc, accumulate); break;
    default: kernel_8x8<8>(n, k, a, lda, w, c, ldc, accumulate); break;
  }
}

}  // namespace frnn

namespace frnn {

// R dot products A-row · W-row (R consecutive W rows), each summed in the same order whatever
// R is: two FMA chains over 8 k per step, one 4-k step, the two chains added, the lanes added
// pairwise (FADDP), then the k % 4 tail in scalar.
template <int R>
__attribute__((always_inline)) static inline void dot_rows(size_t k, const float* ai, const float* w, size_t ldw,
                                                           float* out) {
  float32x4_t s0[R], s1[R];
#pragma GCC unroll 4
  for (int q = 0; q < R; ++q) s0[q] = s1[q] = vdupq_n_f32(0.0f);
  size_t p = 0;
  for (; p + 8 <= k; p += 8) {
    const float32x4_t a0 = vld1q_f32(ai + p), a1 = vld1q_f32(ai + p + 4);
#pragma GCC unroll 4
    for (int q = 0; q < R; ++q) {
      s0[q] = vfmaq_f32(s0[q], a0, vld1q_f32(w + q * ldw + p));
      s1[q] = vfmaq_f32(s1[q], a1, vld1q_f32(w + q * ldw + p + 4));
    }
  }
  if (p + 4 <= k) {
    const float32x4_t a0 = vld1q_f32(ai + p);
#pragma GCC unroll 4
    for (int q = 0; q < R; ++q) s0[q] = vfmaq_f32(s0[q], a0, vld1q_f32(w + q * ldw + p));
    p += 4;
  }
#pragma GCC unroll 4
  for (int q = 0; q < R; ++q) {
    float r = vaddvq_f32(vaddq_f32(s0[q], s1[q]));
    for (size_t t = p; t < k; ++t) r += ai[t] * w[q * ldw + t];
    out[q] = r;
  }
}

// Four W rows at a time (eight independent FMA chains), then one row at a time.
void frnn_f32_gemm_dot__neon(size_t m, size_t n, size_t k, const float* a, size_t lda, const float* w, size_t ldw,
                             float* c, size_t ldc, bool accumulate) {
  for (size_t i = 0; i < m; ++i) {
    const float* ai = a + i * lda;
    float* ci = c + i * ldc;
    size_t j = 0;
    for (; j + 4 <= n; j += 4) {
      float r[4];
      dot_rows<4>(k, ai, w + j * ldw, ldw, r);
      for (int q = 0; q < 4; ++q) ci[j + q] = accumulate ? ci[j + q] + r[q] : r[q];
    }
    for (; j < n; ++j) {
      float r;
      dot_rows<1>(k, ai, w + j * ldw, ldw, &r);
      ci[j] = accumulate ? ci[j] + r : r;
    }
  }
}

}  // namespace frnn

#endif  // __aarch64__
