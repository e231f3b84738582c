// The bf16 GEMM driver: kernel choice, the loops around the micro-kernel, and what the C++ API
// says about precisions.
#include "gemm/gemm_bf16.h"

#include <algorithm>
#include <cassert>
#include <cstring>
#include <vector>

#include "cpu/fpmode.h"
#include "fused_rnn.h"
#include "gemm/empty_product.h"
#include "gemm/gemm.h"
#include "gemm/gemm_int8.h"

namespace frnn {

bool bf16_ukernel_runs(const Bf16UkernelEntry& e) {
  const Isa isa = active_isa();
  switch (e.isa) {
    case Isa::kScalar: return true;
    case Isa::kAvx2: return isa == Isa::kAvx2 || isa == Isa::kAvx512;
    case Isa::kAvx512: return isa == Isa::kAvx512 && (!e.needs_bf16 || cpu_has(Feature::kAvx512Bf16));
    case Isa::kNeon: return isa == Isa::kNeon;
  }
  return false;
}

const Bf16UkernelEntry& bf16_gemm_config() {
  static const Bf16UkernelEntry* const chosen = [] {  // a local static: see gemm_config()
    const Bf16UkernelEntry* c = &kBf16Ukernels[0];
    for (const Bf16UkernelEntry& e : kBf16Ukernels)
      if (bf16_ukernel_runs(e)) c = &e;
    return c;
  }();
  return *chosen;
}

bool precision_native(Precision p) {
  switch (p) {
    case Precision::kFp32: return true;
    case Precision::kBf16: return bf16_gemm_config().needs_bf16;
    case Precision::kInt8: return int8_gemm_config().needs_vnni;
  }
  return false;
}

const char* precision_kernel(Precision p) {
  switch (p) {
    case Precision::kFp32: return gemm_config().name;
    case Precision::kBf16: return bf16_gemm_config().name;
    case Precision::kInt8: return int8_gemm_config().name;
  }
  return "";
}

namespace {

// The floating-point mode the kernels' bits assume. x86: DAZ+FTZ in MXCSR (the AVX2 kernel's
// FMAs and every kernel's final C add flush through it; tininess is detected after rounding,
// as the scalar kernel's explicit flushes do). AArch64: FZ off, since its flush-to-zero
// detects tininess before rounding; the scalar kernel flushes explicitly.
class Bf16FpMode {
 public:
#if defined(__aarch64__)
  Bf16FpMode() {
    __asm__ volatile("mrs %0, fpcr" : "=r"(saved_));
    const uint64_t ieee = saved_ & ~(uint64_t{1} << 24);
    __asm__ volatile("msr fpcr, %0" : : "r"(ieee));
  }
  ~Bf16FpMode() { __asm__ volatile("msr fpcr, %0" : : "r"(saved_)); }

 private:
  uint64_t saved_ = 0;
#else
 private:
  FlushDenormals ftz_;
#endif
};

// Bytes of A converted at a time: the block's bf16 rows stay in L2 while every panel of the
// thread's columns passes over them once. (Blocks of 64 rows streamed a large layer's 2 MiB of
// bf16 weights from L3 twice per step at B = 128.)
constexpr size_t kRowBlockBytes = 262144;

}  // namespace

void gemm_bf16_packed(size_t m, size_t k, const float* a, size_t lda, const PackedBf16& b, float* c, size_t ldc,
                      bool accumulate, size_t n0, size_t n1, const float* bias) {
  const Bf16Product p{&b, c, ldc, accumulate, n0, n1, bias};
  gemm_bf16_products(m, k, a, lda, &p, 1);
}

void gemm_bf16_products(size_t m, size_t k, const float* a, size_t lda, const Bf16Product* prods, size_t n_prods) {
  const Bf16UkernelEntry& cfg = bf16_gemm_config();
  constexpr size_t kMaxProducts = 4;
  assert(n_prods <= kMaxProducts);
  Bf16Product live[kMaxProducts];  // the products left for the kernels, n1 clamped
  size_t n_live = 0;
  for (size_t o = 0; o < n_prods && o < kMaxProducts; ++o) {
    Bf16Product p = prods[o];
    assert(!(p.accumulate && p.bias) && p.b->k == k);
    if (!settle_empty_product(m, k, p.c, p.ldc, p.accumulate, p.n0, &p.n1, p.b->n, p.bias)) live[n_live++] = p;
  }
  if (n_live == 0) return;
  const Bf16FpMode mode;
  thread_local std::vector<bf16> a16;
  const size_t lda16 = 2 * live[0].b->k2;
  const size_t row_block = std::max(cfg.mr, kRowBlockBytes / (lda16 * sizeof(bf16)) / cfg.mr * cfg.mr);
  for (size_t i0 = 0; i0 < m; i0 += row_block) {
    const size_t mc = std::min(row_block, m - i0);
    a16.resize(mc * lda16);
    cfg.convert(mc, k, a + i0 * lda, lda, a16.data(), lda16);
    for (size_t o = 0; o < n_live; ++o) {
      const Bf16Product& p = live[o];
      const PackedBf16& b = *p.b;
      for (size_t j = p.n0; j < p.n1; j += b.nr) {
        const bf16* w = b.panel(j / b.nr);
        const size_t nc = std::min(b.nr, p.n1 - j);
        for (size_t i = 0; i < mc; i += cfg.mr) {
          float* ci = p.c + (i0 + i) * p.ldc + j;
          // C itself to accumulate; else the bias row (stride 0), or nothing.
          const float* add = p.accumulate ? ci : p.bias ? p.bias + j : nullptr;
          cfg.fn(std::min(cfg.mr, mc - i), nc, b.k2, a16.data() + i * lda16, lda16, w, ci, p.ldc, add,
                 p.accumulate ? p.ldc : 0);
        }
      }
    }
  }
}

void gemm_bf16_packed16(size_t m, const bf16* a16, size_t lda16, const PackedBf16& b, float* c, size_t ldc,
                        bool accumulate, size_t n0, size_t n1) {
  const Bf16UkernelEntry& cfg = bf16_gemm_config();
  n1 = std::min(n1, b.n);
  if (m == 0 || n0 >= n1) return;
  const Bf16FpMode mode;
  // Blocks of rows as gemm_bf16_packed converts them (they stay in L2 across the panels).
  const size_t row_block = std::max(cfg.mr, kRowBlockBytes / (lda16 * sizeof(bf16)) / cfg.mr * cfg.mr);
  for (size_t i0 = 0; i0 < m; i0 += row_block) {
    const size_t mc = std::min(row_block, m - i0);
    for (size_t j = n0; j < n1; j += b.nr) {
      const size_t nc = std::min(b.nr, n1 - j);
      for (size_t i = 0; i < mc; i += cfg.mr) {
        float* ci = c + (i0 + i) * ldc + j;
        cfg.fn(std::min(cfg.mr, mc - i), nc, b.k2, a16 + (i0 + i) * lda16, lda16, b.panel(j / b.nr), ci, ldc,
               accumulate ? ci : nullptr, ldc);
      }
    }
  }
}

void gemm_bf16_tn_add(size_t m, const bf16* a, size_t lda, const PackedBf16& b, size_t n0, size_t n1, float* ct,
                      size_t ldct) {
  const Bf16UkernelEntry& cfg = bf16_gemm_config();
  n1 = std::min(n1, b.n);
  if (m == 0 || n0 >= n1) return;
  assert(b.nr == cfg.nr && cfg.mr * cfg.nr <= 256);
  const Bf16FpMode mode;
  float tile[256];
  // One B panel at a time (it stays in L2) under every row of A: A is the smaller operand
  // of the weight gradients (Xᵀ, Hᵀ: I + H rows against 4H columns of dZ for an LSTM).
  for (size_t j = n0 / b.nr; j * b.nr < n1; ++j) {
    const size_t cb = j * b.nr, ca = std::max(n0, cb), ce = std::min(n1, cb + b.nr);
    for (size_t i = 0; i < m; i += cfg.mr) {
      const size_t mm = std::min(cfg.mr, m - i);
      cfg.fn(mm, ce - cb, b.k2, a + i * lda, lda, b.panel(j), tile, cfg.nr, nullptr, 0);
      // Cᵀ's tile into C: a column of the tile is mm contiguous floats of a row of C.
      for (size_t c = ca; c < ce; ++c) {
        float* dst = ct + c * ldct + i;
        const float* t = tile + (c - cb);
        for (size_t r = 0; r < mm; ++r) dst[r] = flush_denormal(flush_denormal(dst[r]) + t[r * cfg.nr]);
      }
    }
  }
}

}  // namespace frnn
