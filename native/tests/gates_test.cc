// The SIMD gate math of every cells/gates.inc row the CPU supports (the others are skipped and
// logged), forward kernels against the cell equations in float64 (every kernel has a scalar
// reference test: ARCHITECTURE.md). The backward kernels are checked through the whole
// backward pass on each ISA (gradcheck_test runs per ISA).
//
//   - LSTM forward: with and without peepholes, forget bias, gate and cell clip; hidden-unit
//     ranges [j0, j1) that start and end off a vector boundary; nothing written outside them.
//   - GRU forward: reset_after (r times the recurrent n term in aux) and reset_before.
// Tolerance: 2e-6 absolute + 2e-6 relative (the vector exp is within a few ulp).
#include <cmath>
#include <vector>

#include "cells/gates_list.h"
#include "test_util.h"

namespace {

using frnn_test::Rng;

const float kSentinel = -7777.25f;

double sigmoid(double x) { return 1.0 / (1.0 + std::exp(-x)); }
double clip(double x, double c) { return c > 0 ? std::fmin(c, std::fmax(-c, x)) : x; }

bool runnable(const frnn::GateEntry& e) {
  if (!e.kernels) return false;  // the scalar row: the plain code of cells/*.cc
  if (frnn::cpu_supports(e.isa)) return true;
  frnn_test::note(frnn_test::fmt("skipped %s: this CPU lacks %s", e.name, frnn::isa_to_string(e.isa)));
  return false;
}

frnn::CellSpec spec(int H, int G) {
  frnn::CellSpec s{};
  s.H = s.Hout = H;
  s.G = G;
  return s;
}

bool close(float got, double want) { return std::fabs(got - want) <= 2e-6 + 2e-6 * std::fabs(want); }

FRNN_TEST(lstm_forward_matches_equations) {
  Rng rng(21);
  for (const frnn::GateEntry& e : frnn::kGateTables) {
    if (!runnable(e)) continue;
    for (int peep = 0; peep < 2; ++peep)
      for (float gclip : {0.0f, 1.5f})
        for (float cclip : {0.0f, 0.8f}) {
          const int B = 3, H = 37;
          const size_t j0 = 3, j1 = 35;
          FRNN_SCOPE("%s peephole=%d gate_clip=%g cell_clip=%g", e.name, peep, gclip, cclip);
          frnn_test::count_case();
          frnn::CellSpec s = spec(H, 4);
          s.gate_clip = gclip;
          s.cell_clip = cclip;
          s.forget_bias = 0.25f;
          std::vector<float> z(B * 4 * H), c_prev(B * H), P(3 * H), m(B * H, kSentinel), c(B * H, kSentinel);
          rng.fill(z.data(), z.size(), -3, 3);
          rng.fill(c_prev.data(), c_prev.size(), -2, 2);
          rng.fill(P.data(), P.size(), -1, 1);
          const std::vector<float> z_in = z;
          e.kernels->lstm_forward(m.data(), c.data(), z.data(), c_prev.data(), peep ? P.data() : nullptr, s, B, j0, j1);
          size_t bad = 0, outside = 0;
          for (int b = 0; b < B; ++b)
            for (int j = 0; j < H; ++j) {
              const size_t k = b * H + j;
              if (j < (int)j0 || j >= (int)j1) {
                outside += m[k] != kSentinel || c[k] != kSentinel;
                continue;
              }
              const float* zb = z_in.data() + b * 4 * H;
              const double cp = c_prev[k];
              const double zi = zb[j] + (peep ? (double)P[j] * cp : 0.0);
              const double zf = zb[H + j] + 0.25 + (peep ? (double)P[H + j] * cp : 0.0);
              const double i = sigmoid(clip(zi, gclip)), f = sigmoid(clip(zf, gclip));
              const double g = std::tanh(clip(zb[2 * H + j], gclip));
              const double cn = clip(f * cp + i * g, cclip);
              const double zo = zb[3 * H + j] + (peep ? (double)P[2 * H + j] * cn : 0.0);
              const double o = sigmoid(clip(zo, gclip));
              bad += !close(c[k], cn) + !close(m[k], o * std::tanh(cn));
              bad += !close(z[b * 4 * H + j], zi) + !close(z[b * 4 * H + H + j], zf) + !close(z[b * 4 * H + 3 * H + j], zo);
            }
          CHECK_MSG(bad == 0, "%zu values off the equations", bad);
          CHECK_MSG(outside == 0, "%zu values written outside [j0, j1)", outside);
        }
  }
}

FRNN_TEST(gru_forward_matches_equations) {
  Rng rng(22);
  for (const frnn::GateEntry& e : frnn::kGateTables) {
    if (!runnable(e)) continue;
    for (int ra = 0; ra < 2; ++ra)
      for (float gclip : {0.0f, 1.5f}) {
        const int B = 4, H = 21;
        const size_t j0 = 1, j1 = 20;
        FRNN_SCOPE("%s reset_after=%d gate_clip=%g", e.name, ra, gclip);
        frnn_test::count_case();
        frnn::CellSpec s = spec(H, 3);
        s.gate_clip = gclip;
        s.reset_after = ra != 0;
        std::vector<float> z(B * 3 * H), aux(B * H), h_prev(B * H), h(B * H, kSentinel);
        rng.fill(z.data(), z.size(), -3, 3);
        rng.fill(aux.data(), aux.size(), -2, 2);
        rng.fill(h_prev.data(), h_prev.size(), -1, 1);
        const std::vector<float> z_in = z;
        e.kernels->gru_forward(h.data(), z.data(), aux.data(), h_prev.data(), s, B, j0, j1);
        size_t bad = 0, outside = 0;
        for (int b = 0; b < B; ++b)
          for (int j = 0; j < H; ++j) {
            const size_t k = b * H + j;
            if (j < (int)j0 || j >= (int)j1) {
              outside += h[k] != kSentinel;
              continue;
            }
            const float* zb = z_in.data() + b * 3 * H;
            double zn = zb[2 * H + j];
            if (ra) zn += sigmoid(clip(zb[j], gclip)) * aux[k];
            const double u = sigmoid(clip(zb[H + j], gclip)), n = std::tanh(clip(zn, gclip));
            bad += !close(h[k], (1 - u) * n + u * h_prev[k]);
            if (ra) bad += !close(z[b * 3 * H + 2 * H + j], zn);
          }
        CHECK_MSG(bad == 0, "%zu values off the equations", bad);
        CHECK_MSG(outside == 0, "%zu values written outside [j0, j1)", outside);
      }
  }
}

}  // namespace

int main(int argc, char** argv) { return frnn_test::run_all("gates_test", argc, argv); }
