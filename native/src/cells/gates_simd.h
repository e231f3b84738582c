// Gate math of LSTM and GRU steps on SIMD vectors, written once against the simd traits
// (simd/f32_*.h) and instantiated per ISA by cells/gates_<isa>.cc. These are the fast
// paths for the standard activations (gates sigmoid, cell and hidden tanh); any other
// activation takes the scalar code in cells/lstm.cc and cells/gru.cc, which is also the
// reference these kernels are tested against (same formulas, lane by lane; SIMD fuses
// multiply-adds).
//
// Every kernel covers rows b in [0, B) and hidden units j in [j0, j1); lanes are
// independent, so how [j0, j1) is split or vectorised never changes a result.
// Generic header: include the traits header of S before it.
#pragma once

#include <cstddef>
#include <cstdint>
#include <cstring>
#include <type_traits>

#include "cells/cells.h"

namespace frnn {
namespace {

template <class S>
struct Gates {
  using vf = typename S::vf;
  static constexpr size_t kLanes = static_cast<size_t>(S::kLanes);

  // ONNX clip on a pre-activation, and its derivative (0 where the clamp was active).
  struct Clip {
    bool on;
    vf lo, hi;
    explicit Clip(float c) : on(c > 0.0f), lo(S::set1(-c)), hi(S::set1(c)) {}
    vf apply(vf x) const { return on ? S::min(hi, S::max(lo, x)) : x; }
    vf grad(vf x) const {
      if (!on) return S::set1(1.0f);
      return S::select(S::ge(x, lo), S::select(S::le(x, hi), S::set1(1.0f), S::zero()), S::zero());
    }
  };

  static vf load(const float* p, size_t n) { return n == kLanes ? S::loadu(p) : S::load_partial(p, n); }
  static void store(float* p, vf v, size_t n) {
    if (n == kLanes)
      S::storeu(p, v);
    else
      S::store_partial(p, v, n);
  }
  // The vectors of rows [0, B), units [j0, j1) in row order, kVectorsPerBlock whole vectors
  // at a time (fn(integral_constant<int, U>, rows[U], units[U], kLanes)), then each row's
  // partial vector alone (U = 1, n < kLanes).
  static constexpr int kVectorsPerBlock = 4;
  template <class Fn>
  static inline void for_vectors(int B, size_t j0, size_t j1, const Fn& fn) {
    constexpr int U = kVectorsPerBlock;
    const size_t whole = (j1 - j0) / kLanes, tail = j0 + whole * kLanes;
    size_t left = static_cast<size_t>(B) * whole;  // whole vectors not yet handed out
    int b[U];
    size_t j[U];
    // The next whole vector (row, units [unit, unit + kLanes)), stepped along: an integer
    // division per vector put ~20 cycles before each block's first loads.
    int row = 0;
    size_t unit = j0;
    auto take = [&](int u) {
      b[u] = row;
      j[u] = unit;
      unit += kLanes;
      if (unit == tail) {
        unit = j0;
        ++row;
      }
    };
    for (; left >= U; left -= U) {
      for (int u = 0; u < U; ++u) take(u);
      fn(std::integral_constant<int, U>(), b, j, kLanes);
    }
    for (; left > 0; --left) {
      take(0);
      fn(std::integral_constant<int, 1>(), b, j, kLanes);
    }
    if (tail < j1)
      for (int r = 0; r < B; ++r) {
        b[0] = r;
        j[0] = tail;
        fn(std::integral_constant<int, 1>(), b, j, j1 - tail);
      }
  }

  static vf dsigmoid(vf y) { return S::mul(y, S::sub(S::set1(1.0f), y)); }
  static vf dtanh(vf y) { return S::fnmadd(y, y, S::set1(1.0f)); }

  // ---- LSTM --------------------------------------------------------------------------------
  // As lstm_gates_forward in cells/lstm.cc: completes z with peephole and forget-bias terms,
  // writes c and m = o⊙tanh(c).
  struct LstmArgs {
    float *m, *c, *z;
    const float *c_prev, *P;
    size_t H;
    Clip gclip, cclip;
    vf fb;
    bool input_forget;
  };

  // U vectors of units, vector u at row b[u], units [j[u], j[u] + n) (n < kLanes only for
  // U = 1), stage by stage: one vector alone is a ~140-cycle chain (sigmoid, then c, then
  // tanh(c)) that kept the FP units mostly idle; U independent chains side by side in the
  // instruction stream overlap. The same operations on every lane as one vector at a time.
  template <int U>
  static inline void lstm_forward_vectors(const LstmArgs& a, const int* b, const size_t* j, size_t n) {
    const size_t H = a.H, GH = 4 * H;
    const vf one = S::set1(1.0f);
    float* zb[U];
    const float* cp[U];
    vf cpv[U], zi[U], zf[U], zg[U], i[U], f[U], cn[U], o[U];
#pragma GCC unroll 4
    for (int u = 0; u < U; ++u) {
      zb[u] = a.z + b[u] * GH + j[u];
      cp[u] = a.c_prev + b[u] * H + j[u];
      cpv[u] = load(cp[u], n);
      zi[u] = load(zb[u], n);
      zf[u] = S::add(load(zb[u] + H, n), a.fb);
      zg[u] = load(zb[u] + 2 * H, n);
      if (a.P) {
        zi[u] = S::fmadd(load(a.P + j[u], n), cpv[u], zi[u]);
        zf[u] = S::fmadd(load(a.P + H + j[u], n), cpv[u], zf[u]);
      }
      store(zb[u], zi[u], n);
      store(zb[u] + H, zf[u], n);
    }
#pragma GCC unroll 4
    for (int u = 0; u < U; ++u) i[u] = S::sigmoid(a.gclip.apply(zi[u]));
#pragma GCC unroll 4
    for (int u = 0; u < U; ++u) f[u] = a.input_forget ? S::sub(one, i[u]) : S::sigmoid(a.gclip.apply(zf[u]));
#pragma GCC unroll 4
    for (int u = 0; u < U; ++u)
      cn[u] = a.cclip.apply(S::fmadd(f[u], cpv[u], S::mul(i[u], S::tanh(a.gclip.apply(zg[u])))));
#pragma GCC unroll 4
    for (int u = 0; u < U; ++u) {
      vf zo = load(zb[u] + 3 * H, n);
      if (a.P) zo = S::fmadd(load(a.P + 2 * H + j[u], n), cn[u], zo);
      store(zb[u] + 3 * H, zo, n);
      o[u] = S::sigmoid(a.gclip.apply(zo));
    }
#pragma GCC unroll 4
    for (int u = 0; u < U; ++u) {
      store(a.c + b[u] * H + j[u], cn[u], n);
      store(a.m + b[u] * H + j[u], S::mul(o[u], S::tanh(cn[u])), n);
    }
  }

  static void lstm_forward(float* m, float* c, float* z, const float* c_prev, const float* P, const CellSpec& s,
                           int B, size_t j0, size_t j1) {
    const LstmArgs a{m, c, z, c_prev, P, static_cast<size_t>(s.H), Clip(s.gate_clip), Clip(s.cell_clip),
                     S::set1(s.forget_bias), s.input_forget};
    for_vectors(B, j0, j1, [&](auto u, const int* b, const size_t* j, size_t n) {
      lstm_forward_vectors<decltype(u)::value>(a, b, j, n);
    });
  }

  // As lstm_gates_backward in cells/lstm.cc.
  static void lstm_backward(float* dz, float* dc, float* dP, const float* dm, const float* z, const float* c_prev,
                            const float* c, const uint8_t* active, const float* P, const CellSpec& s, int B,
                            size_t j0, size_t j1) {
    const size_t H = s.H, GH = 4 * H;
    const Clip gclip(s.gate_clip), cclip(s.cell_clip);
    const vf one = S::set1(1.0f);
    for (int b = 0; b < B; ++b) {
      float* dzb = dz + b * GH;
      float* dcb = dc + b * H;
      if (active && !active[b]) {  // dc passes through unchanged
        for (int g = 0; g < 4; ++g) std::memset(dzb + g * H + j0, 0, (j1 - j0) * sizeof(float));
        continue;
      }
      const float* zb = z + b * GH;
      for (size_t j = j0; j < j1; j += kLanes) {
        const size_t n = j1 - j < kLanes ? j1 - j : kLanes;
        const vf zi = load(zb + j, n), zf = load(zb + H + j, n), zg = load(zb + 2 * H + j, n);
        const vf zo = load(zb + 3 * H + j, n);
        const vf cp = load(c_prev + b * H + j, n), cn = load(c + b * H + j, n), dmv = load(dm + b * H + j, n);
        const vf i = S::sigmoid(gclip.apply(zi));
        const vf f = s.input_forget ? S::sub(one, i) : S::sigmoid(gclip.apply(zf));
        const vf g = S::tanh(gclip.apply(zg));
        const vf o = S::sigmoid(gclip.apply(zo));
        const vf hc = S::tanh(cn);
        const vf dzo = S::mul(S::mul(S::mul(dmv, hc), dsigmoid(o)), gclip.grad(zo));
        vf dcn = S::add(load(dcb + j, n), S::mul(S::mul(dmv, o), dtanh(hc)));
        if (P) {
          dcn = S::fmadd(dzo, load(P + 2 * H + j, n), dcn);
          store(dP + 2 * H + j, S::fmadd(dzo, cn, load(dP + 2 * H + j, n)), n);
        }
        if (cclip.on) dcn = S::mul(dcn, cclip.grad(S::fmadd(f, cp, S::mul(i, g))));
        vf di = S::mul(dcn, g);
        const vf df = S::mul(dcn, cp), dg = S::mul(dcn, i);
        vf dcp = S::mul(dcn, f);
        vf dzf = S::zero();
        if (s.input_forget)
          di = S::sub(di, df);
        else
          dzf = S::mul(S::mul(df, dsigmoid(f)), gclip.grad(zf));
        const vf dzi = S::mul(S::mul(di, dsigmoid(i)), gclip.grad(zi));
        const vf dzg = S::mul(S::mul(dg, dtanh(g)), gclip.grad(zg));
        if (P) {
          dcp = S::fmadd(dzi, load(P + j, n), dcp);
          dcp = S::fmadd(dzf, load(P + H + j, n), dcp);
          store(dP + j, S::fmadd(dzi, cp, load(dP + j, n)), n);
          store(dP + H + j, S::fmadd(dzf, cp, load(dP + H + j, n)), n);
        }
        store(dzb + j, dzi, n);
        store(dzb + H + j, dzf, n);
        store(dzb + 2 * H + j, dzg, n);
        store(dzb + 3 * H + j, dzo, n);
        store(dcb + j, dcp, n);
      }
    }
  }

  // ---- GRU ---------------------------------------------------------------------------------
  // reset_after false, phase 2: q = r⊙h_prev (U vectors at a time, as lstm_forward_vectors).
  static void gru_reset_hidden(float* q, const float* z, const float* h_prev, const CellSpec& s, int B, size_t j0,
                               size_t j1) {
    const size_t H = s.H, GH = 3 * H;
    const Clip gclip(s.gate_clip);
    for_vectors(B, j0, j1, [&](auto uc, const int* b, const size_t* j, size_t n) {
      constexpr int U = decltype(uc)::value;
      vf r[U];
#pragma GCC unroll 4
      for (int u = 0; u < U; ++u) r[u] = S::sigmoid(gclip.apply(load(z + b[u] * GH + j[u], n)));
#pragma GCC unroll 4
      for (int u = 0; u < U; ++u) store(q + b[u] * H + j[u], S::mul(r[u], load(h_prev + b[u] * H + j[u], n)), n);
    });
  }

  // Last phase: (reset_after: z_n += r⊙Rn) n and h = (1-u)⊙n + u⊙h_prev, U vectors at a time
  // (as lstm_forward_vectors).
  static void gru_forward(float* h, float* z, const float* aux, const float* h_prev, const CellSpec& s, int B,
                          size_t j0, size_t j1) {
    const size_t H = s.H, GH = 3 * H;
    const Clip gclip(s.gate_clip);
    const bool reset_after = s.reset_after;
    for_vectors(B, j0, j1, [&](auto uc, const int* b, const size_t* j, size_t n) {
      constexpr int U = decltype(uc)::value;
      float* zb[U];
      vf zn[U], ug[U];
#pragma GCC unroll 4
      for (int u = 0; u < U; ++u) {
        zb[u] = z + b[u] * GH + j[u];
        zn[u] = load(zb[u] + 2 * H, n);
      }
      if (reset_after) {
#pragma GCC unroll 4
        for (int u = 0; u < U; ++u) {
          const vf r = S::sigmoid(gclip.apply(load(zb[u], n)));
          zn[u] = S::fmadd(r, load(aux + b[u] * H + j[u], n), zn[u]);
          store(zb[u] + 2 * H, zn[u], n);
        }
      }
#pragma GCC unroll 4
      for (int u = 0; u < U; ++u) ug[u] = S::sigmoid(gclip.apply(load(zb[u] + H, n)));
#pragma GCC unroll 4
      for (int u = 0; u < U; ++u) {
        const vf nn = S::tanh(gclip.apply(zn[u]));
        const vf hp = load(h_prev + b[u] * H + j[u], n);
        // (1-u)⊙n + u⊙h_prev = n + u⊙(h_prev - n)
        store(h + b[u] * H + j[u], S::fmadd(ug[u], S::sub(hp, nn), nn), n);
      }
    });
  }

  // Phase 1 of the backward step: u and n blocks, dh_prev = dh⊙u, and the r block when
  // reset_after.
  static void gru_backward(float* dz, float* dzr, float* dh_prev, const float* dh, const float* z, const float* aux,
                           const float* h_prev, const uint8_t* active, const CellSpec& s, int B, size_t j0,
                           size_t j1) {
    const size_t H = s.H, GH = 3 * H;
    const Clip gclip(s.gate_clip);
    const vf one = S::set1(1.0f);
    for (int b = 0; b < B; ++b) {
      float* dzb = dz + b * GH;
      float* dzrb = dzr + b * GH;
      float* dhp = dh_prev + b * H;
      if (active && !active[b]) {
        for (int g = 0; g < 3; ++g) {
          std::memset(dzb + g * H + j0, 0, (j1 - j0) * sizeof(float));
          std::memset(dzrb + g * H + j0, 0, (j1 - j0) * sizeof(float));
        }
        std::memset(dhp + j0, 0, (j1 - j0) * sizeof(float));
        continue;
      }
      const float* zb = z + b * GH;
      for (size_t j = j0; j < j1; j += kLanes) {
        const size_t n = j1 - j < kLanes ? j1 - j : kLanes;
        const vf zr = load(zb + j, n), zu = load(zb + H + j, n), zn = load(zb + 2 * H + j, n);
        const vf r = S::sigmoid(gclip.apply(zr)), u = S::sigmoid(gclip.apply(zu)), nn = S::tanh(gclip.apply(zn));
        const vf dhv = load(dh + b * H + j, n), hp = load(h_prev + b * H + j, n);
        const vf dn = S::mul(dhv, S::sub(one, u));
        const vf du = S::mul(dhv, S::sub(hp, nn));
        const vf dzn = S::mul(S::mul(dn, dtanh(nn)), gclip.grad(zn));
        const vf dzu = S::mul(S::mul(du, dsigmoid(u)), gclip.grad(zu));
        store(dzb + H + j, dzu, n);
        store(dzrb + H + j, dzu, n);
        store(dzb + 2 * H + j, dzn, n);
        store(dhp + j, S::mul(dhv, u), n);
        if (s.reset_after) {
          const vf dr = S::mul(dzn, load(aux + b * H + j, n));
          const vf dzr_r = S::mul(S::mul(dr, dsigmoid(r)), gclip.grad(zr));
          store(dzrb + 2 * H + j, S::mul(dzn, r), n);
          store(dzb + j, dzr_r, n);
          store(dzrb + j, dzr_r, n);
        } else {
          store(dzrb + 2 * H + j, dzn, n);
        }
      }
    }
  }

  // reset_after false, phase 2: with dq = dzn·Rn, dr = dq⊙h_prev and dh_prev += dq⊙r.
  static void gru_reset_backward(float* dz, float* dzr, float* dh_prev, const float* dq, const float* z,
                                 const float* h_prev, const uint8_t* active, const CellSpec& s, int B, size_t j0,
                                 size_t j1) {
    const size_t H = s.H, GH = 3 * H;
    const Clip gclip(s.gate_clip);
    for (int b = 0; b < B; ++b) {
      if (active && !active[b]) continue;
      for (size_t j = j0; j < j1; j += kLanes) {
        const size_t n = j1 - j < kLanes ? j1 - j : kLanes;
        const vf zr = load(z + b * GH + j, n);
        const vf r = S::sigmoid(gclip.apply(zr));
        const vf dqv = load(dq + b * H + j, n);
        store(dh_prev + b * H + j, S::fmadd(dqv, r, load(dh_prev + b * H + j, n)), n);
        const vf dzr_r = S::mul(S::mul(S::mul(dqv, load(h_prev + b * H + j, n)), dsigmoid(r)), gclip.grad(zr));
        store(dz + b * GH + j, dzr_r, n);
        store(dzr + b * GH + j, dzr_r, n);
      }
    }
  }

  static constexpr GateKernels kernels() {
    return GateKernels{lstm_forward, lstm_backward, gru_reset_hidden, gru_forward, gru_backward, gru_reset_backward};
  }
};

}  // namespace
}  // namespace frnn
