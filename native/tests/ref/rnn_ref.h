// Float64 plain-loop reference of the forward pass (kept simple forever,
// never optimised: the thing the fast code is checked against).
//
// Written from the equations in native/src/cells/{lstm,gru,rnn}.cc and the shape and layout
// comments of fused_rnn.h. It calls nothing in the library: it uses only the config types,
// computes the parameter offsets itself (tests compare them with param_layout()), and runs
// one sequence at a time, so lengths are handled by simply stopping early instead of masks.
//
// LSTM (gates i,f,g,o; z = W·x + bW + R·h_prev + bR; σ = act[gate]):
//   i = σ(clip(zi + Pi⊙c_prev))     f = σ(clip(zf + Pf⊙c_prev + forget_bias))   (f = 1-i if input_forget)
//   g = act[cell](clip(zg))         c = cellclip(f⊙c_prev + i⊙g)
//   o = σ(clip(zo + Po⊙c))          m = o⊙act[hidden](c)        h = Wp·m (projection) or m
// GRU (blocks r,u,n; x* = W*·x + bW*):
//   r = σ(clip(xr + Rr·h_prev + bRr))     u = σ(clip(xu + Ru·h_prev + bRu))
//   reset_after:  n = act[cell](clip(xn + r⊙(Rn·h_prev + bRn)))
//   otherwise:    n = act[cell](clip(xn + Rn·(r⊙h_prev) + bRn))
//   h = (1-u)⊙n + u⊙h_prev
// RNN: h = act[gate](clip(W·x + bW + R·h_prev + bR))
// Sequences: sequence b runs lengths[b] steps, forward in time or (reverse direction) from
// its own last step back to 0; y is 0 at t >= lengths[b]; hN/cN are the state after its
// last step. Direction d of layer l uses state slot l*D + d and act[d].
#pragma once

#include <cmath>
#include <cstddef>
#include <cstdint>
#include <vector>

#include "fused_rnn.h"

namespace frnn_ref {

inline double act_ref(const frnn::Activation& a, double x) {
  const double al = a.alpha, be = a.beta;
  switch (a.kind) {
    case frnn::ActKind::kSigmoid: return 1.0 / (1.0 + std::exp(-x));
    case frnn::ActKind::kTanh: return std::tanh(x);
    case frnn::ActKind::kRelu: return x > 0 ? x : 0.0;
    case frnn::ActKind::kIdentity: return x;
    case frnn::ActKind::kHardSigmoid: return std::fmin(std::fmax(al * x + be, 0.0), 1.0);
    case frnn::ActKind::kAffine: return al * x + be;
    case frnn::ActKind::kLeakyRelu: return x >= 0 ? x : al * x;
    case frnn::ActKind::kThresholdedRelu: return x > al ? x : 0.0;
    case frnn::ActKind::kScaledTanh: return al * std::tanh(be * x);
    case frnn::ActKind::kElu: return x >= 0 ? x : al * (std::exp(x) - 1.0);
    case frnn::ActKind::kSoftsign: return x / (1.0 + std::fabs(x));
    case frnn::ActKind::kSoftplus: return x > 30 ? x : std::log1p(std::exp(x));
    case frnn::ActKind::kCount: break;
  }
  return std::nan("");
}

inline double clip_ref(double x, double clip) { return clip > 0 ? std::fmin(std::fmax(x, -clip), clip) : x; }

inline int gates_ref(frnn::CellType cell) {
  return cell == frnn::CellType::kLstm ? 4 : cell == frnn::CellType::kGru ? 3 : 1;
}
inline int hout_ref(const frnn::RnnConfig& c) { return c.proj_size > 0 ? c.proj_size : c.hidden_size; }
inline int layer_in_ref(const frnn::RnnConfig& c, int l) { return l == 0 ? c.input_size : c.num_directions * hout_ref(c); }

// Offsets into the flat parameter buffer of one (layer, direction), from the layout comment
// of fused_rnn.h: W [GH, I_l], R [GH, Hout], bW [GH], bR [GH] (bias), P [3H] (peephole),
// Wp [P, H] (proj_size). npos = absent.
struct DirOffsets {
  static constexpr size_t npos = ~size_t(0);
  size_t W = npos, R = npos, bW = npos, bR = npos, P = npos, Wp = npos;
};

// All (layer, direction) offsets in slot order l*D + d; *total gets the buffer size.
inline std::vector<DirOffsets> layout_ref(const frnn::RnnConfig& c, size_t* total) {
  const size_t GH = (size_t)gates_ref(c.cell) * c.hidden_size, H = c.hidden_size, Hout = hout_ref(c);
  std::vector<DirOffsets> out;
  size_t at = 0;
  for (int l = 0; l < c.num_layers; ++l)
    for (int d = 0; d < c.num_directions; ++d) {
      DirOffsets o;
      o.W = at, at += GH * layer_in_ref(c, l);
      o.R = at, at += GH * Hout;
      if (c.bias) {
        o.bW = at, at += GH;
        o.bR = at, at += GH;
      }
      if (c.peephole) o.P = at, at += 3 * H;
      if (c.proj_size > 0) o.Wp = at, at += (size_t)c.proj_size * H;
      out.push_back(o);
    }
  if (total) *total = at;
  return out;
}

// Weights of one direction as doubles (absent = empty).
struct DirParams {
  std::vector<double> W, R, bW, bR, P, Wp;
  DirParams(const float* params, const DirOffsets& o, size_t GH, size_t I, size_t H, size_t Hout, size_t Psz) {
    auto take = [&](std::vector<double>& v, size_t off, size_t n) {
      if (off != DirOffsets::npos) v.assign(params + off, params + off + n);
    };
    take(W, o.W, GH * I);
    take(R, o.R, GH * Hout);
    take(bW, o.bW, GH);
    take(bR, o.bR, GH);
    take(P, o.P, 3 * H);
    take(Wp, o.Wp, Psz * H);
  }
};

// out[r] = Σ_j M[r, j]·v[j] for rows r0..r0+n of M (cols columns).
inline double row_dot(const std::vector<double>& M, size_t r, size_t cols, const double* v) {
  double s = 0;
  for (size_t j = 0; j < cols; ++j) s += M[r * cols + j] * v[j];
  return s;
}

// One LSTM step of one sequence. h (Hout), c (H) out; x (I), h_prev (Hout), c_prev (H) in.
inline void lstm_cell_forward_ref(double* h, double* c, const double* x, const double* h_prev, const double* c_prev,
                                  const DirParams& p, const frnn::RnnConfig& cfg, const frnn::Activation* act, size_t I) {
  const size_t H = cfg.hidden_size, Hout = hout_ref(cfg);
  std::vector<double> z(4 * H), m(H);
  for (size_t r = 0; r < 4 * H; ++r)
    z[r] = row_dot(p.W, r, I, x) + row_dot(p.R, r, Hout, h_prev) + (p.bW.empty() ? 0 : p.bW[r] + p.bR[r]);
  const double gc = cfg.gate_clip;
  for (size_t j = 0; j < H; ++j) {
    const double pi = p.P.empty() ? 0 : p.P[j], pf = p.P.empty() ? 0 : p.P[H + j], po = p.P.empty() ? 0 : p.P[2 * H + j];
    const double i = act_ref(act[frnn::kActGate], clip_ref(z[j] + pi * c_prev[j], gc));
    const double f = cfg.input_forget ? 1.0 - i
                                      : act_ref(act[frnn::kActGate], clip_ref(z[H + j] + pf * c_prev[j] + cfg.forget_bias, gc));
    const double g = act_ref(act[frnn::kActCell], clip_ref(z[2 * H + j], gc));
    const double cn = clip_ref(f * c_prev[j] + i * g, cfg.cell_clip);
    const double o = act_ref(act[frnn::kActGate], clip_ref(z[3 * H + j] + po * cn, gc));
    c[j] = cn;
    m[j] = o * act_ref(act[frnn::kActHidden], cn);
  }
  for (size_t k = 0; k < Hout; ++k) h[k] = p.Wp.empty() ? m[k] : row_dot(p.Wp, k, H, m.data());
}

// One GRU step of one sequence. h (H) out.
inline void gru_cell_forward_ref(double* h, const double* x, const double* h_prev, const DirParams& p,
                                 const frnn::RnnConfig& cfg, const frnn::Activation* act, size_t I) {
  const size_t H = cfg.hidden_size;
  const double gc = cfg.gate_clip;
  auto bw = [&](size_t r) { return p.bW.empty() ? 0.0 : p.bW[r]; };
  auto br = [&](size_t r) { return p.bR.empty() ? 0.0 : p.bR[r]; };
  std::vector<double> r(H), u(H), q(H);
  for (size_t j = 0; j < H; ++j) {
    r[j] = act_ref(act[frnn::kActGate], clip_ref(row_dot(p.W, j, I, x) + bw(j) + row_dot(p.R, j, H, h_prev) + br(j), gc));
    u[j] = act_ref(act[frnn::kActGate],
                   clip_ref(row_dot(p.W, H + j, I, x) + bw(H + j) + row_dot(p.R, H + j, H, h_prev) + br(H + j), gc));
    q[j] = r[j] * h_prev[j];
  }
  for (size_t j = 0; j < H; ++j) {
    const size_t rn = 2 * H + j;
    const double xn = row_dot(p.W, rn, I, x) + bw(rn);
    const double hn = cfg.reset_after ? r[j] * (row_dot(p.R, rn, H, h_prev) + br(rn)) : row_dot(p.R, rn, H, q.data()) + br(rn);
    const double n = act_ref(act[frnn::kActCell], clip_ref(xn + hn, gc));
    h[j] = (1.0 - u[j]) * n + u[j] * h_prev[j];
  }
}

// One Elman RNN step of one sequence. h (H) out.
inline void rnn_cell_forward_ref(double* h, const double* x, const double* h_prev, const DirParams& p,
                                 const frnn::RnnConfig& cfg, const frnn::Activation* act, size_t I) {
  const size_t H = cfg.hidden_size;
  for (size_t j = 0; j < H; ++j) {
    const double z = row_dot(p.W, j, I, x) + row_dot(p.R, j, H, h_prev) + (p.bW.empty() ? 0 : p.bW[j] + p.bR[j]);
    h[j] = act_ref(act[frnn::kActGate], clip_ref(z, cfg.gate_clip));
  }
}

// One direction of one layer over the whole batch.
//   x (T, B, I) time-major; h0 (B, Hout), c0 (B, H) or nullptr = zeros;
//   y (T, B, ldy) written at columns y_col.. y_col+Hout; hN (B, Hout); cN (B, H) (LSTM).
inline void dir_forward_ref(const frnn::RnnConfig& cfg, int d, const DirParams& p, size_t T, size_t B, size_t I,
                            const double* x, const int32_t* lengths, const double* h0, const double* c0, double* y,
                            size_t ldy, size_t y_col, double* hN, double* cN) {
  const size_t H = cfg.hidden_size, Hout = hout_ref(cfg);
  const bool reverse = d == 1 || cfg.reverse;
  const frnn::Activation* act = cfg.act[d];
  for (size_t b = 0; b < B; ++b) {
    const size_t len = lengths ? (size_t)lengths[b] : T;
    std::vector<double> h(Hout, 0.0), c(H, 0.0), hn(Hout), cn(H);
    if (h0) h.assign(h0 + b * Hout, h0 + (b + 1) * Hout);
    if (c0) c.assign(c0 + b * H, c0 + (b + 1) * H);
    for (size_t t = 0; t < T; ++t)
      for (size_t k = 0; k < Hout; ++k) y[(t * B + b) * ldy + y_col + k] = 0.0;
    for (size_t s = 0; s < len; ++s) {
      const size_t t = reverse ? len - 1 - s : s;
      const double* xt = x + (t * B + b) * I;
      switch (cfg.cell) {
        case frnn::CellType::kLstm: lstm_cell_forward_ref(hn.data(), cn.data(), xt, h.data(), c.data(), p, cfg, act, I); break;
        case frnn::CellType::kGru: gru_cell_forward_ref(hn.data(), xt, h.data(), p, cfg, act, I); break;
        case frnn::CellType::kRnn: rnn_cell_forward_ref(hn.data(), xt, h.data(), p, cfg, act, I); break;
      }
      h.swap(hn);
      c.swap(cn);
      for (size_t k = 0; k < Hout; ++k) y[(t * B + b) * ldy + y_col + k] = h[k];
    }
    for (size_t k = 0; k < Hout; ++k) hN[b * Hout + k] = h[k];
    if (cN)
      for (size_t k = 0; k < H; ++k) cN[b * H + k] = c[k];
  }
}

// The whole stack with frnn::forward's shapes (x, y batch-major when batch_first; states
// [L*D, B, *]). y, hN, cN are resized; cN stays empty unless the cell is an LSTM.
inline void forward_ref(const frnn::RnnConfig& cfg, const float* params, frnn::SeqDims dims, const float* x,
                        const int32_t* lengths, const float* h0, const float* c0, std::vector<double>& y,
                        std::vector<double>& hN, std::vector<double>& cN) {
  const size_t T = dims.T, B = dims.B, D = cfg.num_directions, L = cfg.num_layers;
  const size_t H = cfg.hidden_size, Hout = hout_ref(cfg), GH = (size_t)gates_ref(cfg.cell) * H;
  const bool lstm = cfg.cell == frnn::CellType::kLstm;
  const std::vector<DirOffsets> offs = layout_ref(cfg, nullptr);
  // Time-major float64 input of layer 0.
  std::vector<double> in((size_t)T * B * cfg.input_size);
  for (size_t t = 0; t < T; ++t)
    for (size_t b = 0; b < B; ++b)
      for (size_t i = 0; i < (size_t)cfg.input_size; ++i)
        in[(t * B + b) * cfg.input_size + i] =
            x[(dims.batch_first ? b * T + t : t * B + b) * cfg.input_size + i];
  hN.assign(L * D * B * Hout, 0.0);
  cN.assign(lstm ? L * D * B * H : 0, 0.0);
  std::vector<double> out, s_h0, s_c0;
  for (size_t l = 0; l < L; ++l) {
    const size_t I = layer_in_ref(cfg, (int)l);
    out.assign(T * B * D * Hout, 0.0);
    for (size_t d = 0; d < D; ++d) {
      const size_t slot = l * D + d;
      const DirParams p(params, offs[slot], GH, I, H, Hout, cfg.proj_size);
      const double* ph0 = nullptr;
      const double* pc0 = nullptr;
      if (h0) {
        s_h0.assign(h0 + slot * B * Hout, h0 + (slot + 1) * B * Hout);
        ph0 = s_h0.data();
      }
      if (lstm && c0) {
        s_c0.assign(c0 + slot * B * H, c0 + (slot + 1) * B * H);
        pc0 = s_c0.data();
      }
      dir_forward_ref(cfg, (int)d, p, T, B, I, in.data(), lengths, ph0, pc0, out.data(), D * Hout, d * Hout,
                      hN.data() + slot * B * Hout, lstm ? cN.data() + slot * B * H : nullptr);
    }
    in.swap(out);
  }
  // `in` now holds the top layer's output, time-major.
  const size_t F = D * Hout;
  y.assign(T * B * F, 0.0);
  for (size_t t = 0; t < T; ++t)
    for (size_t b = 0; b < B; ++b)
      for (size_t k = 0; k < F; ++k) y[(dims.batch_first ? b * T + t : t * B + b) * F + k] = in[(t * B + b) * F + k];
}

}  // namespace frnn_ref
