// A test case for the sequence calls: config + sizes + which optional inputs are given,
// random data for it, and a one-line description for failure messages. Shared by
// forward_ref_test.cc and gradcheck_test.cc.
#pragma once

#include <algorithm>
#include <functional>
#include <string>
#include <vector>

#include "fused_rnn.h"
#include "ref/rnn_ref.h"
#include "test_util.h"

namespace frnn_test {

inline frnn::Activation act(frnn::ActKind kind, float alpha = 0.0f, float beta = 0.0f) { return {kind, alpha, beta}; }

// The usual activations: LSTM σ/tanh/tanh, GRU σ/tanh, RNN tanh, in both direction slots.
inline frnn::RnnConfig make_config(frnn::CellType cell, int I, int H) {
  frnn::RnnConfig c;
  c.cell = cell;
  c.input_size = I;
  c.hidden_size = H;
  for (auto& dir : c.act) {
    dir[frnn::kActGate] = act(cell == frnn::CellType::kRnn ? frnn::ActKind::kTanh : frnn::ActKind::kSigmoid);
    dir[frnn::kActCell] = act(frnn::ActKind::kTanh);
    dir[frnn::kActHidden] = act(frnn::ActKind::kTanh);
  }
  return c;
}

struct RnnCase {
  frnn::RnnConfig cfg;
  int T = 3, B = 2;
  bool batch_first = false;
  bool lengths = false;  // unsorted lengths including 1 and T (when B >= 2)
  bool h0 = false, c0 = false;
  std::string name;  // what the case is about

  frnn::SeqDims dims() const {
    frnn::SeqDims d;
    d.T = T;
    d.B = B;
    d.batch_first = batch_first;
    return d;
  }
  bool lstm() const { return cfg.cell == frnn::CellType::kLstm; }
  size_t slots() const { return (size_t)cfg.num_layers * cfg.num_directions; }
  size_t x_size() const { return (size_t)T * B * cfg.input_size; }
  size_t y_size() const { return (size_t)T * B * cfg.num_directions * frnn_ref::hout_ref(cfg); }
  size_t h_size() const { return slots() * B * frnn_ref::hout_ref(cfg); }
  size_t c_size() const { return lstm() ? slots() * B * cfg.hidden_size : 0; }
};

inline const char* act_name(frnn::ActKind k) {
  static const char* names[] = {"sigmoid", "tanh",       "relu", "identity", "hardSigmoid", "affine",  "leakyRelu",
                                "thresholdedRelu", "scaledTanh", "elu",  "softsign", "softplus"};
  const int i = (int)k;
  return i >= 0 && i < (int)frnn::ActKind::kCount ? names[i] : "?";
}

inline std::string describe(const RnnCase& k, const std::vector<int32_t>& lengths = {}) {
  const frnn::RnnConfig& c = k.cfg;
  static const char* cells[] = {"LSTM", "GRU", "RNN"};
  std::string s = fmt("%s%s%s I=%d H=%d", k.name.empty() ? "" : k.name.c_str(), k.name.empty() ? "" : ": ",
                      cells[(int)c.cell], c.input_size, c.hidden_size);
  if (c.proj_size) s += fmt(" proj=%d", c.proj_size);
  s += fmt(" L=%d D=%d", c.num_layers, c.num_directions);
  if (c.reverse) s += " reverse";
  if (!c.bias) s += " no-bias";
  if (c.peephole) s += " peephole";
  if (c.input_forget) s += " input_forget";
  if (c.cell == frnn::CellType::kGru) s += c.reset_after ? " reset_after" : " reset_before";
  if (c.gate_clip) s += fmt(" gate_clip=%g", c.gate_clip);
  if (c.cell_clip) s += fmt(" cell_clip=%g", c.cell_clip);
  if (c.forget_bias) s += fmt(" forget_bias=%g", c.forget_bias);
  const int slots = c.cell == frnn::CellType::kLstm ? 3 : c.cell == frnn::CellType::kGru ? 2 : 1;
  for (int d = 0; d < c.num_directions; ++d) {
    s += fmt(" act%d=[", d);
    for (int j = 0; j < slots; ++j) {
      const frnn::Activation& a = c.act[d][j];
      s += fmt("%s%s", j ? "," : "", act_name(a.kind));
      if (a.alpha != 0.0f || a.beta != 0.0f) s += fmt("(%g,%g)", a.alpha, a.beta);
    }
    s += "]";
  }
  s += fmt(" T=%d B=%d%s", k.T, k.B, k.batch_first ? " batch_first" : "");
  if (k.lengths) {
    s += " lengths=[";
    for (size_t b = 0; b < lengths.size(); ++b) s += fmt("%s%d", b ? "," : "", lengths[b]);
    s += "]";
  }
  s += k.h0 ? " h0" : " h0=null";
  if (k.lstm()) s += k.c0 ? " c0" : " c0=null";
  return s;
}

// Inputs of one case. Weights in ±w_scale, x and states in ±1.
struct RnnData {
  std::vector<float> params, x, h0, c0;
  std::vector<int32_t> lengths;
  const int32_t* len_ptr() const { return lengths.empty() ? nullptr : lengths.data(); }
  const float* h0_ptr() const { return h0.empty() ? nullptr : h0.data(); }
  const float* c0_ptr() const { return c0.empty() ? nullptr : c0.data(); }
};

// Unsorted lengths in 1..T with 1 and T present when B >= 2 (PyTorch packed, ONNX sequence_lens).
inline std::vector<int32_t> make_lengths(Rng& rng, int T, int B) {
  std::vector<int32_t> len(B);
  for (int b = 0; b < B; ++b) len[b] = rng.range(1, T);
  if (B >= 2) {
    len[0] = T;
    len[1] = 1;
    rng.shuffle(len);
    // Keep them out of PyTorch's enforce_sorted (descending) order.
    if (std::is_sorted(len.begin(), len.end(), std::greater<int32_t>())) std::reverse(len.begin(), len.end());
  }
  return len;
}

inline RnnData make_data(const RnnCase& k, Rng& rng, float w_scale = 0.6f) {
  RnnData d;
  size_t n = 0;
  frnn_ref::layout_ref(k.cfg, &n);
  d.params = rng.vec(n, -w_scale, w_scale);
  d.x = rng.vec(k.x_size(), -1.0f, 1.0f);
  if (k.h0) d.h0 = rng.vec(k.h_size(), -1.0f, 1.0f);
  if (k.c0 && k.lstm()) d.c0 = rng.vec(k.c_size(), -1.0f, 1.0f);
  if (k.lengths) d.lengths = make_lengths(rng, k.T, k.B);
  return d;
}

// An activation with parameters alpha in [a0, a1) and beta in [b0, b1). The two draws are
// sequenced (beta first): as function arguments their order would be unspecified, and GCC
// draws them in different orders on x86-64 and AArch64, so the cases would differ by platform.
inline frnn::Activation act2(Rng& rng, frnn::ActKind kind, float a0, float a1, float b0, float b1) {
  const float beta = rng.uniform(b0, b1);
  const float alpha = rng.uniform(a0, a1);
  return act(kind, alpha, beta);
}

// A random activation with sensible alpha/beta. no_jumps: leave out thresholdedRelu, whose
// jump at alpha a finite difference cannot straddle.
inline frnn::Activation random_act(Rng& rng, bool no_jumps) {
  using frnn::ActKind;
  for (;;) {
    switch (rng.range(0, 11)) {
      case 0: return act(ActKind::kSigmoid);
      case 1: return act(ActKind::kTanh);
      case 2: return act(ActKind::kRelu);
      case 3: return act(ActKind::kIdentity);
      case 4: return act2(rng, ActKind::kHardSigmoid, 0.1f, 0.4f, 0.3f, 0.7f);
      case 5: return act2(rng, ActKind::kAffine, 0.2f, 1.0f, -0.3f, 0.3f);
      case 6: return act(ActKind::kLeakyRelu, rng.uniform(0.01f, 0.3f));
      case 7:
        if (no_jumps) continue;
        return act(ActKind::kThresholdedRelu, rng.uniform(0.0f, 0.5f));
      case 8: return act2(rng, ActKind::kScaledTanh, 0.5f, 1.5f, 0.5f, 1.5f);
      case 9: return act(ActKind::kElu, rng.uniform(0.5f, 1.5f));
      case 10: return act(ActKind::kSoftsign);
      default: return act(ActKind::kSoftplus);
    }
  }
}

// A random case over every option: cell, LSTM/GRU options, per-slot activations (a third
// of them non-default), 1-3 layers, directions, reverse, bias, T, B, batch_first, lengths,
// h0/c0. tiny: sizes for finite differences (I <= 3, H <= 4, L <= 2, T <= 4, B <= 3) and
// no thresholdedRelu.
inline RnnCase random_case(Rng& rng, bool tiny = false) {
  using frnn::CellType;
  const CellType cell = (CellType)rng.range(0, 2);
  RnnCase k;
  // H before I, in separate statements: see act2.
  const int H = rng.range(1, tiny ? 4 : 5);
  const int I = rng.range(1, tiny ? 3 : 4);
  k.cfg = make_config(cell, I, H);
  frnn::RnnConfig& c = k.cfg;
  c.num_layers = !tiny && rng.range(0, 5) == 0 ? 3 : rng.range(1, 2);
  c.num_directions = rng.range(1, 2);
  c.reverse = c.num_directions == 1 && rng.range(0, 2) == 0;
  c.bias = rng.range(0, 4) != 0;
  if (rng.range(0, 2) == 0) c.gate_clip = rng.uniform(0.2f, 2.0f);
  if (cell == CellType::kLstm) {
    c.peephole = rng.coin();
    c.input_forget = rng.range(0, 3) == 0;
    if (c.hidden_size >= 2 && rng.coin()) c.proj_size = rng.range(1, c.hidden_size - 1);
    if (rng.range(0, 2) == 0) c.cell_clip = rng.uniform(0.1f, 1.5f);
    if (rng.range(0, 2) == 0) c.forget_bias = rng.uniform(-1.0f, 1.5f);
  }
  if (cell == CellType::kGru) c.reset_after = rng.coin();
  for (auto& dir : c.act)
    for (auto& a : dir)
      if (rng.range(0, 2) == 0) a = random_act(rng, tiny);
  k.T = rng.range(1, tiny ? 4 : 6);
  k.B = rng.range(1, tiny ? 3 : 4);
  k.batch_first = rng.coin();
  k.lengths = rng.coin();
  k.h0 = rng.coin();
  k.c0 = rng.coin();
  k.name = "random";
  return k;
}

}  // namespace frnn_test
