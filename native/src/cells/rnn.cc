// Plain (Elman) RNN step, forward and backward.
//   h = act_gate(clip(x·Wᵀ + bW + h_prev·Rᵀ + bR))
#include <cstring>

#include "cells/cells.h"
#include "gemm/gemm.h"
#include "vmath/activations.h"

namespace frnn {

void rnn_step_forward(const Par& par, float* h, StepIO io, const float* h_prev, const uint8_t* active,
                      const DirWeights& w, const PackedDir& pk, const CellSpec& s, int B) {
  (void)w;
  const size_t H = s.H;
  float* z = io.z;  // (B, H)
  // One phase: the product and the activation touch only this thread's columns.
  size_t j0, j1;
  par.range(H, kSplitAlign, &j0, &j1);
  gemm_packed(false, B, H, h_prev, H, pk.rec, z, H, true, j0, j1);  // bR is folded into gx
  const Activation& a = s.act[kActGate];
  for (int b = 0; b < B; ++b) {
    float* hb = h + (size_t)b * H;
    const float* zb = z + (size_t)b * H;
    for (size_t j = j0; j < j1; ++j) hb[j] = activate(a, clip_value(zb[j], s.gate_clip));
  }
  copy_inactive_rows(h, h_prev, H, j0, j1, active, B);
}

void rnn_step_backward(const Par& par, float* dh_prev, float* dz, const float* dh, const float* z,
                       const uint8_t* active, const PackedDir& pk, const CellSpec& s, int B) {
  const size_t H = s.H;
  const Activation& a = s.act[kActGate];
  size_t j0, j1;
  par.range(H, kSplitAlign, &j0, &j1);
  for (int b = 0; b < B; ++b) {
    float* dzb = dz + (size_t)b * H;
    if (active && !active[b]) {
      std::memset(dzb + j0, 0, (j1 - j0) * sizeof(float));
      continue;
    }
    const float* zb = z + (size_t)b * H;
    const float* dhb = dh + (size_t)b * H;
    for (size_t j = j0; j < j1; ++j) {
      const float zc = clip_value(zb[j], s.gate_clip);
      dzb[j] = dhb[j] * activate_grad(a, zc, activate(a, zc)) * clip_grad(zb[j], s.gate_clip);
    }
  }
  par.barrier();
  gemm_packed(false, B, H, dz, H, pk.rec, dh_prev, H, false, j0, j1);
  copy_inactive_rows(dh_prev, dh, H, j0, j1, active, B);
}

}  // namespace frnn
