// GRU step, forward and backward.
//
//   r = σ(clip(xr + h_prev·Rrᵀ + bRr))     u = σ(clip(xu + h_prev·Ruᵀ + bRu))     (u: update gate "z")
//   reset_after:  n = act_cell(clip(xn + r⊙(h_prev·Rnᵀ + bRn)))         (PyTorch, ONNX lbr=1)
//   else:         n = act_cell(clip(xn + (r⊙h_prev)·Rnᵀ + bRn))          (ONNX default, Keras-1)
//   h = (1-u)⊙n + u⊙h_prev
// with x* = x·Wᵀ + bW per block, σ = act_gate. Internal block order r, u, n (PyTorch r,z,n).
#include <cstring>

#include "cells/cells.h"
#include "gemm/gemm.h"
#include "vmath/activations.h"

namespace frnn {

void gru_step_forward(const Par& par, float* h, StepIO io, const float* h_prev, const uint8_t* active,
                      const DirWeights& w, const PackedDir& pk, const CellSpec& s, int B) {
  const size_t H = s.H, GH = 3 * H;
  float* z = io.z;      // (B, 3H) r,u,n
  float* aux = io.aux;  // (B, H) Rn or q
  const Activation& ag = s.act[kActGate];
  const Activation& ac = s.act[kActCell];
  size_t n0, n1, j0, j1;
  if (fused_step_fits(s, pk)) {
    // All phases fused, this thread's hidden units: a tile of the r, u and n products (n's
    // with bRn), then its gate math.
    par.range(H, kSplitAlign, &j0, &j1);
    for_each_step_tile(B, j0, j1, [&](size_t i0, size_t rows, size_t jb, size_t nb) {
      const float* hp = h_prev + i0 * H;
      float *zt = z + i0 * GH, *at = aux + i0 * H;
      if (io.in) project_step_tile(*io.in, 3, H, i0, rows, jb, nb, zt, GH);
      gemm_packed_tile(rows, H, hp, H, pk.rec, jb, nb, zt, GH, true);
      gemm_packed_tile(rows, H, hp, H, pk.rec, H + jb, nb, zt, GH, true);
      gemm_packed_tile(rows, H, hp, H, pk.rec_n, jb, nb, at, H, false);
      if (w.bR) add_row_vector(rows, nb, w.bR + 2 * H + jb, at + jb, H, true);
      s.gates->gru_forward(h + i0 * H, zt, at, hp, s, (int)rows, jb, jb + nb);
    });
    copy_inactive_rows(h, h_prev, H, j0, j1, active, B);
    return;
  }
  // Phase 1, this thread's columns: z[:, 0:2H] += h_prev·R[0:2H]ᵀ, and with reset_after
  // aux = h_prev·Rnᵀ + bRn (the only bias not folded into gx: r multiplies it), both in one
  // call (bf16 and int8 then convert h_prev once).
  par.range(2 * H, kSplitAlign, &n0, &n1);
  par.range(H, kSplitAlign, &j0, &j1);
  const PackedProduct prods[2] = {{&pk.rec, z, GH, true, n0, n1, nullptr},
                                  {&pk.rec_n, aux, H, false, j0, j1, w.bR ? w.bR + 2 * H : nullptr}};
  gemm_packed_products(B, H, h_prev, H, prods, s.reset_after ? 2 : 1);
  par.barrier();
  if (!s.reset_after) {
    // Phase 2: q = r⊙h_prev on this thread's units, then z_n += q·Rnᵀ + bRn on its columns.
    if (s.gates) {
      s.gates->gru_reset_hidden(aux, z, h_prev, s, B, j0, j1);
    } else {
      for (int b = 0; b < B; ++b) {
        const float* zb = z + (size_t)b * GH;
        for (size_t j = j0; j < j1; ++j)
          aux[(size_t)b * H + j] = activate(ag, clip_value(zb[j], s.gate_clip)) * h_prev[(size_t)b * H + j];
      }
    }
    par.barrier();
    gemm_packed(false, B, H, aux, H, pk.rec_n, z + 2 * H, GH, true, j0, j1);
  }
  // Last phase, this thread's units: n and the new h.
  if (s.gates) s.gates->gru_forward(h, z, aux, h_prev, s, B, j0, j1);
  for (int b = 0; b < B && !s.gates; ++b) {
    float* zb = z + (size_t)b * GH;
    const float* ab = aux + (size_t)b * H;
    const float* hp = h_prev + (size_t)b * H;
    float* hb = h + (size_t)b * H;
    for (size_t j = j0; j < j1; ++j) {
      if (s.reset_after) zb[2 * H + j] += activate(ag, clip_value(zb[j], s.gate_clip)) * ab[j];
      const float u = activate(ag, clip_value(zb[H + j], s.gate_clip));
      const float n = activate(ac, clip_value(zb[2 * H + j], s.gate_clip));
      hb[j] = (1.0f - u) * n + u * hp[j];
    }
  }
  copy_inactive_rows(h, h_prev, H, j0, j1, active, B);
}

void gru_step_backward(const Par& par, float* dh_prev, float* dz, float* dzr, float* scratch, const float* dh,
                       const float* z, const float* aux, const float* h_prev, const uint8_t* active,
                       const PackedDir& pk, const CellSpec& s, int B) {
  const size_t H = s.H, GH = 3 * H;
  const Activation& ag = s.act[kActGate];
  const Activation& ac = s.act[kActCell];
  auto is_active = [&](int b) { return !active || active[b]; };
  size_t j0, j1;
  par.range(H, kSplitAlign, &j0, &j1);
  // Phase 1, this thread's units: n and u blocks, the direct path dh⊙u, and (reset_after)
  // the r block.
  if (s.gates) s.gates->gru_backward(dz, dzr, dh_prev, dh, z, aux, h_prev, active, s, B, j0, j1);
  for (int b = 0; b < B && !s.gates; ++b) {
    float* dzb = dz + (size_t)b * GH;
    float* dzrb = dzr + (size_t)b * GH;
    float* dhp = dh_prev + (size_t)b * H;
    const float* dhb = dh + (size_t)b * H;
    if (!is_active(b)) {
      for (int g = 0; g < 3; ++g) {
        std::memset(dzb + g * H + j0, 0, (j1 - j0) * sizeof(float));
        std::memset(dzrb + g * H + j0, 0, (j1 - j0) * sizeof(float));
      }
      std::memset(dhp + j0, 0, (j1 - j0) * sizeof(float));
      continue;
    }
    const float* zb = z + (size_t)b * GH;
    const float* ab = aux + (size_t)b * H;
    const float* hp = h_prev + (size_t)b * H;
    for (size_t j = j0; j < j1; ++j) {
      const float zr = zb[j], zu = zb[H + j], zn = zb[2 * H + j];
      const float zr_c = clip_value(zr, s.gate_clip), zu_c = clip_value(zu, s.gate_clip);
      const float zn_c = clip_value(zn, s.gate_clip);
      const float r = activate(ag, zr_c), u = activate(ag, zu_c), n = activate(ac, zn_c);
      const float dn = dhb[j] * (1.0f - u);
      const float du = dhb[j] * (hp[j] - n);
      const float dzn = dn * activate_grad(ac, zn_c, n) * clip_grad(zn, s.gate_clip);
      dzb[H + j] = dzrb[H + j] = du * activate_grad(ag, zu_c, u) * clip_grad(zu, s.gate_clip);
      dzb[2 * H + j] = dzn;
      dhp[j] = dhb[j] * u;
      if (s.reset_after) {
        const float dr = dzn * ab[j];
        dzrb[2 * H + j] = dzn * r;
        dzb[j] = dzrb[j] = dr * activate_grad(ag, zr_c, r) * clip_grad(zr, s.gate_clip);
      } else {
        dzrb[2 * H + j] = dzn;
      }
    }
  }
  par.barrier();
  size_t k_rec = GH;  // recurrent blocks whose input is h_prev
  if (!s.reset_after) {
    // Phase 2, this thread's units: dq = dzn·Rn, then dr = dq⊙h_prev and dh_prev += dq⊙r.
    k_rec = 2 * H;
    gemm_packed(false, B, H, dz + 2 * H, GH, pk.rec_n, scratch, H, false, j0, j1);
    if (s.gates) s.gates->gru_reset_backward(dz, dzr, dh_prev, scratch, z, h_prev, active, s, B, j0, j1);
    for (int b = 0; b < B && !s.gates; ++b) {
      if (!is_active(b)) continue;
      const float* zb = z + (size_t)b * GH;
      const float* hp = h_prev + (size_t)b * H;
      const float* dq = scratch + (size_t)b * H;
      float* dzb = dz + (size_t)b * GH;
      float* dzrb = dzr + (size_t)b * GH;
      float* dhp = dh_prev + (size_t)b * H;
      for (size_t j = j0; j < j1; ++j) {
        const float zr = zb[j], zr_c = clip_value(zr, s.gate_clip);
        const float r = activate(ag, zr_c);
        dhp[j] += dq[j] * r;
        dzb[j] = dzrb[j] = dq[j] * hp[j] * activate_grad(ag, zr_c, r) * clip_grad(zr, s.gate_clip);
      }
    }
    par.barrier();
  }
  // Last phase, this thread's columns: dh_prev += dzr[:, 0:k_rec]·R[0:k_rec]; finished rows
  // pass dh through.
  gemm_packed(false, B, k_rec, dzr, GH, pk.rec, dh_prev, H, true, j0, j1);
  copy_inactive_rows(dh_prev, dh, H, j0, j1, active, B);
}

}  // namespace frnn
