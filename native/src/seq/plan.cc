// The plan of one call: live steps, cell specs, packed operands.
#include "seq/plan.h"

#include <cassert>
#include <cstring>

namespace frnn {

CellSpec cell_spec(const RnnConfig& c, int d) {
  CellSpec s{};
  s.H = c.hidden_size;
  s.Hout = out_size(c);
  s.G = gate_count(c.cell);
  s.act = c.act[d];
  s.gate_clip = c.gate_clip;
  s.cell_clip = c.cell_clip;
  s.forget_bias = c.forget_bias;
  s.peephole = c.peephole;
  s.input_forget = c.input_forget;
  s.reset_after = c.reset_after;
  s.gates = simd_gates(c.cell, c.act[d]);
  return s;
}

void PackJobs::pack(PackedMatrix& m, bool trans_b, size_t k, size_t n, const float* b, size_t ldb,
                    const float* extra_row) {
  assert(n_ < sizeof m_ / sizeof m_[0]);
  m.plan(trans_b, k, n, b, ldb, extra_row);
  m_[n_++] = &m;
}

void PackJobs::pack_bf16(PackedMatrix& m, bool trans_b, size_t k, size_t n, const float* b, size_t ldb) {
  assert(n_ < sizeof m_ / sizeof m_[0]);
  m.plan_bf16(trans_b, k, n, b, ldb);
  m_[n_++] = &m;
}

void PackJobs::pack_int8(PackedMatrix& m, bool trans_b, size_t k, size_t n, const float* b, size_t ldb) {
  assert(n_ < sizeof m_ / sizeof m_[0]);
  m.plan_int8(trans_b, k, n, b, ldb);
  m_[n_++] = &m;
}

void PackJobs::pack_reduced(Precision p, PackedMatrix& m, bool trans_b, size_t k, size_t n, const float* b,
                            size_t ldb) {
  if (p == Precision::kInt8)
    pack_int8(m, trans_b, k, n, b, ldb);
  else
    pack_bf16(m, trans_b, k, n, b, ldb);
}

void PackJobs::fill(const Par& par) const {
  for (size_t i = 0; i < n_; ++i) {
    size_t j0, j1;
    par.range(m_[i]->panels(), 1, &j0, &j1);
    m_[i]->fill(j0, j1);
  }
  par.barrier();
}

void pack_direction(PackJobs& jobs, PackedDir& pk, CellType cell, const DirWeights& w, const CellSpec& s,
                    bool backward, size_t B, Precision prec) {
  assert(!(backward && prec == Precision::kInt8));
  const bool reduced = prec != Precision::kFp32;
  const size_t H = s.H, Hout = s.Hout, GH = (size_t)s.G * H;
  // Forward with few rows per step reads the weights in place (no copy at all).
  auto forward_operand = [&](PackedMatrix& m, size_t k, size_t n, const float* b) {
    if (reduced)
      jobs.pack_reduced(prec, m, true, k, n, b, k);
    else if (B <= kDotMaxRows)
      m.view_transposed(k, n, b, k);
    else
      jobs.pack(m, true, k, n, b, k);
  };
  // Backward's per-step products (dh_prev = dz·R, through the projection) read op(B) = R, Wp.
  auto backward_operand = [&](PackedMatrix& m, size_t k, size_t n, const float* b) {
    if (reduced)
      jobs.pack_bf16(m, false, k, n, b, n);
    else
      jobs.pack(m, false, k, n, b, n);
  };
  if (cell == CellType::kGru) {
    // Forward splits r,u from n (n's recurrent input differs when reset_after is false).
    const size_t rows_rec = backward && s.reset_after ? GH : 2 * H;
    const float* Rn = w.R + 2 * H * H;
    if (backward) {
      backward_operand(pk.rec, rows_rec, H, w.R);
      if (!s.reset_after) backward_operand(pk.rec_n, H, H, Rn);
    } else {
      forward_operand(pk.rec, H, 2 * H, w.R);
      forward_operand(pk.rec_n, H, H, Rn);
    }
    return;
  }
  if (backward)
    backward_operand(pk.rec, GH, Hout, w.R);
  else
    forward_operand(pk.rec, Hout, GH, w.R);
  if (w.Wp) {
    if (backward)
      backward_operand(pk.proj, Hout, H, w.Wp);
    else
      forward_operand(pk.proj, H, Hout, w.Wp);
  }
}

StepMap::StepMap(size_t T_, size_t B_, const int32_t* lengths) : T(T_), B(B_), len(B_, (int32_t)T_) {
  if (!lengths) return;
  bool all_full = true;
  for (size_t b = 0; b < B; ++b) {
    len[b] = lengths[b];
    all_full = all_full && lengths[b] == (int32_t)T;
  }
  if (all_full) return;
  active.resize(T * B);
  for (size_t s = 0; s < T; ++s)
    for (size_t b = 0; b < B; ++b) active[s * B + b] = (int32_t)s < len[b];
}

void gather_steps(float* xs, const float* x, size_t ld, size_t col0, size_t n, const StepMap& m,
                  bool reverse) {
  for (size_t s = 0; s < m.T; ++s)
    for (size_t b = 0; b < m.B; ++b) {
      float* dst = xs + (s * m.B + b) * n;
      if (!m.live(s, b)) {
        std::memset(dst, 0, n * sizeof(float));
        continue;
      }
      std::memcpy(dst, x + (m.time(s, b, reverse) * m.B + b) * ld + col0, n * sizeof(float));
    }
}

void swap_batch_time(float* dst, const float* src, size_t outer, size_t inner, size_t F) {
  for (size_t i = 0; i < outer; ++i)
    for (size_t j = 0; j < inner; ++j)
      std::memcpy(dst + (j * outer + i) * F, src + (i * inner + j) * F, F * sizeof(float));
}

}  // namespace frnn
