// bfloat16 products: numbers, packing and the reference arithmetic of the bf16 micro-kernels.
//
// A bf16 is the top half of a float32 (8 exponent bits, 7 mantissa bits). The kernels compute
// C (+)= A·B with A and B rounded to bf16 and every sum in float32, the way AVX512_BF16's
// VDPBF16PS does for each float32 lane (measured on this project's CPUs, 400k random cases
// including denormals, bit for bit): inputs and the accumulator with denormals read as zero, then
//   acc = fma(a[2p+1], b[2p+1], acc);  acc = fma(a[2p], b[2p], acc)
// each a fused multiply-add (the exact product, one rounding to nearest even) whose denormal
// result is flushed to zero. dot_pairs_reference() below is that arithmetic in plain C++: the
// scalar path and the tests use it, so every path gives the same bits.
//
// Layouts (all uint16_t):
//   A rows: k rounded up to even, a trailing 0 when k is odd; read as 32-bit pairs.
//   B panels: NR columns per panel, k/2 pair-rows per panel; pair-row p of panel j holds
//             [col0: b[2p][c0], b[2p+1][c0] | col1: ... ] — NR pairs, 4·NR bytes, zero-padded.
#pragma once

#include <cmath>
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <vector>

namespace frnn {

using bf16 = uint16_t;

// float32 -> bf16, rounded to nearest even (as VCVTNE2PS2BF16); NaN stays a (quiet) NaN.
inline bf16 f32_to_bf16(float f) {
  uint32_t u;
  std::memcpy(&u, &f, 4);
  if ((u & 0x7fffffffu) > 0x7f800000u) return static_cast<bf16>((u >> 16) | 0x40u);
  u += 0x7fffu + ((u >> 16) & 1u);
  return static_cast<bf16>(u >> 16);
}

inline float bf16_to_f32(bf16 h) {
  const uint32_t u = static_cast<uint32_t>(h) << 16;
  float f;
  std::memcpy(&f, &u, 4);
  return f;
}

// Zero for denormals (their sign kept), as the kernels treat inputs and results.
inline float flush_denormal(float f) {
  uint32_t u;
  std::memcpy(&u, &f, 4);
  if ((u & 0x7f800000u) == 0) u &= 0x80000000u;
  std::memcpy(&f, &u, 4);
  return f;
}

// acc after the pairs of a (k2 pairs) and b (the same pairs of one column), in the kernels' order.
inline float dot_pairs_reference(float acc, const bf16* a, const bf16* b, size_t k2) {
  acc = flush_denormal(acc);
  for (size_t p = 0; p < k2; ++p) {
    for (int e = 1; e >= 0; --e) {
      const float x = flush_denormal(bf16_to_f32(a[2 * p + e])), y = flush_denormal(bf16_to_f32(b[2 * p + e]));
      acc = flush_denormal(std::fma(x, y, acc));
    }
  }
  return acc;
}

// Rows of float32 A [m×k] (stride lda) to bf16 rows of even length ldo >= k (zero-padded).
void convert_rows_bf16(size_t m, size_t k, const float* a, size_t lda, bf16* out, size_t ldo);

// out[(i - i0)*ldo + p] = bf16(a[p*lda + i]) for p < k, i in [i0, i1); zero for p in [k, ldo):
// columns of float32 A [k×m] to bf16 rows (Xᵀ for the weight gradients).
void convert_cols_bf16(size_t k, size_t i0, size_t i1, const float* a, size_t lda, bf16* out, size_t ldo);

// out[2c] = bf16(r0[c]), out[2c+1] = bf16(r1[c]) (0 when r1 is null) for c < n.
void pack_pairs_bf16(size_t n, const float* r0, const float* r1, bf16* out);

// B for the bf16 kernels: op(B) = trans_b ? Bᵀ (B stored [n×k]) : B (stored [k×n]), packed in
// panels of nr columns as described above. pack() = plan() + fill() of every panel; threads
// may share the work as for PackedMatrix (plan() on one thread, then disjoint fill() ranges).
struct PackedBf16 {
  size_t k = 0, k2 = 0, n = 0, nr = 0;
  std::vector<bf16> data;
  void pack(bool trans_b, size_t k, size_t n, const float* b, size_t ldb, size_t nr);
  void plan(bool trans_b, size_t k, size_t n, const float* b, size_t ldb, size_t nr);
  void fill(size_t j0, size_t j1);
  const bf16* panel(size_t j) const { return data.data() + j * k2 * nr * 2; }
  // For B written a few rows at a time (backward's dZ, one step at a time): shape() sizes
  // the panels and zeroes their padding (k odd: row k; columns past n); pack_rows() writes
  // rows [p0, p0 + rows) of B, columns [c0, c1), from src [rows × ld]. Threads may write
  // disjoint column ranges of the same rows at once (a column's pairs are its own).
  void shape(size_t k, size_t n, size_t nr);
  void pack_rows(size_t p0, size_t rows, const float* src, size_t ld, size_t c0, size_t c1);
  size_t panels() const { return (n + nr - 1) / nr; }

 private:
  bool src_trans_ = false;
  const float* src_ = nullptr;
  size_t src_ld_ = 0;
};

}  // namespace frnn
