// Scalar f32 "vector" traits: one float per vector (kLanes = 1).
//
// The same interface as simd/f32_avx2.h and simd/f32_avx512.h, so a pointwise kernel written
// once as `template <class S> ...` on S::vf / S::load / S::fmadd / S::sigmoid compiles for every
// ISA (one source, not one per ISA). This is also the accuracy reference: exp and tanh are
// std::exp and std::tanh, and fmadd is a plain a*b + c (two roundings; everything builds with
// -ffp-contract=off).
//
// Interface shared by all three traits (vf = vector of kLanes floats, vm = per-lane mask):
//   zero() set1(f) load(p) loadu(p) store(p,v) storeu(p,v)
//   load_partial(p,n) store_partial(p,v,n)   n in [0, kLanes]: touches only p[0..n), other lanes 0
//   add sub mul div fmadd(a,b,c)=a*b+c fnmadd(a,b,c)=c-a*b min max abs neg
//   gt lt ge le eq -> vm (ordered: false when either side is NaN); select(m, a, b) = m ? a : b
//   exp sigmoid tanh
// min(a, b) and max(a, b) follow x86 MINPS/MAXPS: when either operand is NaN the result is b.
// Put the constant first (max(set1(lo), x)) to let a NaN x through, the variable first to
// squash it.
//
// The structs sit in an unnamed namespace on purpose: the same traits (and every template
// instantiated with them) are compiled once per ISA file with different -m flags. Internal
// linkage keeps the linker from merging, say, an AVX-512-compiled Scalar kernel into the
// baseline path (the classic multi-ISA ODR trap).
#pragma once

#include <cmath>
#include <cstddef>

namespace frnn {
namespace simd {
namespace {

struct Scalar {
  using vf = float;
  using vm = bool;
  static constexpr int kLanes = 1;
  static constexpr const char* kName = "scalar";

  static inline vf zero() { return 0.0f; }
  static inline vf set1(float v) { return v; }
  static inline vf load(const float* p) { return *p; }
  static inline vf loadu(const float* p) { return *p; }
  static inline void store(float* p, vf v) { *p = v; }
  static inline void storeu(float* p, vf v) { *p = v; }
  // n == 0 reads nothing and gives 0; n == 1 is a plain load.
  static inline vf load_partial(const float* p, size_t n) { return n ? *p : 0.0f; }
  static inline void store_partial(float* p, vf v, size_t n) {
    if (n) *p = v;
  }

  static inline vf add(vf a, vf b) { return a + b; }
  static inline vf sub(vf a, vf b) { return a - b; }
  static inline vf mul(vf a, vf b) { return a * b; }
  static inline vf div(vf a, vf b) { return a / b; }
  // a*b + c and c - a*b, with two roundings (the SIMD traits fuse them).
  static inline vf fmadd(vf a, vf b, vf c) { return a * b + c; }
  static inline vf fnmadd(vf a, vf b, vf c) { return c - a * b; }
  static inline vf min(vf a, vf b) { return a < b ? a : b; }
  static inline vf max(vf a, vf b) { return a > b ? a : b; }
  static inline vf abs(vf a) { return std::fabs(a); }
  static inline vf neg(vf a) { return -a; }

  static inline vm gt(vf a, vf b) { return a > b; }
  static inline vm lt(vf a, vf b) { return a < b; }
  static inline vm ge(vf a, vf b) { return a >= b; }
  static inline vm le(vf a, vf b) { return a <= b; }
  static inline vm eq(vf a, vf b) { return a == b; }
  static inline vf select(vm m, vf a, vf b) { return m ? a : b; }

  // glibc expf: max 0.5 ulp (correctly rounded on the test sweep); 0 below -103.97, +inf
  // above 88.72, NaN -> NaN.
  static inline vf exp(vf x) { return std::exp(x); }

  // 1/(1 + e^-|x|) or e^-|x|/(1 + e^-|x|), as the SIMD traits do: max 1.8e-7 rel (2.4 ulp)
  // and 8.9e-8 abs on [-104, 104]; exactly 1 above 16.64, 0 below -103.97, NaN -> NaN.
  static inline vf sigmoid(vf x) {
    const float e = std::exp(-std::fabs(x));
    return (x < 0.0f ? e : 1.0f) / (1.0f + e);
  }

  // glibc tanhf: max 2.1 ulp, 1.6e-7 rel and 1.0e-7 abs on the test sweep; +-1 beyond
  // +-9.01, tanh(-0) = -0, NaN -> NaN.
  static inline vf tanh(vf x) { return std::tanh(x); }
};

}  // namespace
}  // namespace simd
}  // namespace frnn
