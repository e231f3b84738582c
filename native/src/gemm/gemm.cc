// GEMM driver: the loops around the micro-kernel (BLIS order, B packed up front).
#include "gemm/gemm.h"

#include <algorithm>
#include <cassert>
#include <cstring>

#include "cpu/isa.h"
#include "gemm/empty_product.h"
#include "gemm/gemm_bf16.h"
#include "gemm/gemm_int8.h"
#include "gemm/ukernel_list.h"

namespace frnn {

// A function-local static, not std::call_once: this is called per tile, and libstdc++'s
// call_once writes two thread-locals on every call, a __tls_get_addr each in the addon (a shared
// library): 1.7% of a small LSTM's inference through the JS API, none in the static bench_rnn.
const GemmConfig& gemm_config() {
  static const GemmConfig config = [] {
    GemmConfig config;
    const Isa isa = active_isa();
    // The active ISA's rows of the tables; an ISA without a GEMM kernel of its own (or
    // without a dot kernel) takes the scalar one, the first row.
    const UkernelEntry* u = &kUkernels[0];
    for (const UkernelEntry& e : kUkernels)
      if (e.isa == isa) u = &e;
    const DotUkernelEntry* dot = &kDotUkernels[0];
    for (const DotUkernelEntry& e : kDotUkernels)
      if (e.isa == isa) dot = &e;
    config.mr = u->mr;
    config.nr = u->nr;
    config.ukernel = u->fn;
    config.name = u->name;
    config.dot = dot->fn;
    config.ppmm = u->ppmm;
    config.pack_strips = u->pack_strips;
    // KC: long k runs keep C in registers, and C is read and written once per KC k steps;
    // a big product's C lives in memory, so fewer passes over it pay (8x32 at M=6400,
    // N=512, K=2048: 107 GFLOP/s with KC=512, 114 with KC=2048; at N=2048, K=512: 64 with
    // KC=128, 107 with 512). The KC×NR panel slice should stay in L2: 256 KiB on AVX-512
    // parts (all have >= 1 MiB L2), 64 KiB elsewhere. A packed A block (MC×KC) must stay in
    // L2 too: with packed A, KC is the 64 KiB one (dR at K=3200: 103 GFLOP/s with KC=512,
    // 92 with 2048).
    const size_t slice_bytes = isa == Isa::kAvx512 ? 262144 : 65536;
    config.kc = std::max<size_t>(64, slice_bytes / (config.nr * sizeof(float)));
    config.kc_packed = std::max<size_t>(64, 65536 / (config.nr * sizeof(float)));
    // MC: a packed A block is read once per NR panel, so it must stay in L2 with room for
    // the panel slices: at most 512 KiB (AVX2's 240×1024 block, the whole L2, came from L3:
    // dR at K=6400 went from 98 to 101 GFLOP/s with 126 rows).
    const size_t mc_max = config.ppmm ? std::min<size_t>(240, 131072 / config.kc_packed) : 240;
    config.mc = config.mr * std::max<size_t>(1, mc_max / config.mr);
    return config;
  }();
  return config;
}

// dst[i*ldd + p] = src[p*lds + i] for p < rows, i < cols, in 16×16 tiles so that both the
// reads and the writes stay within a few cache lines (a plain loop writes one line per
// element: it was 17% of a training step).
static void transpose_block(float* dst, size_t ldd, const float* src, size_t lds, size_t rows, size_t cols) {
  constexpr size_t kTile = 16;
  for (size_t p0 = 0; p0 < rows; p0 += kTile) {
    const size_t p1 = std::min(rows, p0 + kTile);
    for (size_t i0 = 0; i0 < cols; i0 += kTile) {
      const size_t i1 = std::min(cols, i0 + kTile);
      for (size_t i = i0; i < i1; ++i)
        for (size_t p = p0; p < p1; ++p) dst[i * ldd + p] = src[p * lds + i];
    }
  }
}

// Packs rows [0, rows) of op(A) = Aᵀ (A stored [k×m], stride lda) into MR-row micro-panels:
// panel t holds k rows of MR floats, dst[t*k*mr + p*mr + i] = A[p, t*mr + i]. Each k is a
// contiguous run of A, so this is a copy, not a transpose; a full panel copies a fixed
// MR floats per k (a runtime-length copy loop cost as much as the product's FMAs).
// With row_sums, also row_sums[i] += op(A)[i, p] in increasing p (A is read anyway).
// Each k reads a new line of A, usually on a new page, where the hardware prefetchers do
// not follow: the loop prefetches kAhead rows ahead.
template <size_t MR>
static void pack_a_panels(float* dst, const float* a, size_t lda, size_t k, size_t rows, float* row_sums) {
  constexpr size_t kAhead = 16;
  for (size_t t0 = 0; t0 < rows; t0 += MR) {
    for (size_t p = 0; p < kAhead && p < k; ++p) __builtin_prefetch(a + p * lda + t0);
    const size_t mm = std::min(MR, rows - t0);
    float* d = dst + t0 * k;
    const float* s = a + t0;
    if (mm == MR && row_sums) {
      float sums[MR];
      std::memcpy(sums, row_sums + t0, sizeof sums);
      for (size_t p = 0; p < k; ++p, d += MR, s += lda) {
        if (p + kAhead < k) __builtin_prefetch(s + kAhead * lda);  // (no pointer past A)
        std::memcpy(d, s, MR * sizeof(float));
        for (size_t i = 0; i < MR; ++i) sums[i] += s[i];
      }
      std::memcpy(row_sums + t0, sums, sizeof sums);
    } else if (mm == MR) {
      for (size_t p = 0; p < k; ++p, d += MR, s += lda) {
        if (p + kAhead < k) __builtin_prefetch(s + kAhead * lda);  // (no pointer past A)
        std::memcpy(d, s, MR * sizeof(float));
      }
    } else {
      for (size_t p = 0; p < k; ++p, d += MR, s += lda) {
        std::memcpy(d, s, mm * sizeof(float));
        for (size_t i = 0; i < mm && row_sums; ++i) row_sums[t0 + i] += s[i];
      }
    }
  }
}

static void pack_a_panels(float* dst, const float* a, size_t lda, size_t k, size_t rows, size_t mr,
                          float* row_sums) {
  switch (mr) {
    case 6: pack_a_panels<6>(dst, a, lda, k, rows, row_sums); break;
    case 8: pack_a_panels<8>(dst, a, lda, k, rows, row_sums); break;
    default: assert(false && "no ppmm kernel with this MR");
  }
}

void pack_strip_rows(float* strips, size_t k, size_t p0, size_t rows, const float* src, size_t ld, size_t c0,
                     size_t c1) {
  assert(gemm_config().pack_strips);
  gemm_config().pack_strips(strips, k, p0, rows, src, ld, c0, c1);
}

// row_sums[i] += strip rows [0, kc) of the mm rows of op(A) in an MR-strip block (strips
// `stride` floats apart), in increasing p: the bits pack_a_panels() gives.
template <size_t MR>
static void add_strip_sums(const float* a, size_t stride, size_t kc, size_t mm, float* row_sums) {
  for (size_t t0 = 0; t0 < mm; t0 += MR) {
    const float* s = a + (t0 / MR) * stride;
    const size_t n = std::min(MR, mm - t0);
    float sums[MR];
    std::memcpy(sums, row_sums + t0, n * sizeof(float));
    if (n == MR) {
      for (size_t p = 0; p < kc; ++p, s += MR)
        for (size_t i = 0; i < MR; ++i) sums[i] += s[i];
    } else {  // a last strip's columns past m were never written
      for (size_t p = 0; p < kc; ++p, s += MR)
        for (size_t i = 0; i < n; ++i) sums[i] += s[i];
    }
    std::memcpy(row_sums + t0, sums, n * sizeof(float));
  }
}

static void add_strip_sums(const float* a, size_t stride, size_t kc, size_t mm, size_t mr, float* row_sums) {
  switch (mr) {  // the MR of every ISA with pack_strips
    case 8: add_strip_sums<8>(a, stride, kc, mm, row_sums); break;
    default: assert(false && "no strip packer with this MR");
  }
}

// Blocks of about kc_max that k is split into (never a sliver: K = 513, say, the input
// size plus the bias row, is one block, not 512 + 1 with a second pass over C).
static size_t k_block_count(size_t k, size_t kc_max) { return std::max<size_t>(1, (k + kc_max / 4) / kc_max); }

bool gemm_single_pass(size_t k) { return k_block_count(k, gemm_config().kc) == 1; }

void gemm_packed_tile(size_t m, size_t k, const float* a, size_t lda, const PackedMatrix& b, size_t j, size_t n,
                      float* c, size_t ldc, bool accumulate) {
  const GemmConfig& cfg = gemm_config();
  assert(m <= cfg.mr && n <= cfg.nr && j % cfg.nr == 0 && !b.raw() && !b.is_reduced() && gemm_single_pass(k) && k > 0);
  cfg.ukernel(m, n, k, a, lda, b.panel(j / cfg.nr), c + j, ldc, accumulate);
}

// The loops of gemm_packed over one or more outputs that share A: columns [n0, n1) of each.
// row_sums: as in gemm_packed(), only with a ppmm-packed A. With strips (see
// gemm_strips()), op(A) is read from them instead of a and packed by nobody.
static void gemm_blocks(bool trans_a, size_t m, size_t k, const float* a, size_t lda, const GemmOutput* outs,
                        size_t n_outs, bool accumulate, size_t n0, size_t n1, float* row_sums,
                        const float* strips = nullptr) {
  const GemmConfig& cfg = gemm_config();
  thread_local AlignedFloats a_block;  // op(A) block, packed, when A is transposed
  // Loop over k in equal blocks of about KC (k_block_count); later blocks add to what
  // earlier ones wrote. The blocks depend on k alone, never on threads.
  const bool ppmm = trans_a && cfg.ppmm;
  const size_t k_blocks = k_block_count(k, ppmm ? cfg.kc_packed : cfg.kc);
  const size_t k_step = (k + k_blocks - 1) / k_blocks;
  for (size_t p0 = 0; p0 < k; p0 += k_step) {
    const size_t kc = std::min(k_step, k - p0);
    const bool acc = accumulate || p0 > 0;
    // Loop over m (MC rows at a time): pack A's block when it is stored transposed, into
    // micro-panels when the ISA has a ppmm kernel, else transposed to row-major.
    for (size_t i0 = 0; i0 < m; i0 += cfg.mc) {
      const size_t mc = std::min(cfg.mc, m - i0);
      const float* ablk;
      size_t ald = lda;
      size_t strip_stride = cfg.mr * kc;  // floats from one micro-panel of the block to the next
      if (strips) {
        ablk = strips + i0 * k + p0 * cfg.mr;
        strip_stride = cfg.mr * k;
        if (row_sums) add_strip_sums(ablk, strip_stride, kc, mc, cfg.mr, row_sums + i0);
      } else if (ppmm) {
        a_block.resize(((mc + cfg.mr - 1) / cfg.mr) * cfg.mr * kc);
        pack_a_panels(a_block.data(), a + p0 * lda + i0, lda, kc, mc, cfg.mr, row_sums ? row_sums + i0 : nullptr);
        ablk = a_block.data();
      } else if (trans_a) {
        a_block.resize(mc * kc);
        transpose_block(a_block.data(), kc, a + p0 * lda + i0, lda, kc, mc);
        ablk = a_block.data();
        ald = kc;
      } else {
        ablk = a + i0 * lda + p0;
      }
      for (size_t o = 0; o < n_outs; ++o) {
        const PackedMatrix& b = *outs[o].b;
        const size_t ldc = outs[o].ldc, n_end = std::min(n1, b.n);
        // Loop over n (one NR panel at a time): the panel slice stays in L1 ...
        for (size_t j = n0; j < n_end; j += cfg.nr) {
          const float* w = b.panel(j / cfg.nr) + p0 * cfg.nr;
          const size_t nc = std::min(cfg.nr, n_end - j);
          // ... while the micro-kernel walks the block's rows, MR at a time.
          for (size_t i = 0; i < mc; i += cfg.mr) {
            float* ci = outs[o].c + (i0 + i) * ldc + j;
            if (ppmm)
              cfg.ppmm(std::min(cfg.mr, mc - i), nc, kc, ablk + i / cfg.mr * strip_stride, w, ci, ldc, acc);
            else
              cfg.ukernel(std::min(cfg.mr, mc - i), nc, kc, ablk + i * ald, ald, w, ci, ldc, acc);
          }
        }
      }
    }
  }
}

void gemm_packed(bool trans_a, size_t m, size_t k, const float* a, size_t lda, const PackedMatrix& b, float* c,
                 size_t ldc, bool accumulate, size_t n0, size_t n1, const float* bias) {
  const GemmConfig& cfg = gemm_config();
  assert(!(accumulate && bias));
  if (settle_empty_product(m, k, c, ldc, accumulate, n0, &n1, b.n, bias)) return;
  if (b.is_bf16()) {
    assert(!trans_a);
    gemm_bf16_packed(m, k, a, lda, b.bf16_panels(), c, ldc, accumulate, n0, n1, bias);
    return;
  }
  if (b.is_int8()) {
    assert(!trans_a);
    gemm_int8_packed(m, k, a, lda, b.int8_panels(), c, ldc, accumulate, n0, n1, bias);
    return;
  }
  if (b.raw()) {
    cfg.dot(m, n1 - n0, k, a, lda, b.raw() + n0 * b.raw_ld(), b.raw_ld(), c + n0, ldc, accumulate);
  } else {
    const GemmOutput out{&b, c, ldc};
    gemm_blocks(trans_a, m, k, a, lda, &out, 1, accumulate, n0, n1, nullptr);
  }
  if (bias) add_row_vector(m, n1 - n0, bias + n0, c + n0, ldc, true);
}

void gemm_packed_products(size_t m, size_t k, const float* a, size_t lda, const PackedProduct* prods, size_t n_prods) {
  constexpr size_t kMax = 4;
  bool bf16 = n_prods > 0 && n_prods <= kMax, int8 = bf16;
  for (size_t o = 0; o < n_prods; ++o) {
    bf16 = bf16 && prods[o].b->is_bf16();
    int8 = int8 && prods[o].b->is_int8();
  }
  if (bf16) {
    Bf16Product ps[kMax];
    for (size_t o = 0; o < n_prods; ++o) {
      const PackedProduct& p = prods[o];
      ps[o] = Bf16Product{&p.b->bf16_panels(), p.c, p.ldc, p.accumulate, p.n0, p.n1, p.bias};
    }
    gemm_bf16_products(m, k, a, lda, ps, n_prods);
  } else if (int8) {
    Int8Product ps[kMax];
    for (size_t o = 0; o < n_prods; ++o) {
      const PackedProduct& p = prods[o];
      ps[o] = Int8Product{&p.b->int8_panels(), p.c, p.ldc, p.accumulate, p.n0, p.n1, p.bias};
    }
    gemm_int8_products(m, k, a, lda, ps, n_prods);
  } else {
    for (size_t o = 0; o < n_prods; ++o) {
      const PackedProduct& p = prods[o];
      gemm_packed(false, m, k, a, lda, *p.b, p.c, p.ldc, p.accumulate, p.n0, p.n1, p.bias);
    }
  }
}

void gemm_packed(bool trans_a, size_t m, size_t k, const float* a, size_t lda, const GemmOutput* outs,
                 size_t n_outs, bool accumulate, float* row_sums) {
  bool packed = true;
  for (size_t o = 0; o < n_outs; ++o) packed = packed && !outs[o].b->raw() && !outs[o].b->is_reduced();
  if (m == 0 || k == 0 || !packed) {  // the edge cases, one output at a time
    for (size_t o = 0; o < n_outs; ++o)
      gemm_packed(trans_a, m, k, a, lda, *outs[o].b, outs[o].c, outs[o].ldc, accumulate);
  } else {
    const bool sums_in_pack = trans_a && gemm_config().ppmm;
    gemm_blocks(trans_a, m, k, a, lda, outs, n_outs, accumulate, 0, static_cast<size_t>(-1),
                sums_in_pack ? row_sums : nullptr);
    if (sums_in_pack) return;
  }
  // Row sums of op(A) in increasing p, in their own pass.
  if (!row_sums) return;
  if (trans_a) {
    accumulate_column_sums(k, m, a, lda, row_sums);
  } else {
    for (size_t i = 0; i < m; ++i)
      for (size_t p = 0; p < k; ++p) row_sums[i] += a[i * lda + p];
  }
}

void gemm_strips(size_t m, size_t k, const float* strips, const GemmOutput* outs, size_t n_outs, bool accumulate,
                 float* row_sums) {
  assert(gemm_config().pack_strips);
  if (m == 0 || k == 0) return;
  gemm_blocks(true, m, k, nullptr, 0, outs, n_outs, accumulate, 0, static_cast<size_t>(-1), row_sums, strips);
}

void gemm(bool trans_a, bool trans_b, size_t m, size_t n, size_t k, const float* a, size_t lda, const float* b,
          size_t ldb, float* c, size_t ldc, bool accumulate) {
  if (m == 0 || n == 0) return;
  thread_local PackedMatrix packed;
  if (trans_b && !trans_a && m <= kDotMaxRows)
    packed.view_transposed(k, n, b, ldb);
  else
    packed.pack(trans_b, k, n, b, ldb);
  gemm_packed(trans_a, m, k, a, lda, packed, c, ldc, accumulate);
}

void add_row_vector(size_t m, size_t n, const float* bias, float* c, size_t ldc, bool accumulate) {
  for (size_t i = 0; i < m; ++i) {
    float* ci = c + i * ldc;
    if (accumulate)
      for (size_t j = 0; j < n; ++j) ci[j] += bias[j];
    else
      std::memcpy(ci, bias, n * sizeof(float));
  }
}

void accumulate_column_sums(size_t m, size_t n, const float* a, size_t lda, float* sums) {
  for (size_t i = 0; i < m; ++i)
    for (size_t j = 0; j < n; ++j) sums[j] += a[i * lda + j];
}

}  // namespace frnn
