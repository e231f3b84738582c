// frnn::forward (float32) against the float64 plain-loop reference ref/rnn_ref.h.
//
// Directed cases cover each cell and option once; a seeded random sweep covers their
// combinations (cell, every LSTM/GRU option, per-direction activations, 1-3 layers,
// uni/bi-directional, reverse, bias off, unsorted lengths incl. 1 and T, h0/c0 given or
// null, batch_first). For every case:
//   - y, hN, cN within 1e-5 · max(1, max|ref|) of the reference (per tensor). The float
//     path rounds each of its O(I + H) term sums and activations at ~6e-8 relative, and
//     tiny T keeps the recurrence from amplifying that past ~1e-6; 1e-5 leaves 10x room;
//   - every output element is written (outputs start as NaN, y is 0 past each length);
//   - the inference call (saved = nullptr) gives the same bits as the training call;
//   - hN/cN may be nullptr; a cN buffer passed to a GRU/RNN is left alone.
#include <cstring>
#include <vector>

#include "fused_rnn.h"
#include "ref/rnn_ref.h"
#include "rnn_case.h"
#include "test_util.h"

namespace {

using frnn::ActKind;
using frnn::CellType;
using frnn_test::act;
using frnn_test::make_config;
using frnn_test::Rng;
using frnn_test::RnnCase;
using frnn_test::same_bits;

constexpr double kRelTol = 1e-5;

void run_case(const RnnCase& k, uint64_t seed) {
  Rng rng(seed);
  const frnn_test::RnnData d = frnn_test::make_data(k, rng);
  FRNN_SCOPE("%s (seed %llu)", frnn_test::describe(k, d.lengths).c_str(), (unsigned long long)seed);
  frnn_test::count_case();
  const frnn::RnnConfig& c = k.cfg;
  const frnn::SeqDims dims = k.dims();

  std::vector<double> y_ref, h_ref, c_ref;
  frnn_ref::forward_ref(c, d.params.data(), dims, d.x.data(), d.len_ptr(), d.h0_ptr(), d.c0_ptr(), y_ref, h_ref, c_ref);

  const float nan = frnn_test::qnan();
  std::vector<float> y(k.y_size(), nan), hN(k.h_size(), nan), cN(k.c_size(), nan);
  std::vector<float> saved(frnn::saved_size(c, dims), nan);
  if (!CHECK_OK(frnn::forward(c, d.params.data(), dims, d.x.data(), d.len_ptr(), d.h0_ptr(), d.c0_ptr(), y.data(),
                              hN.data(), k.lstm() ? cN.data() : nullptr, saved.data())))
    return;
  CHECK_ALL_CLOSE(y.data(), y_ref.data(), y.size(), kRelTol * frnn_test::max_abs(y_ref.data(), y_ref.size(), 1.0));
  CHECK_ALL_CLOSE(hN.data(), h_ref.data(), hN.size(), kRelTol * frnn_test::max_abs(h_ref.data(), h_ref.size(), 1.0));
  if (k.lstm())
    CHECK_ALL_CLOSE(cN.data(), c_ref.data(), cN.size(), kRelTol * frnn_test::max_abs(c_ref.data(), c_ref.size(), 1.0));

  // Inference mode: same bits, without a training record.
  std::vector<float> y2(y.size(), nan), hN2(hN.size(), nan), cN2(cN.size(), nan);
  CHECK_OK(frnn::forward(c, d.params.data(), dims, d.x.data(), d.len_ptr(), d.h0_ptr(), d.c0_ptr(), y2.data(),
                         hN2.data(), k.lstm() ? cN2.data() : nullptr, nullptr));
  CHECK_MSG(same_bits(y, y2) && same_bits(hN, hN2) && same_bits(cN, cN2),
            "inference forward (saved = nullptr) differs from the training forward");

  // Optional outputs: hN/cN nullptr; a cN handed to a GRU/RNN is not written.
  std::vector<float> y3(y.size(), nan), spare(8, 1234.5f);
  CHECK_OK(frnn::forward(c, d.params.data(), dims, d.x.data(), d.len_ptr(), d.h0_ptr(), d.c0_ptr(), y3.data(),
                         nullptr, k.lstm() ? nullptr : spare.data(), nullptr));
  CHECK_MSG(same_bits(y, y3), "forward with hN = cN = nullptr gives a different y");
  bool spare_ok = true;
  for (float v : spare) spare_ok &= v == 1234.5f;
  CHECK_MSG(spare_ok, "forward wrote into cN for a non-LSTM cell");

  // lengths all equal to T is the same as no lengths.
  if (!k.lengths) {
    const std::vector<int32_t> full(k.B, k.T);
    std::vector<float> y4(y.size(), nan), hN4(hN.size(), nan), cN4(cN.size(), nan);
    CHECK_OK(frnn::forward(c, d.params.data(), dims, d.x.data(), full.data(), d.h0_ptr(), d.c0_ptr(), y4.data(),
                           hN4.data(), k.lstm() ? cN4.data() : nullptr, nullptr));
    CHECK_MSG(same_bits(y, y4) && same_bits(hN, hN4) && same_bits(cN, cN4),
              "lengths all = T differs from lengths = nullptr");
  }
}

// A small case with the usual structure, for the directed list.
RnnCase base(CellType cell, const char* name, int I = 3, int H = 4) {
  RnnCase k;
  k.cfg = make_config(cell, I, H);
  k.T = 4;
  k.B = 3;
  k.name = name;
  return k;
}

// Each option on its own, then with structure (lengths, 2 layers, bidirectional, batch_first).
std::vector<RnnCase> directed_cases() {
  std::vector<RnnCase> v;
  auto add = [&](RnnCase k) { v.push_back(k); };
  for (CellType cell : {CellType::kLstm, CellType::kGru, CellType::kRnn}) {
    add(base(cell, "plain"));
    RnnCase k = base(cell, "tiny");
    k.cfg.input_size = 1, k.cfg.hidden_size = 1, k.T = 1, k.B = 1;
    add(k);
    k = base(cell, "no bias"), k.cfg.bias = false, add(k);
    k = base(cell, "reverse"), k.cfg.reverse = true, k.lengths = true, add(k);
    k = base(cell, "h0/c0 given"), k.h0 = k.c0 = true, add(k);
    k = base(cell, "batch_first"), k.batch_first = true, k.lengths = true, add(k);
    k = base(cell, "lengths"), k.lengths = true, k.B = 4, k.T = 5, add(k);
    k = base(cell, "gate_clip"), k.cfg.gate_clip = 0.3f, add(k);
    k = base(cell, "2 layers"), k.cfg.num_layers = 2, k.h0 = true, add(k);
    k = base(cell, "bidirectional"), k.cfg.num_directions = 2, k.lengths = true, k.h0 = k.c0 = true, add(k);
    k = base(cell, "everything"), k.cfg.num_layers = 2, k.cfg.num_directions = 2, k.lengths = true;
    k.batch_first = true, k.h0 = k.c0 = true, k.cfg.gate_clip = 0.8f, add(k);
  }
  // LSTM options.
  RnnCase k = base(CellType::kLstm, "peephole");
  k.cfg.peephole = true, k.c0 = true, add(k);
  k = base(CellType::kLstm, "projection"), k.cfg.proj_size = 2, k.h0 = k.c0 = true, add(k);
  k = base(CellType::kLstm, "projection 2x2 lengths"), k.cfg.proj_size = 3, k.cfg.num_layers = 2;
  k.cfg.num_directions = 2, k.lengths = true, add(k);
  k = base(CellType::kLstm, "input_forget"), k.cfg.input_forget = true, add(k);
  k = base(CellType::kLstm, "cell_clip"), k.cfg.cell_clip = 0.25f, k.c0 = true, add(k);
  k = base(CellType::kLstm, "forget_bias"), k.cfg.forget_bias = 1.0f, add(k);
  k = base(CellType::kLstm, "all LSTM options"), k.cfg.peephole = k.cfg.input_forget = true;
  k.cfg.proj_size = 2, k.cfg.gate_clip = 0.7f, k.cfg.cell_clip = 0.4f, k.cfg.forget_bias = 0.5f;
  k.cfg.num_layers = 2, k.cfg.num_directions = 2, k.lengths = k.h0 = k.c0 = k.batch_first = true, add(k);
  // LSTM activations (ONNX f, g, h), different per direction.
  k = base(CellType::kLstm, "activations");
  k.cfg.num_directions = 2, k.lengths = true;
  k.cfg.act[0][0] = act(ActKind::kHardSigmoid, 0.2f, 0.5f), k.cfg.act[0][1] = act(ActKind::kLeakyRelu, 0.1f);
  k.cfg.act[0][2] = act(ActKind::kElu, 0.9f);
  k.cfg.act[1][0] = act(ActKind::kSigmoid), k.cfg.act[1][1] = act(ActKind::kScaledTanh, 0.8f, 1.3f);
  k.cfg.act[1][2] = act(ActKind::kSoftsign), add(k);
  k = base(CellType::kLstm, "activations 2");
  k.cfg.act[0][0] = act(ActKind::kAffine, 0.3f, 0.4f), k.cfg.act[0][1] = act(ActKind::kSoftplus);
  k.cfg.act[0][2] = act(ActKind::kIdentity), add(k);
  k = base(CellType::kLstm, "activations 3");
  k.cfg.act[0][0] = act(ActKind::kSigmoid), k.cfg.act[0][1] = act(ActKind::kRelu);
  k.cfg.act[0][2] = act(ActKind::kThresholdedRelu, 0.1f), add(k);
  // GRU forms.
  for (bool ra : {true, false}) {
    k = base(CellType::kGru, ra ? "reset_after" : "reset_before"), k.cfg.reset_after = ra, k.lengths = true;
    k.h0 = true, add(k);
    k.name += " 2x2 clip", k.cfg.num_layers = 2, k.cfg.num_directions = 2, k.cfg.gate_clip = 0.5f, add(k);
    k = base(CellType::kGru, "activations"), k.cfg.reset_after = ra, k.cfg.num_directions = 2;
    k.cfg.act[0][0] = act(ActKind::kHardSigmoid, 0.2f, 0.5f), k.cfg.act[0][1] = act(ActKind::kSoftsign);
    k.cfg.act[1][0] = act(ActKind::kSigmoid), k.cfg.act[1][1] = act(ActKind::kElu, 1.0f), add(k);
  }
  // Sizes where the forward step runs fused (H a multiple of NR: 16 on AVX2, 32 on AVX-512)
  // with partial row tiles (B = 11: 8 + 3 rows, 6 + 5) and one-direction inference writing h
  // into the output in place.
  for (CellType cell : {CellType::kLstm, CellType::kGru}) {
    k = base(cell, "fused step", 5, 32), k.B = 11, k.T = 3, add(k);
    k.name = "fused step, 2 layers, H 64, lengths", k.cfg.hidden_size = 64, k.cfg.num_layers = 2;
    k.lengths = true, add(k);
    k = base(cell, "fused step bidirectional H 48", 7, 48), k.B = 9, k.T = 3, k.cfg.num_directions = 2;
    k.batch_first = k.h0 = k.c0 = true, add(k);
  }
  k = base(CellType::kLstm, "fused step peephole projection", 5, 32), k.B = 11, k.T = 3, k.cfg.peephole = true;
  k.cfg.proj_size = 12, k.c0 = true, add(k);
  k = base(CellType::kGru, "reset_before H 32", 5, 32), k.cfg.reset_after = false, k.B = 11, k.T = 3, add(k);
  // RNN nonlinearities.
  for (ActKind a : {ActKind::kRelu, ActKind::kIdentity, ActKind::kLeakyRelu, ActKind::kSoftplus, ActKind::kScaledTanh}) {
    k = base(CellType::kRnn, "nonlinearity"), k.lengths = true, k.cfg.num_directions = 2;
    k.cfg.act[0][0] = k.cfg.act[1][0] = act(a, 0.5f, 1.5f), add(k);
  }
  return v;
}

FRNN_TEST(forward_matches_ref_directed) {
  uint64_t seed = 100;
  for (const RnnCase& k : directed_cases()) run_case(k, seed++);
}

FRNN_TEST(forward_matches_ref_random) {
  Rng rng(7);
  for (int i = 0; i < 1000; ++i) {
    const RnnCase k = frnn_test::random_case(rng);
    run_case(k, 1000 + i);
  }
}

// The reference's own reading of the layout comment in fused_rnn.h agrees with param_layout().
FRNN_TEST(ref_layout_matches_param_layout) {
  Rng rng(8);
  for (int i = 0; i < 200; ++i) {
    const RnnCase k = frnn_test::random_case(rng);
    FRNN_SCOPE("%s", frnn_test::describe(k).c_str());
    frnn_test::count_case();
    size_t total = 0;
    const std::vector<frnn_ref::DirOffsets> ref = frnn_ref::layout_ref(k.cfg, &total);
    CHECK_EQ(frnn::param_count(k.cfg), total);
    for (const frnn::ParamEntry& e : frnn::param_layout(k.cfg)) {
      const frnn_ref::DirOffsets& o = ref[(size_t)e.layer * k.cfg.num_directions + e.direction];
      const size_t want = e.kind == frnn::ParamKind::kW       ? o.W
                          : e.kind == frnn::ParamKind::kR     ? o.R
                          : e.kind == frnn::ParamKind::kBiasW ? o.bW
                          : e.kind == frnn::ParamKind::kBiasR ? o.bR
                          : e.kind == frnn::ParamKind::kPeephole ? o.P
                                                                 : o.Wp;
      CHECK_MSG(e.offset == want, "entry kind %d layer %d dir %d at offset %zu, expected %zu", (int)e.kind, e.layer,
                e.direction, e.offset, want);
    }
  }
}

}  // namespace

int main(int argc, char** argv) { return frnn_test::run_all("forward_ref_test", argc, argv); }
