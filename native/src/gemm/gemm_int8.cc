// The int8 GEMM driver: kernel choice and the loops around the micro-kernel.
#include "gemm/gemm_int8.h"

#include <algorithm>
#include <cassert>
#include <cstring>
#include <vector>

#include "cpu/fpmode.h"
#include "gemm/empty_product.h"

namespace frnn {

bool int8_ukernel_runs(const Int8UkernelEntry& e) {
  const Isa isa = active_isa();
  switch (e.isa) {
    case Isa::kScalar: return true;
    case Isa::kAvx2:
      return (isa == Isa::kAvx2 || isa == Isa::kAvx512) && (!e.needs_vnni || cpu_has(Feature::kAvxVnni));
    case Isa::kAvx512: return isa == Isa::kAvx512 && (!e.needs_vnni || cpu_has(Feature::kAvx512Vnni));
    case Isa::kNeon: return isa == Isa::kNeon;
  }
  return false;
}

const Int8UkernelEntry& int8_gemm_config() {
  static const Int8UkernelEntry* const chosen = [] {  // a local static: see gemm_config()
    const Int8UkernelEntry* c = &kInt8Ukernels[0];
    for (const Int8UkernelEntry& e : kInt8Ukernels)
      if (int8_ukernel_runs(e)) c = &e;
    return c;
  }();
  return *chosen;
}

namespace {

// Bytes of A quantized at a time: the block's u8 rows stay in L2 while every panel of the
// thread's columns passes over them once (as gemm_bf16_packed's blocks).
constexpr size_t kRowBlockBytes = 262144;

}  // namespace

void gemm_int8_packed(size_t m, size_t k, const float* a, size_t lda, const PackedInt8& b, float* c, size_t ldc,
                      bool accumulate, size_t n0, size_t n1, const float* bias) {
  const Int8Product p{&b, c, ldc, accumulate, n0, n1, bias};
  gemm_int8_products(m, k, a, lda, &p, 1);
}

void gemm_int8_products(size_t m, size_t k, const float* a, size_t lda, const Int8Product* prods, size_t n_prods) {
  const Int8UkernelEntry& cfg = int8_gemm_config();
  constexpr size_t kMaxProducts = 4;
  assert(n_prods <= kMaxProducts);
  Int8Product live[kMaxProducts];  // the products left for the kernels, n1 clamped
  size_t n_live = 0;
  for (size_t o = 0; o < n_prods && o < kMaxProducts; ++o) {
    Int8Product p = prods[o];
    assert(!(p.accumulate && p.bias) && p.b->k == k);
    if (!settle_empty_product(m, k, p.c, p.ldc, p.accumulate, p.n0, &p.n1, p.b->n, p.bias)) live[n_live++] = p;
  }
  if (n_live == 0) return;
  // The same floating-point mode as the fp32 products (the dequantizing multiplies may
  // underflow): every kernel runs under it, so every kernel gives the same bits.
  const FlushDenormals ftz;
  thread_local std::vector<uint8_t> a8;
  thread_local std::vector<float> sa;
  const size_t lda8 = 4 * live[0].b->k4;
  const size_t row_block = std::max(cfg.mr, kRowBlockBytes / lda8 / cfg.mr * cfg.mr);
  for (size_t i0 = 0; i0 < m; i0 += row_block) {
    const size_t mc = std::min(row_block, m - i0);
    a8.resize(mc * lda8);
    sa.resize(mc);
    cfg.quantize(mc, k, a + i0 * lda, lda, a8.data(), lda8, sa.data());
    for (size_t o = 0; o < n_live; ++o) {
      const Int8Product& p = live[o];
      const PackedInt8& b = *p.b;
      for (size_t j = p.n0; j < p.n1; j += b.nr) {
        const int8_t* w = b.panel(j / b.nr);
        const size_t nc = std::min(b.nr, p.n1 - j);
        for (size_t i = 0; i < mc; i += cfg.mr) {
          float* ci = p.c + (i0 + i) * p.ldc + j;
          // C itself to accumulate; else the bias row (stride 0), or nothing.
          const float* add = p.accumulate ? ci : p.bias ? p.bias + j : nullptr;
          cfg.fn(std::min(cfg.mr, mc - i), nc, b.k4, a8.data() + i * lda8, lda8, sa.data() + i, w,
                 b.comp.data() + j, b.scale.data() + j, ci, p.ldc, add, p.accumulate ? p.ldc : 0);
        }
      }
    }
  }
}

}  // namespace frnn
