// AVX2 + FMA f32 vector traits: 8 floats per __m256.
//
// Same interface as simd/f32_scalar.h (see the list there). Include only from *_avx2.cc or
// *_avx512.cc files, which get -mavx2 -mfma (only per-ISA files get ISA flags:
// ARCHITECTURE.md); the #error below catches the rest.
//
// Tails: load_partial / store_partial use VMASKMOVPS with a mask from a sliding window over
// kTailMask, so lanes >= n are neither read nor written (no fault, no ASan report, even at
// the end of a page) and load as 0.
//
// Accuracy comments were measured against a double reference over every float with
// 2^-30 <= |x| <= 104 (native/tests/vmath_test.cc asserts them on a 4.25M-point sweep).
#pragma once

#if !defined(__AVX2__) || (!defined(_MSC_VER) && !defined(__FMA__))
#error "simd/f32_avx2.h needs -mavx2 -mfma: include it only from *_avx2.cc / *_avx512.cc files"
#endif

#include <immintrin.h>

#include <cstddef>
#include <cstdint>

namespace frnn {
namespace simd {
namespace {  // internal linkage: see simd/f32_scalar.h

struct Avx2 {
  using vf = __m256;
  using vm = __m256;  // all-ones / all-zeros lanes, as VCMPPS makes them
  static constexpr int kLanes = 8;
  static constexpr const char* kName = "avx2";

  static inline vf zero() { return _mm256_setzero_ps(); }
  static inline vf set1(float v) { return _mm256_set1_ps(v); }
  static inline vf load(const float* p) { return _mm256_load_ps(p); }  // p 32-byte aligned
  static inline vf loadu(const float* p) { return _mm256_loadu_ps(p); }
  static inline void store(float* p, vf v) { _mm256_store_ps(p, v); }  // p 32-byte aligned
  static inline void storeu(float* p, vf v) { _mm256_storeu_ps(p, v); }

  // kTailMask + 8 - n: n lanes of -1 followed by zeros, for n in [0, 8].
  static constexpr int32_t kTailMask[16] = {-1, -1, -1, -1, -1, -1, -1, -1, 0, 0, 0, 0, 0, 0, 0, 0};
  static inline __m256i tail_mask(size_t n) {
    return _mm256_loadu_si256(reinterpret_cast<const __m256i*>(kTailMask + 8 - n));
  }
  // p[0..n), n in [0, 8]; lanes >= n are 0 and their memory is not touched.
  static inline vf load_partial(const float* p, size_t n) { return _mm256_maskload_ps(p, tail_mask(n)); }
  static inline void store_partial(float* p, vf v, size_t n) { _mm256_maskstore_ps(p, tail_mask(n), v); }

  static inline vf add(vf a, vf b) { return _mm256_add_ps(a, b); }
  static inline vf sub(vf a, vf b) { return _mm256_sub_ps(a, b); }
  static inline vf mul(vf a, vf b) { return _mm256_mul_ps(a, b); }
  static inline vf div(vf a, vf b) { return _mm256_div_ps(a, b); }  // IEEE division, not rcp
  static inline vf fmadd(vf a, vf b, vf c) { return _mm256_fmadd_ps(a, b, c); }    // a*b + c, one rounding
  static inline vf fnmadd(vf a, vf b, vf c) { return _mm256_fnmadd_ps(a, b, c); }  // c - a*b, one rounding
  static inline vf min(vf a, vf b) { return _mm256_min_ps(a, b); }  // NaN in either -> b
  static inline vf max(vf a, vf b) { return _mm256_max_ps(a, b); }  // NaN in either -> b
  static inline vf abs(vf a) { return _mm256_andnot_ps(_mm256_set1_ps(-0.0f), a); }
  static inline vf neg(vf a) { return _mm256_xor_ps(_mm256_set1_ps(-0.0f), a); }

  static inline vm gt(vf a, vf b) { return _mm256_cmp_ps(a, b, _CMP_GT_OQ); }
  static inline vm lt(vf a, vf b) { return _mm256_cmp_ps(a, b, _CMP_LT_OQ); }
  static inline vm ge(vf a, vf b) { return _mm256_cmp_ps(a, b, _CMP_GE_OQ); }
  static inline vm le(vf a, vf b) { return _mm256_cmp_ps(a, b, _CMP_LE_OQ); }
  static inline vm eq(vf a, vf b) { return _mm256_cmp_ps(a, b, _CMP_EQ_OQ); }
  static inline vf select(vm m, vf a, vf b) { return _mm256_blendv_ps(b, a, m); }  // m ? a : b

  // e^x: n = round(x/ln2), r = x - n*ln2 (Cody-Waite, ln2 = hi + lo, fused), e^r by the
  // degree-6 polynomial 1 + r + r^2 q(r), q relative-error minimax on [-ln2/2, ln2/2] (3.8e-9
  // rel with these float coefficients, so rounding dominates), then 2^n applied as two
  // exact power-of-two factors 2^(n>>1) * 2^(n - (n>>1)) so subnormal results are rounded once
  // and overflow gives +inf without integer wrap-around.
  // max 0.91 ulp (7.7e-8 rel) on [-104, 104], subnormal results (x < -87.34) included;
  // 0 below -103.97, +inf above 88.72, exp(-inf) = 0, exp(+inf) = +inf, NaN -> NaN.
  static inline vf exp(vf x) {
    // Clamp so that n stays in [-150, 128] (both halves of 2^n are then normal floats); the
    // constant goes first so that a NaN x passes through (see min/max).
    x = _mm256_max_ps(_mm256_set1_ps(-104.0f), x);
    x = _mm256_min_ps(_mm256_set1_ps(89.0f), x);
    const vf n = _mm256_round_ps(_mm256_mul_ps(x, _mm256_set1_ps(0x1.715476p+0f)),
                                 _MM_FROUND_TO_NEAREST_INT | _MM_FROUND_NO_EXC);
    vf r = _mm256_fmadd_ps(n, _mm256_set1_ps(-0x1.62E430p-1f), x);  // x - n*ln2_hi
    r = _mm256_fmadd_ps(n, _mm256_set1_ps(0x1.05C610p-29f), r);      // - n*ln2_lo
    vf p = _mm256_set1_ps(0x1.6A244Cp-10f);
    p = _mm256_fmadd_ps(p, r, _mm256_set1_ps(0x1.1239D4p-7f));
    p = _mm256_fmadd_ps(p, r, _mm256_set1_ps(0x1.5558F2p-5f));
    p = _mm256_fmadd_ps(p, r, _mm256_set1_ps(0x1.555492p-3f));
    p = _mm256_fmadd_ps(p, r, _mm256_set1_ps(0x1.FFFFFCp-2f));
    p = _mm256_fmadd_ps(p, r, _mm256_set1_ps(1.0f));
    p = _mm256_fmadd_ps(p, r, _mm256_set1_ps(1.0f));
    // 2^n1 * 2^n2 with n1 = n >> 1, n2 = n - n1, both in [-75, 64]. A NaN x makes n garbage,
    // but p is NaN and so is the product.
    const __m256i ni = _mm256_cvtps_epi32(n);
    const __m256i n1 = _mm256_srai_epi32(ni, 1);
    const __m256i n2 = _mm256_sub_epi32(ni, n1);
    const __m256i bias = _mm256_set1_epi32(127);
    const vf s1 = _mm256_castsi256_ps(_mm256_slli_epi32(_mm256_add_epi32(n1, bias), 23));
    const vf s2 = _mm256_castsi256_ps(_mm256_slli_epi32(_mm256_add_epi32(n2, bias), 23));
    return _mm256_mul_ps(_mm256_mul_ps(p, s1), s2);
  }

  // 1/(1 + e^-x) as num/(1 + e) with e = e^-|x| in (0, 1] (never overflows) and num = 1 for
  // x >= 0, e for x < 0; one IEEE division.
  // max 1.8e-7 rel (2.4 ulp) and 8.9e-8 abs on [-104, 104], subnormal results (x < -87.34)
  // rounded once; exactly 1 above 16.64, exactly 0 below -103.97, 0.5 at +-0, NaN -> NaN.
  // Not monotonic at the ulp level (as glibc-based 1/(1+expf(-x)) is not either).
  static inline vf sigmoid(vf x) {
    const vf one = _mm256_set1_ps(1.0f);
    const vf e = exp(_mm256_or_ps(x, _mm256_set1_ps(-0.0f)));  // e^-|x|
    const vf num = select(lt(x, zero()), e, one);
    return _mm256_div_ps(num, _mm256_add_ps(one, e));
  }

  // tanh on z = |x|, sign restored at the end (so tanh(-0) = -0):
  //   z < 0.625:  z + z^3 P(z^2), P Cephes' tanhf degree 4 (4.4e-9 rel), relative accuracy to 0
  //   z >= 0.625: 1 - 2/(e^(2 min(z, 9.1)) + 1), one IEEE division
  // max 1.4 ulp, 1.5e-7 rel and 8.2e-8 abs everywhere (worst just past the 0.625 switch);
  // +-1 exactly for |x| > 9.011, tanh(+-inf) = +-1, monotonic, NaN -> NaN.
  static inline vf tanh(vf x) {
    const vf sign = _mm256_set1_ps(-0.0f);
    const vf one = _mm256_set1_ps(1.0f);
    const vf z = _mm256_andnot_ps(sign, x);
    // Small |x|: odd polynomial.
    const vf z2 = _mm256_mul_ps(z, z);
    vf p = _mm256_set1_ps(-5.70498872745e-3f);
    p = _mm256_fmadd_ps(p, z2, _mm256_set1_ps(2.06390887954e-2f));
    p = _mm256_fmadd_ps(p, z2, _mm256_set1_ps(-5.37397155531e-2f));
    p = _mm256_fmadd_ps(p, z2, _mm256_set1_ps(1.33314422036e-1f));
    p = _mm256_fmadd_ps(p, z2, _mm256_set1_ps(-3.33332819422e-1f));
    const vf small = _mm256_fmadd_ps(_mm256_mul_ps(z, z2), p, z);
    // Large |x|: 1 - 2/(e^2z + 1); past 9.1 the float result is 1 (constant first: NaN passes).
    const vf zc = _mm256_min_ps(_mm256_set1_ps(9.1f), z);
    const vf e = exp(_mm256_add_ps(zc, zc));
    const vf large = _mm256_sub_ps(one, _mm256_div_ps(_mm256_set1_ps(2.0f), _mm256_add_ps(e, one)));
    const vf t = select(lt(z, _mm256_set1_ps(0.625f)), small, large);
    return _mm256_or_ps(t, _mm256_and_ps(sign, x));
  }
};

}  // namespace
}  // namespace simd
}  // namespace frnn
