// The plan of one call: record layout, live steps, weight views, packed operands.
#include "seq/plan.h"

#include <cassert>
#include <cstring>

namespace frnn {

bool cell_needs_aux(const RnnConfig& c) {
  return c.cell == CellType::kGru || (c.cell == CellType::kLstm && c.proj_size > 0);
}

SavedLayout::SavedLayout(const RnnConfig& c, size_t T, size_t B) {
  const size_t H = c.hidden_size, Hout = out_size(c), GH = gate_count(c.cell) * H;
  const size_t D = c.num_directions;
  for (int l = 0; l < c.num_layers; ++l) {
    layer_out.push_back(total);
    if (l + 1 < c.num_layers) total += T * B * D * Hout;
    for (size_t d = 0; d < D; ++d) {
      Dir dir{};
      dir.z = take(T * B * GH);
      dir.h = take((T + 1) * B * Hout);
      dir.c = take(c.cell == CellType::kLstm ? (T + 1) * B * H : 0);
      dir.aux = take(cell_needs_aux(c) ? T * B * H : 0);
      dirs.push_back(dir);
    }
  }
}

size_t SavedLayout::take(size_t n) {
  const size_t at = total;
  total += n;
  return at;
}

// Views of one direction's weights, at the offsets param_layout() describes (computed
// here without building the layout: this runs on every call, also for one streaming step).
DirWeights dir_weights(const RnnConfig& c, const float* params, int l, int d) {
  const size_t GH = (size_t)gate_count(c.cell) * c.hidden_size, Hout = out_size(c), H = c.hidden_size;
  auto block = [&](int layer) {
    return GH * (layer_input_size(c, layer) + Hout) + (c.bias ? 2 * GH : 0) + (c.peephole ? 3 * H : 0) +
           (size_t)c.proj_size * H;
  };
  size_t offset = 0;
  for (int layer = 0; layer < l; ++layer) offset += c.num_directions * block(layer);
  offset += d * block(l);
  const float* p = params + offset;
  DirWeights w{};
  w.W = p;
  p += GH * layer_input_size(c, l);
  w.R = p;
  p += GH * Hout;
  if (c.bias) {
    w.bW = p;
    w.bR = p + GH;
    p += 2 * GH;
  }
  if (c.peephole) {
    w.P = p;
    p += 3 * H;
  }
  if (c.proj_size > 0) w.Wp = p;
  return w;
}

DirGrads dir_grads(const RnnConfig& c, float* grads, int l, int d) {
  const DirWeights w = dir_weights(c, grads, l, d);
  // Same offsets, writable buffer.
  return DirGrads{const_cast<float*>(w.W),  const_cast<float*>(w.R), const_cast<float*>(w.bW),
                  const_cast<float*>(w.bR), const_cast<float*>(w.P), const_cast<float*>(w.Wp)};
}

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

void PackJobs::fill(const Par& par) const {
  for (size_t i = 0; i < n_; ++i) {
    size_t j0, j1;
    par.range(m_[i]->panels(), 1, &j0, &j1);
    m_[i]->fill(j0, j1);
  }
  par.barrier();
}

void pack_direction(PackJobs& jobs, PackedDir& pk, CellType cell, const DirWeights& w, const CellSpec& s,
                    bool backward, size_t B) {
  const size_t H = s.H, Hout = s.Hout, GH = (size_t)s.G * H;
  // Forward with few rows per step reads the weights in place (no copy at all).
  auto forward_operand = [&](PackedMatrix& m, size_t k, size_t n, const float* b) {
    if (B <= kDotMaxRows)
      m.view_transposed(k, n, b, k);
    else
      jobs.pack(m, true, k, n, b, k);
  };
  if (cell == CellType::kGru) {
    // Forward splits r,u from n (n's recurrent input differs when reset_after is false).
    const size_t rows_rec = backward && s.reset_after ? GH : 2 * H;
    const float* Rn = w.R + 2 * H * H;
    if (backward) {
      jobs.pack(pk.rec, false, rows_rec, H, w.R, H);
      if (!s.reset_after) jobs.pack(pk.rec_n, false, H, H, Rn, H);
    } else {
      forward_operand(pk.rec, H, 2 * H, w.R);
      forward_operand(pk.rec_n, H, H, Rn);
    }
    return;
  }
  if (backward)
    jobs.pack(pk.rec, false, GH, Hout, w.R, Hout);
  else
    forward_operand(pk.rec, Hout, GH, w.R);
  if (w.Wp) {
    if (backward)
      jobs.pack(pk.proj, false, Hout, H, w.Wp, H);
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
