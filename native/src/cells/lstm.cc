// LSTM step, forward and backward (scalar reference).
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

static inline float clamp_cell(float c, float clip) { return clip_value(c, clip); }

void lstm_step_forward(float* h, float* c, StepIO io, const float* h_prev, const float* c_prev,
                       const uint8_t* active, const DirWeights& w, const PackedDir& pk, const CellSpec& s, int B) {
  const int H = s.H, Hout = s.Hout, GH = 4 * H;
  float* z = io.z;  // (B, 4H) i,f,g,o
  // z += h_prev·Rᵀ + bR
  gemm_packed(false, B, Hout, h_prev, Hout, pk.rec, z, GH, true);
  if (w.bR) add_row_vector(B, GH, w.bR, z, GH, true);
  const Activation& ag = s.act[kActGate];
  const Activation& ac = s.act[kActCell];
  const Activation& ah = s.act[kActHidden];
  // m: (B,H) before projection; written into aux when projecting, else straight into h.
  float* m = w.Wp ? io.aux : h;
  for (int b = 0; b < B; ++b) {
    float* zb = z + (size_t)b * GH;
    const float* cp = c_prev + (size_t)b * H;
    float* cb = c + (size_t)b * H;
    float* mb = m + (size_t)b * H;
    for (int j = 0; j < H; ++j) {
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
      const float cn = clamp_cell(f * cp[j] + i * g, s.cell_clip);
      float zo = zb[3 * H + j];
      if (w.P) zo += w.P[2 * H + j] * cn;
      zb[3 * H + j] = zo;
      const float o = activate(ag, clip_value(zo, s.gate_clip));
      cb[j] = cn;
      mb[j] = o * activate(ah, cn);
    }
  }
  if (w.Wp) gemm_packed(false, B, H, m, H, pk.proj, h, Hout, false);
  if (active) {
    for (int b = 0; b < B; ++b) {
      if (active[b]) continue;
      std::memcpy(h + (size_t)b * Hout, h_prev + (size_t)b * Hout, Hout * sizeof(float));
      std::memcpy(c + (size_t)b * H, c_prev + (size_t)b * H, H * sizeof(float));
    }
  }
}

void lstm_step_backward(float* dh_prev, float* dc, float* dz, float* scratch, const float* dh,
                        const float* z, const float* aux, const float* h_prev, const float* c_prev,
                        const float* c, const uint8_t* active, const DirWeights& w, const PackedDir& pk,
                        DirGrads& g, const CellSpec& s, int B) {
  (void)aux;
  (void)h_prev;
  const int H = s.H, Hout = s.Hout, GH = 4 * H;
  const Activation& ag = s.act[kActGate];
  const Activation& ac = s.act[kActCell];
  const Activation& ah = s.act[kActHidden];
  // dm: (B,H) gradient of o⊙act_hidden(c)
  const float* dm = dh;
  if (w.Wp) {
    gemm_packed(false, B, Hout, dh, Hout, pk.proj, scratch, H, false);
    dm = scratch;
  }
  for (int b = 0; b < B; ++b) {
    float* dzb = dz + (size_t)b * GH;
    float* dcb = dc + (size_t)b * H;
    if (active && !active[b]) {
      std::memset(dzb, 0, GH * sizeof(float));  // dc passes through unchanged
      continue;
    }
    const float* zb = z + (size_t)b * GH;
    const float* cp = c_prev + (size_t)b * H;
    const float* cb = c + (size_t)b * H;
    const float* dmb = dm + (size_t)b * H;
    for (int j = 0; j < H; ++j) {
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
        g.P[2 * H + j] += dzo * cn;
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
        g.P[j] += dzi * cp[j];
        g.P[H + j] += dzf * cp[j];
      }
      dzb[j] = dzi;
      dzb[H + j] = dzf;
      dzb[2 * H + j] = dzg;
      dzb[3 * H + j] = dzo;
      dcb[j] = dcp;
    }
  }
  // dh_prev = dz·R; finished rows pass dh through.
  gemm_packed(false, B, GH, dz, GH, pk.rec, dh_prev, Hout, false);
  if (active)
    for (int b = 0; b < B; ++b)
      if (!active[b]) std::memcpy(dh_prev + (size_t)b * Hout, dh + (size_t)b * Hout, Hout * sizeof(float));
}

}  // namespace frnn
