// oneDNN peer for bench_rnn (see dnnl_peer.h). Without FRNN_HAVE_DNNL this file only says so.
//
// Mapping from fused-rnn's parameters (one layer, one direction):
//   ours  W [G*H, I] row-major = [gate][out][in]      oneDNN weights_layer ldigo [1,1,I,G,H]
//         R [G*H, H]                                  oneDNN weights_iter  ldigo [1,1,H,G,H]
//   gate order  LSTM  ours i,f,g,o  = oneDNN i,f,c~,o (identity)
//               GRU   ours r,z,n    ->  oneDNN u(=z), r, o(=n)   (dnnl gate k <- ours kGruFrom[k])
//   bias  LSTM, vanilla GRU: one block per gate, bW + bR
//         lbr_gru: 4 blocks u, r, o, u'  =  bWz+bRz, bWr+bRr, bWn, bRn
// Semantics checked against ours: oneDNN h = u*h_prev + (1-u)*o is ours h = (1-z)*n + z*h_prev;
// gru (vanilla) o = tanh(W_o x + U_o (r*h) + b_o) is ours reset_after=false; lbr_gru
// o = tanh(W_o x + b_o + r*(U_o h + b_u')) is ours reset_after=true.
//
// h0 (and c0) are passed as explicit zero buffers, never as zero memory descriptors: with
// src_iter = memory::desc(), oneDNN 2.6.3's LSTM backward returns a wrong diff_weights_iter
// (off by ~1e-2 on the sanity shape; dx and diff_weights_layer stay right; GRU unaffected; cf.
// oneDNN issue #1436). With explicit zeros it matches fused-rnn and finite differences.
// Hence oneDNN's backward also writes dh0 (and dc0); fused-rnn's is asked for them too.
#include "dnnl_peer.h"

#include <stdexcept>

#ifdef FRNN_HAVE_DNNL

#include <omp.h>

#include <algorithm>
#include <cmath>
#include <cstring>
#include <numeric>
#include <oneapi/dnnl/dnnl.hpp>
#include <unordered_map>
#include <vector>

namespace frnn_bench {

using namespace dnnl;
using tag = memory::format_tag;
using dt = memory::data_type;

static const int kGruFrom[3] = {1, 0, 2};  // oneDNN u, r, o  <-  ours z, r, n

bool dnnl_compiled_in() { return true; }

static const char* isa_string(cpu_isa isa) {
  switch (isa) {
    case cpu_isa::sse41: return "sse41";
    case cpu_isa::avx: return "avx";
    case cpu_isa::avx2: return "avx2";
    case cpu_isa::avx2_vnni: return "avx2_vnni";
    case cpu_isa::avx512_core: return "avx512_core";
    case cpu_isa::avx512_core_vnni: return "avx512_core_vnni";
    case cpu_isa::avx512_core_bf16: return "avx512_core_bf16";
    case cpu_isa::avx512_core_amx: return "avx512_core_amx";
    default: return "other";
  }
}

std::string dnnl_description() {
  const dnnl_version_t* v = dnnl_version();
  std::string s = "oneDNN " + std::to_string(v->major) + "." + std::to_string(v->minor) + "." +
                  std::to_string(v->patch);
  s += v->cpu_runtime == DNNL_RUNTIME_OMP ? " (OpenMP" : v->cpu_runtime == DNNL_RUNTIME_TBB ? " (TBB" : " (other runtime";
  s += std::string(", isa ") + isa_string(get_effective_cpu_isa()) + ")";
  return s;
}

void dnnl_set_num_threads(int n) { omp_set_num_threads(n); }

// Plain-layout name of a memory desc ("ldigo", "ldgoi", ...) or its format kind.
static std::string fmt_name(const memory::desc& md, const char* letters) {
  const dnnl_memory_desc_t& d = md.data;
  if (d.format_kind == dnnl_format_kind_rnn_packed) return "rnn_packed";
  if (d.format_kind != dnnl_blocked) return "kind" + std::to_string(static_cast<int>(d.format_kind));
  std::vector<int> order(d.ndims);
  std::iota(order.begin(), order.end(), 0);
  std::stable_sort(order.begin(), order.end(), [&](int a, int b) {
    return d.format_desc.blocking.strides[a] > d.format_desc.blocking.strides[b];
  });
  std::string s;
  for (int i : order) s += letters[i];
  if (d.format_desc.blocking.inner_nblks > 0) s += "+blocked";
  return s;
}

struct DnnlRnn::Impl {
  PeerShape s;
  bool train = false;
  int G = 4;   // gate blocks in weights
  int GB = 4;  // bias blocks (lbr_gru: 4)
  engine eng{engine::kind::cpu, 0};
  stream strm{eng};
  primitive fwd, bwd;
  std::unordered_map<int, memory> fwd_args, bwd_args;
  memory wl_user, wi_user;            // ldigo, for conversions
  memory dwl, dwi, db;                // diff weights in the backward's formats
  std::vector<float> zeros_iter;      // h0, c0 = 0 and diff_dst_iter(_c) = 0: [4][B*H]
  std::vector<float> diff_src_iter;   // dh0, dc0 (compared with ours): [2][B*H]
  std::string fmt, impl;
  memory y_user, hN_user, y_bf16, hN_bf16;  // bf16: the primitive's outputs and the caller's f32 buffers
  std::vector<uint8_t> x_u8, h0_u8;          // int8: quantized x and h0 (= 0)
  memory hN_u8;                              // int8: hN as the primitive writes it
  float* hN_f32 = nullptr;                   // int8: the caller's hN, by outputs_to_f32()
};

DnnlRnn::~DnnlRnn() = default;

DnnlRnn::DnnlRnn(const PeerShape& s, bool train, const float* params, const float* x, float* y,
                 float* hN, float* cN, const float* dy, float* dx)
    : impl_(new Impl) {
  Impl& m = *impl_;
  m.s = s;
  m.train = train;
  m.G = s.lstm ? 4 : 3;
  m.GB = (!s.lstm && s.reset_after) ? 4 : m.G;
  const int T = s.T, B = s.B, I = s.I, H = s.H, G = m.G, GB = m.GB;
  const memory::dim dT = T, dB = B, dI = I, dH = H, dG = G, dGB = GB;
  engine& eng = m.eng;

  // ---- user weights in ldigo / ldgo, permuted from ours --------------------------------
  const float* W = params;
  const float* R = W + (size_t)G * H * I;
  const float* bW = R + (size_t)G * H * H;
  const float* bR = bW + (size_t)G * H;
  auto src_gate = [&](int k) { return s.lstm ? k : kGruFrom[k]; };
  std::vector<float> wl((size_t)I * G * H), wi((size_t)H * G * H), bias((size_t)GB * H);
  for (int k = 0; k < G; ++k) {
    const int g = src_gate(k);
    for (int o = 0; o < H; ++o) {
      for (int i = 0; i < I; ++i) wl[((size_t)i * G + k) * H + o] = W[((size_t)g * H + o) * I + i];
      for (int i = 0; i < H; ++i) wi[((size_t)i * G + k) * H + o] = R[((size_t)g * H + o) * H + i];
      if (GB == 4 && !s.lstm && k == 2) {
        bias[(size_t)2 * H + o] = bW[(size_t)g * H + o];  // o: input-side bias only
        bias[(size_t)3 * H + o] = bR[(size_t)g * H + o];  // u': recurrent n bias, inside r*(.)
      } else {
        bias[(size_t)k * H + o] = bW[(size_t)g * H + o] + bR[(size_t)g * H + o];
      }
    }
  }
  const memory::desc wl_user_md({1, 1, dI, dG, dH}, dt::f32, tag::ldigo);
  const memory::desc wi_user_md({1, 1, dH, dG, dH}, dt::f32, tag::ldigo);
  const memory::desc b_user_md({1, 1, dGB, dH}, dt::f32, tag::ldgo);
  m.wl_user = memory(wl_user_md, eng);
  m.wi_user = memory(wi_user_md, eng);
  memory b_user(b_user_md, eng);
  std::memcpy(m.wl_user.get_data_handle(), wl.data(), wl.size() * sizeof(float));
  std::memcpy(m.wi_user.get_data_handle(), wi.data(), wi.size() * sizeof(float));
  std::memcpy(b_user.get_data_handle(), bias.data(), bias.size() * sizeof(float));

  // ---- descriptors: data in the caller's layouts, weights/bias "any" --------------------
  if ((s.bf16 || s.int8) && train) throw std::invalid_argument("bf16 / int8 peer: inference only");
  const dt data_t = s.bf16 ? dt::bf16 : s.int8 ? dt::u8 : dt::f32;
  const dt out_t = s.int8 ? dt::f32 : data_t;  // int8: y and hN in f32
  const memory::desc x_md({dT, dB, dI}, data_t, tag::tnc);
  const memory::desc y_md({dT, dB, dH}, out_t, tag::tnc);
  const memory::desc st_md({1, 1, dB, dH}, data_t, tag::ldnc);
  const memory::desc sto_md({1, 1, dB, dH}, data_t, tag::ldnc);  // int8: hN in u8 too (oneDNN wants src_iter's type)
  const memory::desc stc_md({1, 1, dB, dH}, dt::f32, tag::ldnc);  // c: f32 in every configuration
  const dt w_t = s.int8 ? dt::s8 : data_t;
  const memory::desc wl_any({1, 1, dI, dG, dH}, w_t, tag::any);
  const memory::desc wi_any({1, 1, dH, dG, dH}, w_t, tag::any);
  // int8: the quantization attributes of the primitive and of the weights' reorders.
  primitive_attr attr;
  if (s.int8) {
    constexpr float kDataScale = 127.0f, kDataShift = 128.0f;
    attr.set_rnn_data_qparams(kDataScale, kDataShift);
    std::vector<float> wscale((size_t)G * H);  // per (gate, output): one scale over W and R
    for (int k = 0; k < G; ++k)
      for (int o = 0; o < H; ++o) {
        float mx = 0;
        for (int i = 0; i < I; ++i) mx = std::max(mx, std::fabs(wl[((size_t)i * G + k) * H + o]));
        for (int i = 0; i < H; ++i) mx = std::max(mx, std::fabs(wi[((size_t)i * G + k) * H + o]));
        wscale[(size_t)k * H + o] = mx > 0 ? 127.0f / mx : 1.0f;
      }
    attr.set_rnn_weights_qparams((1 << 3) | (1 << 4), wscale);
    m.x_u8.resize((size_t)T * B * I);
    for (size_t e = 0; e < m.x_u8.size(); ++e)
      m.x_u8[e] = static_cast<uint8_t>(std::min(255.0f, std::max(0.0f, std::nearbyint(x[e] * kDataScale + kDataShift))));
    m.h0_u8.assign((size_t)B * H, static_cast<uint8_t>(kDataShift));
  }
  const memory::desc b_any({1, 1, dGB, dH}, dt::f32, tag::any);
  const prop_kind pk = train ? prop_kind::forward_training : prop_kind::forward_inference;
  const auto dir = rnn_direction::unidirectional_left2right;
  const size_t BH = (size_t)B * H;
  m.zeros_iter.assign(4 * BH, 0.0f);
  m.diff_src_iter.assign(2 * BH, 0.0f);
  float* const zeros = m.zeros_iter.data();

  // Builds fwd pd, optional bwd pd, for one cell kind.
  auto setup = [&](auto fwd_tag, auto bwd_tag, auto make_fwd_desc, auto make_bwd_desc) {
    using Fwd = decltype(fwd_tag);
    using Bwd = decltype(bwd_tag);
    typename Fwd::primitive_desc fpd(make_fwd_desc(pk), attr, eng);
    m.fwd = Fwd(fpd);
    memory wl_f(fpd.weights_layer_desc(), eng), wi_f(fpd.weights_iter_desc(), eng), b_f(fpd.bias_desc(), eng);
    reorder(reorder::primitive_desc(m.wl_user, wl_f, attr)).execute(m.strm, m.wl_user, wl_f);
    reorder(reorder::primitive_desc(m.wi_user, wi_f, attr)).execute(m.strm, m.wi_user, wi_f);
    reorder(b_user, b_f).execute(m.strm, b_user, b_f);
    memory x_mem, y_mem, h0_mem, hN_mem;
    if (s.bf16) {  // own bf16 buffers; x converted here, once
      memory x_user(memory::desc({dT, dB, dI}, dt::f32, tag::tnc), eng, const_cast<float*>(x));
      x_mem = memory(fpd.src_layer_desc(), eng);
      reorder(x_user, x_mem).execute(m.strm, x_user, x_mem);
      y_mem = m.y_bf16 = memory(fpd.dst_layer_desc(), eng);
      hN_mem = m.hN_bf16 = memory(fpd.dst_iter_desc(), eng);
      h0_mem = memory(fpd.src_iter_desc(), eng);
      std::memset(h0_mem.get_data_handle(), 0, h0_mem.get_desc().get_size());
      m.y_user = memory(memory::desc({dT, dB, dH}, dt::f32, tag::tnc), eng, y);
      m.hN_user = memory(memory::desc({1, 1, dB, dH}, dt::f32, tag::ldnc), eng, hN);
    } else if (s.int8) {
      x_mem = memory(fpd.src_layer_desc(), eng, m.x_u8.data());
      y_mem = memory(fpd.dst_layer_desc(), eng, y);
      h0_mem = memory(fpd.src_iter_desc(), eng, m.h0_u8.data());
      hN_mem = m.hN_u8 = memory(fpd.dst_iter_desc(), eng);
      m.hN_f32 = hN;
    } else {
      x_mem = memory(fpd.src_layer_desc(), eng, const_cast<float*>(x));
      y_mem = memory(fpd.dst_layer_desc(), eng, y);
      h0_mem = memory(fpd.src_iter_desc(), eng, zeros);
      hN_mem = memory(fpd.dst_iter_desc(), eng, hN);
    }
    m.fwd_args = {{DNNL_ARG_SRC_LAYER, x_mem},
                  {DNNL_ARG_WEIGHTS_LAYER, wl_f},
                  {DNNL_ARG_WEIGHTS_ITER, wi_f},
                  {DNNL_ARG_BIAS, b_f},
                  {DNNL_ARG_DST_LAYER, y_mem},
                  {DNNL_ARG_SRC_ITER, h0_mem},
                  {DNNL_ARG_DST_ITER, hN_mem}};
    if (s.lstm) {
      m.fwd_args[DNNL_ARG_SRC_ITER_C] = memory(fpd.src_iter_c_desc(), eng, zeros + BH);
      m.fwd_args[DNNL_ARG_DST_ITER_C] = memory(fpd.dst_iter_c_desc(), eng, cN);
    }
    m.impl = fpd.impl_info_str();
    m.fmt = std::string(fpd.impl_info_str()) + " fwd W " + fmt_name(fpd.weights_layer_desc(), "ldigo") +
            " R " + fmt_name(fpd.weights_iter_desc(), "ldigo");
    if (!train) return;
    memory ws(fpd.workspace_desc(), eng);
    m.fwd_args[DNNL_ARG_WORKSPACE] = ws;
    typename Bwd::primitive_desc bpd(make_bwd_desc(), eng, fpd);
    m.bwd = Bwd(bpd);
    memory wl_b(bpd.weights_layer_desc(), eng), wi_b(bpd.weights_iter_desc(), eng), b_b(bpd.bias_desc(), eng);
    reorder(m.wl_user, wl_b).execute(m.strm, m.wl_user, wl_b);
    reorder(m.wi_user, wi_b).execute(m.strm, m.wi_user, wi_b);
    reorder(b_user, b_b).execute(m.strm, b_user, b_b);
    m.dwl = memory(bpd.diff_weights_layer_desc(), eng);
    m.dwi = memory(bpd.diff_weights_iter_desc(), eng);
    m.db = memory(bpd.diff_bias_desc(), eng);
    m.bwd_args = {{DNNL_ARG_SRC_LAYER, m.fwd_args[DNNL_ARG_SRC_LAYER]},
                  {DNNL_ARG_WEIGHTS_LAYER, wl_b},
                  {DNNL_ARG_WEIGHTS_ITER, wi_b},
                  {DNNL_ARG_BIAS, b_b},
                  {DNNL_ARG_SRC_ITER, m.fwd_args[DNNL_ARG_SRC_ITER]},
                  {DNNL_ARG_DST_LAYER, m.fwd_args[DNNL_ARG_DST_LAYER]},
                  {DNNL_ARG_DST_ITER, m.fwd_args[DNNL_ARG_DST_ITER]},
                  {DNNL_ARG_WORKSPACE, ws},
                  {DNNL_ARG_DIFF_SRC_LAYER, memory(bpd.diff_src_layer_desc(), eng, dx)},
                  {DNNL_ARG_DIFF_SRC_ITER, memory(bpd.diff_src_iter_desc(), eng, m.diff_src_iter.data())},
                  {DNNL_ARG_DIFF_WEIGHTS_LAYER, m.dwl},
                  {DNNL_ARG_DIFF_WEIGHTS_ITER, m.dwi},
                  {DNNL_ARG_DIFF_BIAS, m.db},
                  {DNNL_ARG_DIFF_DST_LAYER, memory(bpd.diff_dst_layer_desc(), eng, const_cast<float*>(dy))},
                  {DNNL_ARG_DIFF_DST_ITER, memory(bpd.diff_dst_iter_desc(), eng, zeros + 2 * BH)}};
    if (s.lstm) {
      m.bwd_args[DNNL_ARG_SRC_ITER_C] = m.fwd_args[DNNL_ARG_SRC_ITER_C];
      m.bwd_args[DNNL_ARG_DST_ITER_C] = m.fwd_args[DNNL_ARG_DST_ITER_C];
      m.bwd_args[DNNL_ARG_DIFF_SRC_ITER_C] = memory(bpd.diff_src_iter_c_desc(), eng, m.diff_src_iter.data() + BH);
      m.bwd_args[DNNL_ARG_DIFF_DST_ITER_C] = memory(bpd.diff_dst_iter_c_desc(), eng, zeros + 3 * BH);
    }
    m.fmt += std::string(" | ") + bpd.impl_info_str() + " bwd W " + fmt_name(bpd.weights_layer_desc(), "ldigo") +
             " R " + fmt_name(bpd.weights_iter_desc(), "ldigo") + " dW " +
             fmt_name(bpd.diff_weights_layer_desc(), "ldigo");
    zero_diff_weights();
  };

  if (s.lstm) {
    setup(lstm_forward(), lstm_backward(),
          [&](prop_kind p) {
            return lstm_forward::desc(p, dir, x_md, st_md, stc_md, wl_any, wi_any, b_any, y_md, sto_md, stc_md);
          },
          [&]() {
            return lstm_backward::desc(prop_kind::backward, dir, x_md, st_md, st_md, wl_any, wi_any, b_any, y_md,
                                       st_md, st_md, x_md, st_md, st_md, wl_any, wi_any, b_any, y_md, st_md,
                                       st_md);
          });
  } else if (s.reset_after) {
    setup(lbr_gru_forward(), lbr_gru_backward(),
          [&](prop_kind p) {
            return lbr_gru_forward::desc(p, dir, x_md, st_md, wl_any, wi_any, b_any, y_md, sto_md);
          },
          [&]() {
            return lbr_gru_backward::desc(prop_kind::backward, dir, x_md, st_md, wl_any, wi_any, b_any, y_md,
                                          st_md, x_md, st_md, wl_any, wi_any, b_any, y_md, st_md);
          });
  } else {
    setup(gru_forward(), gru_backward(),
          [&](prop_kind p) { return gru_forward::desc(p, dir, x_md, st_md, wl_any, wi_any, b_any, y_md, sto_md); },
          [&]() {
            return gru_backward::desc(prop_kind::backward, dir, x_md, st_md, wl_any, wi_any, b_any, y_md, st_md,
                                      x_md, st_md, wl_any, wi_any, b_any, y_md, st_md);
          });
  }
  m.strm.wait();
}

void DnnlRnn::run_infer() {
  impl_->fwd.execute(impl_->strm, impl_->fwd_args);
  impl_->strm.wait();
}

void DnnlRnn::outputs_to_f32() {
  Impl& m = *impl_;
  if (m.s.int8) {  // hN = (u8 - shift) / scale
    const uint8_t* q = static_cast<const uint8_t*>(m.hN_u8.get_data_handle());
    for (size_t e = 0; e < (size_t)m.s.B * m.s.H; ++e) m.hN_f32[e] = (static_cast<float>(q[e]) - 128.0f) / 127.0f;
    return;
  }
  if (!m.s.bf16) return;
  reorder(m.y_bf16, m.y_user).execute(m.strm, m.y_bf16, m.y_user);
  reorder(m.hN_bf16, m.hN_user).execute(m.strm, m.hN_bf16, m.hN_user);
  m.strm.wait();
}

void DnnlRnn::run_train() {
  if (!impl_->train) throw std::logic_error("DnnlRnn built for inference");
  impl_->fwd.execute(impl_->strm, impl_->fwd_args);
  impl_->bwd.execute(impl_->strm, impl_->bwd_args);
  impl_->strm.wait();
}

void DnnlRnn::zero_diff_weights() {
  for (memory* mem : {&impl_->dwl, &impl_->dwi, &impl_->db})
    if (*mem) std::memset(mem->get_data_handle(), 0, mem->get_desc().get_size());
}

void DnnlRnn::diff_weights_ours(float* dW, float* dR) {
  Impl& m = *impl_;
  const int I = m.s.I, H = m.s.H, G = m.G;
  memory dwl_user(m.wl_user.get_desc(), m.eng), dwi_user(m.wi_user.get_desc(), m.eng);
  reorder(m.dwl, dwl_user).execute(m.strm, m.dwl, dwl_user);
  reorder(m.dwi, dwi_user).execute(m.strm, m.dwi, dwi_user);
  m.strm.wait();
  const float* a = static_cast<const float*>(dwl_user.get_data_handle());
  const float* b = static_cast<const float*>(dwi_user.get_data_handle());
  for (int k = 0; k < G; ++k) {
    const int g = m.s.lstm ? k : kGruFrom[k];
    for (int o = 0; o < H; ++o) {
      for (int i = 0; i < I; ++i) dW[((size_t)g * H + o) * I + i] = a[((size_t)i * G + k) * H + o];
      for (int i = 0; i < H; ++i) dR[((size_t)g * H + o) * H + i] = b[((size_t)i * G + k) * H + o];
    }
  }
}

void DnnlRnn::diff_bias_ours(float* dbW, float* dbR) {
  Impl& m = *impl_;
  const int H = m.s.H, G = m.G, GB = m.GB;
  memory db_user(memory::desc({1, 1, GB, H}, dt::f32, tag::ldgo), m.eng);
  reorder(m.db, db_user).execute(m.strm, m.db, db_user);
  m.strm.wait();
  const float* b = static_cast<const float*>(db_user.get_data_handle());
  for (int k = 0; k < G; ++k) {
    const int g = m.s.lstm ? k : kGruFrom[k];
    for (int o = 0; o < H; ++o) {
      if (GB == 4 && !m.s.lstm && k == 2) {
        dbW[(size_t)g * H + o] = b[(size_t)2 * H + o];
        dbR[(size_t)g * H + o] = b[(size_t)3 * H + o];
      } else {
        dbW[(size_t)g * H + o] = dbR[(size_t)g * H + o] = b[(size_t)k * H + o];
      }
    }
  }
}

void DnnlRnn::diff_states(float* dh0, float* dc0) const {
  const size_t BH = (size_t)impl_->s.B * impl_->s.H;
  std::memcpy(dh0, impl_->diff_src_iter.data(), BH * sizeof(float));
  if (impl_->s.lstm && dc0) std::memcpy(dc0, impl_->diff_src_iter.data() + BH, BH * sizeof(float));
}

std::string DnnlRnn::formats() const { return impl_->fmt; }
std::string DnnlRnn::impl_name() const { return impl_->impl; }

}  // namespace frnn_bench

#else  // !FRNN_HAVE_DNNL

namespace frnn_bench {

struct DnnlRnn::Impl {};
bool dnnl_compiled_in() { return false; }
std::string dnnl_description() {
  return "oneDNN absent: not found at configure time (Debian: apt-get install libdnnl-dev, then rerun "
         "cmake), or -DFRNN_BENCH_DNNL=OFF, or a sanitizer build";
}
void dnnl_set_num_threads(int) {}
DnnlRnn::DnnlRnn(const PeerShape&, bool, const float*, const float*, float*, float*, float*,
                 const float*, float*) {
  throw std::runtime_error("built without oneDNN");
}
DnnlRnn::~DnnlRnn() = default;
void DnnlRnn::run_infer() {}
void DnnlRnn::outputs_to_f32() {}
void DnnlRnn::run_train() {}
void DnnlRnn::zero_diff_weights() {}
void DnnlRnn::diff_weights_ours(float*, float*) {}
void DnnlRnn::diff_bias_ours(float*, float*) {}
void DnnlRnn::diff_states(float*, float*) const {}
std::string DnnlRnn::formats() const { return ""; }
std::string DnnlRnn::impl_name() const { return ""; }

}  // namespace frnn_bench

#endif
