// AVX-512F f32 vector traits: 16 floats per __m512, masks in __mmask16.
//
// Same interface as simd/f32_scalar.h (see the list there). Include only from *_avx512.cc
// files, which get -mavx512f -mavx2 -mfma (only per-ISA files get ISA flags:
// ARCHITECTURE.md); the #error below catches the rest.
// Only AVX512F instructions are used (no DQ/BW/VL): bit operations go through the integer
// domain (VPANDD/VPORD/VPXORD) because _mm512_and_ps and friends are AVX512DQ.
//
// Tails: load_partial / store_partial are masked (VMOVUPS{k}{z}): lanes >= n are neither read
// nor written (no fault, no ASan report) and load as 0.
//
// Accuracy comments were measured against a double reference over every float with
// 2^-30 <= |x| <= 104 (native/tests/vmath_test.cc asserts them on a 4.25M-point sweep).
#pragma once

#if !defined(__AVX512F__) || !defined(__AVX2__) || (!defined(_MSC_VER) && !defined(__FMA__))
#error "simd/f32_avx512.h needs -mavx512f -mavx2 -mfma: include it only from *_avx512.cc files"
#endif

// GCC 12.1-12.2 warn "__Y may be used uninitialized" inside avx512fintrin.h for every
// intrinsic built on _mm512_undefined_ps (a GCC 12 bug, fixed in 12.3); the warning points
// into the header, so silencing it around the include is enough and hides nothing of ours.
#if defined(__GNUC__) && !defined(__clang__)
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wmaybe-uninitialized"
#pragma GCC diagnostic ignored "-Wuninitialized"
#endif
#include <immintrin.h>
#if defined(__GNUC__) && !defined(__clang__)
#pragma GCC diagnostic pop
#endif

#include <cstddef>
#include <cstdint>

namespace frnn {
namespace simd {
namespace {  // internal linkage: see simd/f32_scalar.h

struct Avx512 {
  using vf = __m512;
  using vm = __mmask16;
  static constexpr int kLanes = 16;
  static constexpr const char* kName = "avx512";

  static inline vf zero() { return _mm512_setzero_ps(); }
  static inline vf set1(float v) { return _mm512_set1_ps(v); }
  static inline vf load(const float* p) { return _mm512_load_ps(p); }  // p 64-byte aligned
  static inline vf loadu(const float* p) { return _mm512_loadu_ps(p); }
  static inline void store(float* p, vf v) { _mm512_store_ps(p, v); }  // p 64-byte aligned
  static inline void storeu(float* p, vf v) { _mm512_storeu_ps(p, v); }

  // The first n lanes, n in [0, 16].
  static inline vm tail_mask(size_t n) { return static_cast<vm>((1u << n) - 1u); }
  // p[0..n), n in [0, 16]; lanes >= n are 0 and their memory is not touched.
  static inline vf load_partial(const float* p, size_t n) { return _mm512_maskz_loadu_ps(tail_mask(n), p); }
  static inline void store_partial(float* p, vf v, size_t n) { _mm512_mask_storeu_ps(p, tail_mask(n), v); }

  static inline vf add(vf a, vf b) { return _mm512_add_ps(a, b); }
  static inline vf sub(vf a, vf b) { return _mm512_sub_ps(a, b); }
  static inline vf mul(vf a, vf b) { return _mm512_mul_ps(a, b); }
  static inline vf div(vf a, vf b) { return _mm512_div_ps(a, b); }  // IEEE division, not rcp14
  static inline vf fmadd(vf a, vf b, vf c) { return _mm512_fmadd_ps(a, b, c); }    // a*b + c, one rounding
  static inline vf fnmadd(vf a, vf b, vf c) { return _mm512_fnmadd_ps(a, b, c); }  // c - a*b, one rounding
  static inline vf min(vf a, vf b) { return _mm512_min_ps(a, b); }  // NaN in either -> b
  static inline vf max(vf a, vf b) { return _mm512_max_ps(a, b); }  // NaN in either -> b
  static inline vf abs(vf a) { return _mm512_castsi512_ps(_mm512_and_epi32(_mm512_castps_si512(a), _mm512_set1_epi32(0x7FFFFFFF))); }
  static inline vf neg(vf a) { return _mm512_castsi512_ps(_mm512_xor_epi32(_mm512_castps_si512(a), _mm512_set1_epi32(INT32_MIN))); }

  static inline vm gt(vf a, vf b) { return _mm512_cmp_ps_mask(a, b, _CMP_GT_OQ); }
  static inline vm lt(vf a, vf b) { return _mm512_cmp_ps_mask(a, b, _CMP_LT_OQ); }
  static inline vm ge(vf a, vf b) { return _mm512_cmp_ps_mask(a, b, _CMP_GE_OQ); }
  static inline vm le(vf a, vf b) { return _mm512_cmp_ps_mask(a, b, _CMP_LE_OQ); }
  static inline vm eq(vf a, vf b) { return _mm512_cmp_ps_mask(a, b, _CMP_EQ_OQ); }
  static inline vf select(vm m, vf a, vf b) { return _mm512_mask_blend_ps(m, b, a); }  // m ? a : b

  // e^x: n = round(x/ln2), r = x - n*ln2 (Cody-Waite, ln2 = hi + lo, fused), e^r by the
  // degree-6 polynomial 1 + r + r^2 q(r), q relative-error minimax on [-ln2/2, ln2/2] (3.8e-9
  // rel with these float coefficients, so rounding dominates), then VSCALEFPS p*2^n,
  // which rounds subnormal results once and overflows to +inf. Bitwise equal to Avx2::exp.
  // max 0.91 ulp (7.7e-8 rel) on [-104, 104], subnormal results (x < -87.34) included;
  // 0 below -103.97, +inf above 88.72, exp(-inf) = 0, exp(+inf) = +inf, NaN -> NaN.
  static inline vf exp(vf x) {
    // Clamp so that r stays finite for x = +-inf (inf - inf); the constant goes first so
    // that a NaN x passes through (see min/max).
    x = _mm512_max_ps(_mm512_set1_ps(-104.0f), x);
    x = _mm512_min_ps(_mm512_set1_ps(89.0f), x);
    const vf n = _mm512_roundscale_ps(_mm512_mul_ps(x, _mm512_set1_ps(0x1.715476p+0f)),
                                      _MM_FROUND_TO_NEAREST_INT | _MM_FROUND_NO_EXC);
    vf r = _mm512_fmadd_ps(n, _mm512_set1_ps(-0x1.62E430p-1f), x);  // x - n*ln2_hi
    r = _mm512_fmadd_ps(n, _mm512_set1_ps(0x1.05C610p-29f), r);      // - n*ln2_lo
    vf p = _mm512_set1_ps(0x1.6A244Cp-10f);
    p = _mm512_fmadd_ps(p, r, _mm512_set1_ps(0x1.1239D4p-7f));
    p = _mm512_fmadd_ps(p, r, _mm512_set1_ps(0x1.5558F2p-5f));
    p = _mm512_fmadd_ps(p, r, _mm512_set1_ps(0x1.555492p-3f));
    p = _mm512_fmadd_ps(p, r, _mm512_set1_ps(0x1.FFFFFCp-2f));
    p = _mm512_fmadd_ps(p, r, _mm512_set1_ps(1.0f));
    p = _mm512_fmadd_ps(p, r, _mm512_set1_ps(1.0f));
    return _mm512_scalef_ps(p, n);
  }

  // 1/(1 + e^-x) as num/(1 + e) with e = e^-|x| in (0, 1] (never overflows) and num = 1 for
  // x >= 0, e for x < 0; one IEEE division.
  // max 1.8e-7 rel (2.4 ulp) and 8.9e-8 abs on [-104, 104], subnormal results (x < -87.34)
  // rounded once; exactly 1 above 16.64, exactly 0 below -103.97, 0.5 at +-0, NaN -> NaN.
  // Not monotonic at the ulp level (as glibc-based 1/(1+expf(-x)) is not either).
  static inline vf sigmoid(vf x) {
    const vf one = _mm512_set1_ps(1.0f);
    const vf e = exp(_mm512_castsi512_ps(_mm512_or_epi32(_mm512_castps_si512(x), _mm512_set1_epi32(INT32_MIN))));  // e^-|x|
    const vf num = _mm512_mask_blend_ps(lt(x, zero()), one, e);
    return _mm512_div_ps(num, _mm512_add_ps(one, e));
  }

  // tanh on z = |x|, sign restored at the end (so tanh(-0) = -0):
  //   z < 0.625:  z + z^3 P(z^2), P Cephes' tanhf degree 4 (4.4e-9 rel), relative accuracy to 0
  //   z >= 0.625: 1 - 2/(e^(2 min(z, 9.1)) + 1), one IEEE division
  // max 1.4 ulp, 1.5e-7 rel and 8.2e-8 abs everywhere (worst just past the 0.625 switch);
  // +-1 exactly for |x| > 9.011, tanh(+-inf) = +-1, monotonic, NaN -> NaN.
  static inline vf tanh(vf x) {
    const __m512i sign = _mm512_set1_epi32(INT32_MIN);
    const vf one = _mm512_set1_ps(1.0f);
    const vf z = abs(x);
    // Small |x|: odd polynomial.
    const vf z2 = _mm512_mul_ps(z, z);
    vf p = _mm512_set1_ps(-5.70498872745e-3f);
    p = _mm512_fmadd_ps(p, z2, _mm512_set1_ps(2.06390887954e-2f));
    p = _mm512_fmadd_ps(p, z2, _mm512_set1_ps(-5.37397155531e-2f));
    p = _mm512_fmadd_ps(p, z2, _mm512_set1_ps(1.33314422036e-1f));
    p = _mm512_fmadd_ps(p, z2, _mm512_set1_ps(-3.33332819422e-1f));
    const vf small = _mm512_fmadd_ps(_mm512_mul_ps(z, z2), p, z);
    // Large |x|: 1 - 2/(e^2z + 1); past 9.1 the float result is 1 (constant first: NaN passes).
    const vf zc = _mm512_min_ps(_mm512_set1_ps(9.1f), z);
    const vf e = exp(_mm512_add_ps(zc, zc));
    const vf large = _mm512_sub_ps(one, _mm512_div_ps(_mm512_set1_ps(2.0f), _mm512_add_ps(e, one)));
    const vf t = _mm512_mask_blend_ps(lt(z, _mm512_set1_ps(0.625f)), large, small);
    const __m512i xs = _mm512_and_epi32(_mm512_castps_si512(x), sign);
    return _mm512_castsi512_ps(_mm512_or_epi32(_mm512_castps_si512(t), xs));
  }
};

}  // namespace
}  // namespace simd
}  // namespace frnn
