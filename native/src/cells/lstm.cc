// LSTM step, forward and backward.
//
//   i = σ(clip(zi + Pi⊙c_prev))     f = σ(clip(zf + Pf⊙c_prev + forget_bias))   (f = 1-i if coupled)
//   g = act_cell(clip(zg))          c = cellclip(f⊙c_prev + i⊙g)
//   o = σ(clip(zo + Po⊙c))          m = o⊙act_hidden(c)        h = m·Wpᵀ (projection) or m
// with z = x·Wᵀ + bW + h_prev·Rᵀ + bR, σ = act_gate. Peepholes follow ONNX (o sees the new c).
#include <cstring>

#include "cells/cells.h"
#include "gemm/gemm.h"
#include "vmath/activations.h"

namespace frnn {

void copy_inactive_rows(float* dst, const float* src, size_t ld, size_t j0, size_t j1, const uint8_t* active,
                        int B) {
  if (!active || j0 >= j1) return;
  for (int b = 0; b < B; ++b)
    if (!active[b]) std::memcpy(dst + b * ld + j0, src + b * ld + j0, (j1 - j0) * sizeof(float));
}

// Gate math for hidden units [j0, j1) of every row: z (pre-activations) is completed with
// the peephole and forget-bias terms, c and m are written.
static void lstm_gates_forward(float* m, float* c, float* z, const float* c_prev, const DirWeights& w,
                               const CellSpec& s, int B, size_t j0, size_t j1) {
  const int H = s.H, GH = 4 * H;
  const Activation& ag = s.act[kActGate];
  const Activation& ac = s.act[kActCell];
  const Activation& ah = s.act[kActHidden];
  for (int b = 0; b < B; ++b) {
    float* zb = z + (size_t)b * GH;
    const float* cp = c_prev + (size_t)b * H;
    float* cb = c + (size_t)b * H;
    float* mb = m + (size_t)b * H;
    for (size_t j = j0; j < j1; ++j) {
      float zi = zb[j], zf = zb[H + j] + s.forget_bias;
      const float zg = zb[2 * H + j];
      if (w.P) {
        zi += w.P[j] * cp[j];
        zf += w.P[H + j] * cp[j];
      }
      zb[j] = zi;
      zb[H + j] = zf;
      const float i = activate(ag, clip_value(zi, s.gate_clip));
      const float f = s.input_forget ? 1.0f - i : activate(ag, clip_value(zf, s.gate_clip));
      const float g = activate(ac, clip_value(zg, s.gate_clip));
      const float cn = clip_value(f * cp[j] + i * g, s.cell_clip);
      float zo = zb[3 * H + j];
      if (w.P) zo += w.P[2 * H + j] * cn;
      zb[3 * H + j] = zo;
      const float o = activate(ag, clip_value(zo, s.gate_clip));
      cb[j] = cn;
      mb[j] = o * activate(ah, cn);
    }
  }
}

void lstm_step_forward(const Par& par, float* h, float* c, StepIO io, const float* h_prev, const float* c_prev,
                       const uint8_t* active, const DirWeights& w, const PackedDir& pk, const CellSpec& s, int B) {
  const size_t H = s.H, Hout = s.Hout, GH = 4 * H;
  float* z = io.z;  // (B, 4H) i,f,g,o
  // m: (B,H) before projection, written into aux when projecting, else straight into h.
  float* m = w.Wp ? io.aux : h;
  size_t j0, j1;
  par.range(H, kSplitAlign, &j0, &j1);
  if (fused_step_fits(s, pk)) {
    // Phases 1 and 2 fused, this thread's hidden units: a tile of the four gates' products,
    // then its gate math.
    for_each_step_tile(B, j0, j1, [&](size_t i0, size_t rows, size_t jb, size_t nb) {
      float* zt = z + i0 * GH;
      if (io.in) project_step_tile(*io.in, 4, H, i0, rows, jb, nb, zt, GH);
      for (size_t g = 0; g < 4; ++g)
        gemm_packed_tile(rows, Hout, h_prev + i0 * Hout, Hout, pk.rec, g * H + jb, nb, zt, GH, true);
      s.gates->lstm_forward(m + i0 * H, c + i0 * H, zt, c_prev + i0 * H, w.P, s, (int)rows, jb, jb + nb);
    });
  } else {
    // Phase 1, this thread's gate columns: z += h_prev·Rᵀ (bR is folded into gx).
    size_t n0, n1;
    par.range(GH, kSplitAlign, &n0, &n1);
    gemm_packed(false, B, Hout, h_prev, Hout, pk.rec, z, GH, true, n0, n1);
    par.barrier();
    // Phase 2, this thread's hidden units: gate math.
    if (s.gates)
      s.gates->lstm_forward(m, c, z, c_prev, w.P, s, B, j0, j1);
    else
      lstm_gates_forward(m, c, z, c_prev, w, s, B, j0, j1);
  }
  copy_inactive_rows(c, c_prev, H, j0, j1, active, B);
  if (w.Wp) {
    // Phase 3, this thread's projected columns: h = m·Wpᵀ.
    par.barrier();
    par.range(Hout, kSplitAlign, &j0, &j1);
    gemm_packed(false, B, H, m, H, pk.proj, h, Hout, false, j0, j1);
  }
  copy_inactive_rows(h, h_prev, Hout, j0, j1, active, B);
}

// Gradients of the gate math for hidden units [j0, j1): dz, dc (in: of c_t; out: of
// c_{t-1}) and the peephole gradients of those units.
static void lstm_gates_backward(float* dz, float* dc, float* dP, const float* dm, const float* z,
                                const float* c_prev, const float* c, const uint8_t* active, const DirWeights& w,
                                const CellSpec& s, int B, size_t j0, size_t j1) {
  const int H = s.H, GH = 4 * H;
  const Activation& ag = s.act[kActGate];
  const Activation& ac = s.act[kActCell];
  const Activation& ah = s.act[kActHidden];
  for (int b = 0; b < B; ++b) {
    float* dzb = dz + (size_t)b * GH;
    float* dcb = dc + (size_t)b * H;
    if (active && !active[b]) {  // dc passes through unchanged
      for (int g = 0; g < 4; ++g) std::memset(dzb + g * H + j0, 0, (j1 - j0) * sizeof(float));
      continue;
    }
    const float* zb = z + (size_t)b * GH;
    const float* cp = c_prev + (size_t)b * H;
    const float* cb = c + (size_t)b * H;
    const float* dmb = dm + (size_t)b * H;
    for (size_t j = j0; j < j1; ++j) {
      const float zi = zb[j], zf = zb[H + j], zg = zb[2 * H + j], zo = zb[3 * H + j];
      const float zi_c = clip_value(zi, s.gate_clip), zf_c = clip_value(zf, s.gate_clip);
      const float zg_c = clip_value(zg, s.gate_clip), zo_c = clip_value(zo, s.gate_clip);
      const float i = activate(ag, zi_c);
      const float f = s.input_forget ? 1.0f - i : activate(ag, zf_c);
      const float gv = activate(ac, zg_c);
      const float o = activate(ag, zo_c);
      const float cn = cb[j];
      const float hc = activate(ah, cn);
      // Through m = o⊙h(c) and the o peephole into c.
      const float dzo = dmb[j] * hc * activate_grad(ag, zo_c, o) * clip_grad(zo, s.gate_clip);
      float dcn = dcb[j] + dmb[j] * o * activate_grad(ah, cn, hc);
      if (w.P) {
        dcn += dzo * w.P[2 * H + j];
        dP[2 * H + j] += dzo * cn;
      }
      // Through the cell clip: c = clip(f⊙c_prev + i⊙g).
      if (s.cell_clip > 0.0f) dcn *= clip_grad(f * cp[j] + i * gv, s.cell_clip);
      float di = dcn * gv;
      const float df = dcn * cp[j];
      const float dg = dcn * i;
      float dcp = dcn * f;
      float dzf = 0.0f;
      if (s.input_forget)
        di -= df;
      else
        dzf = df * activate_grad(ag, zf_c, f) * clip_grad(zf, s.gate_clip);
      const float dzi = di * activate_grad(ag, zi_c, i) * clip_grad(zi, s.gate_clip);
      const float dzg = dg * activate_grad(ac, zg_c, gv) * clip_grad(zg, s.gate_clip);
      if (w.P) {
        dcp += dzi * w.P[j] + dzf * w.P[H + j];
        dP[j] += dzi * cp[j];
        dP[H + j] += dzf * cp[j];
      }
      dzb[j] = dzi;
      dzb[H + j] = dzf;
      dzb[2 * H + j] = dzg;
      dzb[3 * H + j] = dzo;
      dcb[j] = dcp;
    }
  }
}

void lstm_step_backward(const Par& par, float* dh_prev, float* dc, float* dz, float* scratch, const float* dh,
                        const float* z, const float* c_prev, const float* c, const uint8_t* active,
                        const DirWeights& w, const PackedDir& pk, DirGrads& g, const CellSpec& s, int B) {
  const size_t H = s.H, Hout = s.Hout, GH = 4 * H;
  size_t j0, j1;
  par.range(H, kSplitAlign, &j0, &j1);
  // dm: (B,H) gradient of o⊙act_hidden(c); through the projection, this thread's units.
  const float* dm = dh;
  if (w.Wp) {
    gemm_packed(false, B, Hout, dh, Hout, pk.proj, scratch, H, false, j0, j1);
    dm = scratch;
  }
  if (s.gates)
    s.gates->lstm_backward(dz, dc, g.P, dm, z, c_prev, c, active, w.P, s, B, j0, j1);
  else
    lstm_gates_backward(dz, dc, g.P, dm, z, c_prev, c, active, w, s, B, j0, j1);
  par.barrier();
  // dh_prev = dz·R over this thread's columns; finished rows pass dh through.
  par.range(Hout, kSplitAlign, &j0, &j1);
  gemm_packed(false, B, GH, dz, GH, pk.rec, dh_prev, Hout, false, j0, j1);
  copy_inactive_rows(dh_prev, dh, Hout, j0, j1, active, B);
}

}  // namespace frnn
