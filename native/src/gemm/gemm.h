// General matrix products for the sequence drivers: packed, register-blocked, per-ISA.
//
// C[m×n] (+)= op(A)[m×k] · op(B)[k×n], all row-major, leading dimensions in elements.
// B is packed into NR-column panels for the active ISA's micro-kernel (pack_b), once per
// sequence for weights. Every C element sums k in the same fixed order (KC blocks in
// increasing k), however the n range is split, so results do not depend on threads.
#pragma once

#include <cstddef>
#include <memory>

#include "gemm/bf16.h"
#include "gemm/int8.h"
#include "gemm/ukernel.h"

namespace frnn {

// The micro-kernel of the active ISA and the blocking around it. Filled once.
struct GemmConfig {
  size_t mr, nr;  // micro-tile
  size_t kc;         // k per block: one KC×NR panel slice stays in L2
  size_t kc_packed;  // k per block when A is packed (transposed A with a ppmm kernel)
  size_t mc;      // rows of A per block (multiple of mr)
  UkernelFn ukernel;
  DotUkernelFn dot;  // for products with few rows, on unpacked Wᵀ
  PpmmUkernelFn ppmm;  // same tile on a pre-packed A (for transposed A), or nullptr
  StripPackFn pack_strips;  // writes A for ppmm a few rows at a time (pack_strip_rows), or nullptr
  const char* name;
};
const GemmConfig& gemm_config();

// A 64-byte aligned float buffer.
class AlignedFloats {
 public:
  AlignedFloats() = default;
  explicit AlignedFloats(size_t n) { resize(n); }
  void resize(size_t n);
  float* data() { return data_.get(); }
  const float* data() const { return data_.get(); }
  size_t size() const { return size_; }

 private:
  struct Free {
    void operator()(float* p) const;
  };
  std::unique_ptr<float[], Free> data_;
  size_t size_ = 0;
};

//   panel j (columns j*NR .. j*NR+NR-1), zero-padded past n:
//   [ B[0, j*NR .. +NR] | B[1, j*NR .. +NR] | ... | B[k-1, j*NR .. +NR] ]   then panel j+1
// Or, for products with few rows (see kDotMaxRows), op(B) = Bᵀ left in place: B [n×k] is
// read row by row by the dot-product kernel, and nothing is copied.
class PackedMatrix {
 public:
  size_t k = 0, n = 0, nr = 0;
  const float* panel(size_t j) const { return data_.data() + j * k * nr; }
  // op(B) = trans_b ? Bᵀ (B stored [n×k]) : B (stored [k×n]). With `extra_row` (n floats),
  // op(B) gets it as one more row k: [op(B); extra_row] is (k+1)×n — how a bias rides
  // along in a product whose A has a column of ones.
  void pack(bool trans_b, size_t k, size_t n, const float* b, size_t ldb, const float* extra_row = nullptr);
  // pack() in two parts, so that threads can share it: plan() sizes the panels and notes
  // the source (one thread, before the others start); fill(j0, j1) copies panels [j0, j1)
  // (threads take disjoint ranges). b and extra_row must outlive the last fill().
  void plan(bool trans_b, size_t k, size_t n, const float* b, size_t ldb, const float* extra_row = nullptr);
  void fill(size_t j0, size_t j1);
  size_t panels() const { return (n + nr - 1) / nr; }
  // op(B) = Bᵀ, B stored [n×k] with stride ldb, used in place (B must outlive the products).
  void view_transposed(size_t k, size_t n, const float* b, size_t ldb);
  const float* raw() const { return raw_; }
  size_t raw_ld() const { return raw_ld_; }
  // plan() for bf16 products: op(B) is packed to bf16 pairs (PackedBf16, by fill() as
  // above), and the products that read it round A to bf16 too (gemm_bf16_packed).
  void plan_bf16(bool trans_b, size_t k, size_t n, const float* b, size_t ldb);
  bool is_bf16() const { return is_bf16_; }
  const PackedBf16& bf16_panels() const { return half_; }
  // plan() for int8 products (inference): op(B) quantized per column and packed (PackedInt8),
  // and the products that read it quantize A per row (gemm_int8_packed).
  void plan_int8(bool trans_b, size_t k, size_t n, const float* b, size_t ldb);
  bool is_int8() const { return is_int8_; }
  const PackedInt8& int8_panels() const { return quant_; }
  // Either reduced precision: the products convert A themselves, whole rows at a time.
  bool is_reduced() const { return is_bf16_ || is_int8_; }

 private:
  AlignedFloats data_;
  const float* raw_ = nullptr;
  size_t raw_ld_ = 0;
  // The source of plan(), for fill().
  bool src_trans_ = false;
  const float* src_ = nullptr;
  size_t src_ld_ = 0;
  const float* src_extra_ = nullptr;
  bool is_bf16_ = false;
  PackedBf16 half_;
  bool is_int8_ = false;
  PackedInt8 quant_;
};

// Up to this many rows of A, a product with op(B) = Bᵀ reads B in place (dot products)
// instead of packing it: one pass over B per row costs less than packing it once.
constexpr size_t kDotMaxRows = 2;

// C (+)= op(A) · B with B packed (or viewed). Columns [n0, n1) of C only (n0 a multiple of
// NR), so callers can split the work by output columns. A viewed B needs trans_a false, and
// so does a bf16 or int8 B (then the product is gemm_bf16_packed's or gemm_int8_packed's).
// With bias (a row indexed by C's columns; not accumulating): C = A·B + bias, the bits of the
// product followed by add_row_vector. bf16 and int8 products add it in their kernels'
// epilogue; a packed float32 B takes its bias as a row of B where it can (PackedMatrix::pack's
// extra_row), so only the dot path's few rows pay the separate pass here.
void gemm_packed(bool trans_a, size_t m, size_t k, const float* a, size_t lda, const PackedMatrix& b, float* c,
                 size_t ldc, bool accumulate, size_t n0 = 0, size_t n1 = static_cast<size_t>(-1),
                 const float* bias = nullptr);

// Products over the same rows of A: gemm_packed(false, m, k, a, lda, *b, c, ldc, accumulate,
// n0, n1, bias) for each, the same bits. When every B is bf16 (or every B int8), A is
// converted (quantized) once for all of them: GRU reset_after's step reads h_prev twice.
struct PackedProduct {
  const PackedMatrix* b;
  float* c;
  size_t ldc;
  bool accumulate;
  size_t n0, n1;
  const float* bias;
};
void gemm_packed_products(size_t m, size_t k, const float* a, size_t lda, const PackedProduct* prods, size_t n_prods);

// True when gemm_packed(false, m, k, ...) makes one micro-kernel call per MR×NR tile of C
// over all of k (k fits one KC block). Then a caller may compute C a tile at a time, in an
// order of its own, with gemm_packed_tile(), and get the same bits: the cells finish a
// tile's gate math while its pre-activations are still in L1.
bool gemm_single_pass(size_t k);
// Rows [0, m) and columns [j, j + n) of C (+)= A·B for a packed (not viewed) B: m <= MR, j a
// multiple of NR, n <= NR, gemm_single_pass(k). a and c point at row 0 (c at its column 0).
void gemm_packed_tile(size_t m, size_t k, const float* a, size_t lda, const PackedMatrix& b, size_t j, size_t n,
                      float* c, size_t ldc, bool accumulate);

// One output of a product whose A is shared: C (+)= op(A) · B.
struct GemmOutput {
  const PackedMatrix* b;
  float* c;
  size_t ldc;
};
// C_o (+)= op(A) · B_o for each output, A packed (when transposed) once for all of them:
// the weight gradients dW = dZᵀ·X and dR = dZᵀ·H share A = dZᵀ. Each C_o gets the bits
// gemm_packed() would give it alone. With row_sums (m floats), also row_sums[i] +=
// Σ_p op(A)[i, p], summed in increasing p (the bias gradients: column sums of dZ), taken
// while A is packed when it is.
void gemm_packed(bool trans_a, size_t m, size_t k, const float* a, size_t lda, const GemmOutput* outs,
                 size_t n_outs, bool accumulate, float* row_sums = nullptr);

// op(A) = Mᵀ kept as ppmm strips, for products whose A is written a few rows of M at a time
// (backward writes dZ one step at a time): M [k×m] is stored as MR-column strips, strip t
// holding k rows of MR floats, strips[t*k*MR + p*MR + i] = M[p, t*MR + i] (MR =
// gemm_config().mr); this is the layout gemm_packed() packs a transposed A into, so the
// products read it in place. Only where gemm_config().pack_strips is set.
// Rows [p0, p0 + rows) of M, columns [c0, c1) (c0 a multiple of MR), from src [rows × ld];
// strips 64-byte aligned. The stores are fenced: other threads see them after a barrier.
void pack_strip_rows(float* strips, size_t k, size_t p0, size_t rows, const float* src, size_t ld, size_t c0,
                     size_t c1);
// gemm_packed(true, m, k, M, ...) for M in strips, from the strip of M's column 0 of the
// product (a multiple of MR): same bits, same row sums, no packing.
void gemm_strips(size_t m, size_t k, const float* strips, const GemmOutput* outs, size_t n_outs, bool accumulate,
                 float* row_sums = nullptr);

// One-off product: packs B, then gemm_packed. C is never read when accumulate is false.
void gemm(bool trans_a, bool trans_b, size_t m, size_t n, size_t k, const float* a, size_t lda, const float* b,
          size_t ldb, float* c, size_t ldc, bool accumulate);

// C[m×n] (+)= 1·biasᵀ : adds (or writes) the row vector bias to every row of C.
void add_row_vector(size_t m, size_t n, const float* bias, float* c, size_t ldc, bool accumulate);

// sums[j] += Σ_i A[i, j] over m rows of A[m×n].
void accumulate_column_sums(size_t m, size_t n, const float* a, size_t lda, float* sums);

}  // namespace frnn
