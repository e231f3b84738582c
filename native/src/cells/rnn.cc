// Plain (Elman) RNN step, forward and backward (scalar reference).
//   h = act_gate(clip(x·Wᵀ + bW + h_prev·Rᵀ + bR))
#include <cstring>

#include "cells/cells.h"
#include "gemm/gemm.h"
#include "vmath/activations.h"

namespace frnn {

void rnn_step_forward(float* h, StepIO io, const float* h_prev, const uint8_t* active,
                      const DirWeights& w, const PackedDir& pk, const CellSpec& s, int B) {
  const int H = s.H;
  float* z = io.z;  // (B, H)
  gemm_packed(false, B, H, h_prev, H, pk.rec, z, H, true);
  if (w.bR) add_row_vector(B, H, w.bR, z, H, true);
  const Activation& a = s.act[kActGate];
  for (int b = 0; b < B; ++b) {
    float* hb = h + (size_t)b * H;
    const float* zb = z + (size_t)b * H;
    if (active && !active[b]) {
      std::memcpy(hb, h_prev + (size_t)b * H, H * sizeof(float));
      continue;
    }
    for (int j = 0; j < H; ++j) hb[j] = activate(a, clip_value(zb[j], s.gate_clip));
  }
}

void rnn_step_backward(float* dh_prev, float* dz, const float* dh, const float* z,
                       const float* h_prev, const uint8_t* active, const DirWeights& w,
                       const PackedDir& pk, const CellSpec& s, int B) {
  (void)h_prev;
  (void)w;
  const int H = s.H;
  const Activation& a = s.act[kActGate];
  for (int b = 0; b < B; ++b) {
    float* dzb = dz + (size_t)b * H;
    if (active && !active[b]) {
      std::memset(dzb, 0, H * sizeof(float));
      continue;
    }
    const float* zb = z + (size_t)b * H;
    const float* dhb = dh + (size_t)b * H;
    for (int j = 0; j < H; ++j) {
      const float zc = clip_value(zb[j], s.gate_clip);
      dzb[j] = dhb[j] * activate_grad(a, zc, activate(a, zc)) * clip_grad(zb[j], s.gate_clip);
    }
  }
  gemm_packed(false, B, H, dz, H, pk.rec, dh_prev, H, false);
  if (active)
    for (int b = 0; b < B; ++b)
      if (!active[b]) std::memcpy(dh_prev + (size_t)b * H, dh + (size_t)b * H, H * sizeof(float));
}

}  // namespace frnn
