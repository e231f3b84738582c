// int8 products: quantization, packing and the reference arithmetic of the int8 micro-kernels.
//
// C (+)= A·B with
//   B (the weights) s8, symmetric, one scale per output column (a gate row of W or R):
//     sw[j] = max_p |b[p][j]| / 127, q[p][j] = rne(b[p][j] · (127 / max)) in [-127, 127];
//   A (x or h) u8, one scale per row, chosen per call (dynamic):
//     sa[i] = max_p |a[i][p]| / 127, a8[i][p] = rne(a[i][p] · (127 / max)) + 128 in [1, 255];
//   C[i][j] = (float(acc) · sa[i]) · sw[j]  (+ C, added last), with the exact integer
//     acc = Σ_p a8[i][p]·q[p][j] − 128·Σ_p q[p][j]  (= Σ_p (a8 − 128)·q).
// acc is exact in int32 for k ≤ kInt8MaxK (|acc| ≤ 127·127·k); the kernels add in wrapping
// 32-bit arithmetic (VPDPBUSD wraps too), which gives the exact sum whenever the sum fits.
// Every float operation is one IEEE operation in that fixed order (no FMA), so every kernel
// gives the bits of dequantize_reference(). Rows (or columns) whose max|·| is below 2^-100 are
// quantized to zero (scale 0); a row holding Inf or NaN gets scale NaN, so its outputs are NaN.
//
// Layouts:
//   A rows: u8, k rounded up to a multiple of 4 (k4 groups), padded with 128 (zero).
//   B panels: NR columns per panel, k4 group-rows per panel; group-row p of panel j holds
//             [col0: q[4p..4p+3][c0] | col1: ...] — NR groups of 4 s8, 4·NR bytes, zero-padded.
//   comp[j] = −128·Σ_p q[p][j] and sw[j] per column, both padded to whole panels (zeros).
#pragma once

#include <cmath>
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <vector>

namespace frnn {

// Largest k whose exact sums fit int32 (127·127·k < 2^31); int8 configs are checked against it.
constexpr size_t kInt8MaxK = 131072;

// |x|'s bits as an integer: ordered like |x| for every float, NaN above Inf.
inline uint32_t abs_bits(float f) {
  uint32_t u;
  std::memcpy(&u, &f, 4);
  return u & 0x7fffffffu;
}

constexpr uint32_t kInt8InfBits = 0x7f800000u;
constexpr uint32_t kInt8TinyBits = 27u << 23;  // 2^-100: below it a row quantizes to zero

// From the largest |x|'s bits of a row: its scale (max / 127) and the multiplier of its
// elements (127 / max); inv = 0 for a zero row, and also for a non-finite one (scale NaN).
inline void int8_scales(uint32_t max_bits, float* scale, float* inv) {
  if (max_bits >= kInt8InfBits) {
    *scale = std::nanf("");
    *inv = 0.0f;
  } else if (max_bits < kInt8TinyBits) {
    *scale = 0.0f;
    *inv = 0.0f;
  } else {
    float m;
    std::memcpy(&m, &max_bits, 4);
    *scale = m / 127.0f;
    *inv = 127.0f / m;
  }
}

// rne(x · inv) for x of a finite row: |x · inv| <= 127 by construction; clamped all the same.
inline int32_t quantize_one(float x, float inv) {
  if (inv == 0.0f) return 0;  // zero or non-finite row (x · 0 may be NaN)
  // Round to nearest even by adding and subtracting 1.5·2^23 (exact for |t| < 2^22): what
  // std::nearbyint gives, without its library call on baseline x86-64 (no SSE4.1 roundss).
  constexpr float kRne = 12582912.0f;
  float t = (x * inv + kRne) - kRne;  // IEEE arithmetic: no compiler folds this (no -ffast-math)
  t = t > 127.0f ? 127.0f : t < -127.0f ? -127.0f : t;
  return static_cast<int32_t>(t);
}

// Rows of float32 A [m×k] (stride lda) to u8 rows of length ldo (a multiple of 4, >= k; the
// padding is 128) and their scales: the reference every quantizer of int8_ukernels.inc matches.
void quantize_rows_u8(size_t m, size_t k, const float* a, size_t lda, uint8_t* out, size_t ldo, float* scale);

// The exact integer sum of one row of A (k4 groups) against one column given as k4·4 s8
// (contiguous) and its comp: wrapping uint32 arithmetic, so no overflow is undefined.
inline int32_t dot_u8s8_reference(const uint8_t* a, const int8_t* q, size_t k4, int32_t comp) {
  uint32_t acc = static_cast<uint32_t>(comp);
  for (size_t p = 0; p < 4 * k4; ++p) acc += static_cast<uint32_t>(a[p]) * static_cast<uint32_t>(int32_t{q[p]});
  int32_t r;
  std::memcpy(&r, &acc, 4);
  return r;
}

// The float part, in the one order every kernel uses.
inline float dequantize_reference(int32_t acc, float sa, float sw, float c, bool accumulate) {
  float v = static_cast<float>(acc);
  v = v * sa;
  v = v * sw;
  return accumulate ? c + v : v;
}

// B for the int8 kernels: op(B) = trans_b ? Bᵀ (B stored [n×k]) : B (stored [k×n]), quantized
// per column and packed in panels of nr columns as above. pack() = plan() + fill() of every
// panel; threads may share the work as for PackedMatrix (plan() on one thread, then disjoint
// fill() ranges: a panel's columns are quantized by the thread that fills it).
struct PackedInt8 {
  size_t k = 0, k4 = 0, n = 0, nr = 0;
  std::vector<int8_t> data;
  std::vector<int32_t> comp;
  std::vector<float> scale;
  void pack(bool trans_b, size_t k, size_t n, const float* b, size_t ldb, size_t nr);
  void plan(bool trans_b, size_t k, size_t n, const float* b, size_t ldb, size_t nr);
  void fill(size_t j0, size_t j1);
  const int8_t* panel(size_t j) const { return data.data() + j * k4 * nr * 4; }
  size_t panels() const { return (n + nr - 1) / nr; }

 private:
  bool src_trans_ = false;
  const float* src_ = nullptr;
  size_t src_ld_ = 0;
};

}  // namespace frnn
