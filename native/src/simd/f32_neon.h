// AArch64 Advanced SIMD (NEON) f32 vector traits: 4 floats per float32x4_t.
//
// Same interface as simd/f32_scalar.h (see the list there). Include only from *_neon.cc files
// (only per-ISA files get ISA flags: ARCHITECTURE.md). NEON is part of the AArch64
// baseline, so those files need no -m flag; the #error below catches an include from a
// 32-bit ARM or non-ARM build.
//
// Tails: load_partial / store_partial go lane by lane (a 64-bit pair plus one lane for n = 3),
// so lanes >= n are neither read nor written (no fault, no ASan report) and load as 0.
//
// min / max keep the x86 MINPS / MAXPS rule of the other traits (NaN in either -> b), so the
// kernels written on them behave the same on every ISA; they cost a compare and a select.
// Inside exp and tanh, where the only aim is to let a NaN through a clamp, the native
// FMIN / FMAX (NaN in either -> NaN) do that in one instruction.
//
// exp, sigmoid and tanh are the AVX2 algorithms instruction for instruction (same constants,
// same fused multiply-adds, round-to-nearest-even n, IEEE division), so they give the same
// bits as simd::Avx2 in the same FP mode: checked on every 61st float bit pattern (70.4M
// inputs, specials included) under qemu-aarch64, so the accuracy comments below are the AVX2
// ones. Subnormal results are as stated with IEEE semantics (FPCR.FZ clear, as vmath_test
// runs them); inside the drivers cpu/fpmode.h sets FPCR.FZ, as it sets FTZ/DAZ on x86, and
// they flush to 0 on both.
#pragma once

#if !defined(__aarch64__) || !defined(__ARM_NEON)
#error "simd/f32_neon.h needs AArch64 Advanced SIMD: include it only from *_neon.cc files"
#endif

#include <arm_neon.h>

#include <cstddef>
#include <cstdint>

namespace frnn {
namespace simd {
namespace {  // internal linkage: see simd/f32_scalar.h

struct Neon {
  using vf = float32x4_t;
  using vm = uint32x4_t;  // all-ones / all-zeros lanes, as FCMxx makes them
  static constexpr int kLanes = 4;
  static constexpr const char* kName = "neon";

  static inline vf zero() { return vdupq_n_f32(0.0f); }
  static inline vf set1(float v) { return vdupq_n_f32(v); }
  static inline vf load(const float* p) { return vld1q_f32(p); }  // no alignment needed
  static inline vf loadu(const float* p) { return vld1q_f32(p); }
  static inline void store(float* p, vf v) { vst1q_f32(p, v); }
  static inline void storeu(float* p, vf v) { vst1q_f32(p, v); }

  // p[0..n), n in [0, 4]; lanes >= n are 0 and their memory is not touched.
  static inline vf load_partial(const float* p, size_t n) {
    switch (n) {
      case 0: return zero();
      case 1: return vld1q_lane_f32(p, zero(), 0);
      case 2: return vcombine_f32(vld1_f32(p), vdup_n_f32(0.0f));
      case 3: return vcombine_f32(vld1_f32(p), vld1_lane_f32(p + 2, vdup_n_f32(0.0f), 0));
      default: return vld1q_f32(p);
    }
  }
  static inline void store_partial(float* p, vf v, size_t n) {
    switch (n) {
      case 0: break;
      case 1: vst1q_lane_f32(p, v, 0); break;
      case 2: vst1_f32(p, vget_low_f32(v)); break;
      case 3:
        vst1_f32(p, vget_low_f32(v));
        vst1q_lane_f32(p + 2, v, 2);
        break;
      default: vst1q_f32(p, v); break;
    }
  }

  static inline vf add(vf a, vf b) { return vaddq_f32(a, b); }
  static inline vf sub(vf a, vf b) { return vsubq_f32(a, b); }
  static inline vf mul(vf a, vf b) { return vmulq_f32(a, b); }
  static inline vf div(vf a, vf b) { return vdivq_f32(a, b); }  // IEEE division, not FRECPE
  static inline vf fmadd(vf a, vf b, vf c) { return vfmaq_f32(c, a, b); }   // a*b + c, one rounding
  static inline vf fnmadd(vf a, vf b, vf c) { return vfmsq_f32(c, a, b); }  // c - a*b, one rounding
  static inline vf min(vf a, vf b) { return vbslq_f32(vcltq_f32(a, b), a, b); }  // a < b ? a : b (x86 rule)
  static inline vf max(vf a, vf b) { return vbslq_f32(vcgtq_f32(a, b), a, b); }  // a > b ? a : b (x86 rule)
  static inline vf abs(vf a) { return vabsq_f32(a); }
  static inline vf neg(vf a) { return vnegq_f32(a); }

  static inline vm gt(vf a, vf b) { return vcgtq_f32(a, b); }  // ordered: false on NaN
  static inline vm lt(vf a, vf b) { return vcltq_f32(a, b); }
  static inline vm ge(vf a, vf b) { return vcgeq_f32(a, b); }
  static inline vm le(vf a, vf b) { return vcleq_f32(a, b); }
  static inline vm eq(vf a, vf b) { return vceqq_f32(a, b); }
  static inline vf select(vm m, vf a, vf b) { return vbslq_f32(m, a, b); }  // m ? a : b

  // e^x, as simd::Avx2::exp: n = round(x/ln2) (ties to even), r = x - n*ln2 (Cody-Waite,
  // ln2 = hi + lo, fused), e^r = 1 + r + r^2 q(r) with q the degree-4 relative minimax on
  // [-ln2/2, ln2/2], then 2^n as two exact power-of-two factors 2^(n>>1) * 2^(n - (n>>1)), so
  // subnormal results are rounded once and overflow gives +inf without integer wrap-around.
  // max 0.91 ulp (7.7e-8 rel) on [-104, 104], subnormal results (x < -87.34) included;
  // 0 below -103.97, +inf above 88.72, exp(-inf) = 0, exp(+inf) = +inf, NaN -> NaN.
  static inline vf exp(vf x) {
    // Clamp so that n stays in [-150, 128] (both halves of 2^n are then normal floats).
    // FMAX / FMIN return NaN for a NaN x, which then propagates through p.
    x = vmaxq_f32(x, vdupq_n_f32(-104.0f));
    x = vminq_f32(x, vdupq_n_f32(89.0f));
    const vf n = vrndnq_f32(vmulq_f32(x, vdupq_n_f32(0x1.715476p+0f)));
    vf r = vfmaq_f32(x, n, vdupq_n_f32(-0x1.62E430p-1f));  // x - n*ln2_hi
    r = vfmaq_f32(r, n, vdupq_n_f32(0x1.05C610p-29f));      // - n*ln2_lo
    vf p = vdupq_n_f32(0x1.6A244Cp-10f);
    p = vfmaq_f32(vdupq_n_f32(0x1.1239D4p-7f), p, r);
    p = vfmaq_f32(vdupq_n_f32(0x1.5558F2p-5f), p, r);
    p = vfmaq_f32(vdupq_n_f32(0x1.555492p-3f), p, r);
    p = vfmaq_f32(vdupq_n_f32(0x1.FFFFFCp-2f), p, r);
    p = vfmaq_f32(vdupq_n_f32(1.0f), p, r);
    p = vfmaq_f32(vdupq_n_f32(1.0f), p, r);
    // 2^n1 * 2^n2 with n1 = n >> 1, n2 = n - n1, both in [-75, 64]. n is already integral, so
    // the conversion is exact (a NaN x converts to 0, but p is NaN and so is the product).
    const int32x4_t ni = vcvtq_s32_f32(n);
    const int32x4_t n1 = vshrq_n_s32(ni, 1);
    const int32x4_t n2 = vsubq_s32(ni, n1);
    const int32x4_t bias = vdupq_n_s32(127);
    const vf s1 = vreinterpretq_f32_s32(vshlq_n_s32(vaddq_s32(n1, bias), 23));
    const vf s2 = vreinterpretq_f32_s32(vshlq_n_s32(vaddq_s32(n2, bias), 23));
    return vmulq_f32(vmulq_f32(p, s1), s2);
  }

  // 1/(1 + e^-x) as num/(1 + e) with e = e^-|x| in (0, 1] (never overflows) and num = 1 for
  // x >= 0, e for x < 0; one IEEE division (vdivq_f32).
  // max 1.8e-7 rel (2.4 ulp) and 8.9e-8 abs on [-104, 104], subnormal results (x < -87.34)
  // rounded once; exactly 1 above 16.64, exactly 0 below -103.97, 0.5 at +-0, NaN -> NaN.
  static inline vf sigmoid(vf x) {
    const vf one = vdupq_n_f32(1.0f);
    const vf e = exp(vnegq_f32(vabsq_f32(x)));  // e^-|x|
    const vf num = vbslq_f32(vcltq_f32(x, zero()), e, one);
    return vdivq_f32(num, vaddq_f32(one, e));
  }

  // tanh on z = |x|, sign restored at the end (so tanh(-0) = -0), as simd::Avx2::tanh:
  //   z < 0.625:  z + z^3 P(z^2), P Cephes' tanhf degree 4 (4.4e-9 rel), relative accuracy to 0
  //   z >= 0.625: 1 - 2/(e^(2 min(z, 9.1)) + 1), one IEEE division
  // max 1.4 ulp, 1.5e-7 rel and 8.2e-8 abs everywhere (worst just past the 0.625 switch);
  // +-1 exactly for |x| > 9.011, tanh(+-inf) = +-1, monotonic, NaN -> NaN.
  static inline vf tanh(vf x) {
    const vf one = vdupq_n_f32(1.0f);
    const vf z = vabsq_f32(x);
    // Small |x|: odd polynomial.
    const vf z2 = vmulq_f32(z, z);
    vf p = vdupq_n_f32(-5.70498872745e-3f);
    p = vfmaq_f32(vdupq_n_f32(2.06390887954e-2f), p, z2);
    p = vfmaq_f32(vdupq_n_f32(-5.37397155531e-2f), p, z2);
    p = vfmaq_f32(vdupq_n_f32(1.33314422036e-1f), p, z2);
    p = vfmaq_f32(vdupq_n_f32(-3.33332819422e-1f), p, z2);
    const vf small = vfmaq_f32(z, vmulq_f32(z, z2), p);
    // Large |x|: 1 - 2/(e^2z + 1); past 9.1 the float result is 1 (FMIN: a NaN z passes).
    const vf zc = vminq_f32(z, vdupq_n_f32(9.1f));
    const vf e = exp(vaddq_f32(zc, zc));
    const vf large = vsubq_f32(one, vdivq_f32(vdupq_n_f32(2.0f), vaddq_f32(e, one)));
    const vf t = vbslq_f32(vcltq_f32(z, vdupq_n_f32(0.625f)), small, large);
    // t >= 0 (or NaN): copy x's sign bit onto it.
    return vbslq_f32(vdupq_n_u32(0x80000000u), x, t);
  }
};

}  // namespace
}  // namespace simd
}  // namespace frnn
