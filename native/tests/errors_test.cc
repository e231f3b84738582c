// The library never aborts on user data (no assert or abort on bad input): bad configs and
// bad call arguments come back as a Status that is !ok and names what was wrong, without
// touching outputs.
// Also the derived sizes: param_layout() is contiguous, in the documented order and
// shapes, and sums to param_count(); saved_size() grows with T and B.
#include <cmath>
#include <limits>
#include <vector>

#include "fused_rnn.h"
#include "rnn_case.h"
#include "test_util.h"

namespace {

using frnn::ActKind;
using frnn::CellType;
using frnn::ParamKind;
using frnn::RnnConfig;
using frnn_test::make_config;

const float kNaN = std::numeric_limits<float>::quiet_NaN();
const float kInf = std::numeric_limits<float>::infinity();

FRNN_TEST(validate_config_accepts_good_configs) {
  for (CellType cell : {CellType::kLstm, CellType::kGru, CellType::kRnn}) {
    RnnConfig c = make_config(cell, 3, 4);
    frnn_test::count_case();
    CHECK_OK(frnn::validate_config(c));
    c.num_layers = 3, c.num_directions = 2, c.gate_clip = 1.0f;
    CHECK_OK(frnn::validate_config(c));
  }
  RnnConfig c = make_config(CellType::kLstm, 1, 2);
  c.proj_size = 1, c.peephole = c.input_forget = true, c.cell_clip = 3.0f, c.forget_bias = -1.0f, c.reverse = true;
  frnn_test::count_case();
  CHECK_OK(frnn::validate_config(c));
}

// Each bad field is rejected with a message naming it (the camelCase name the JS API uses).
FRNN_TEST(validate_config_rejects_bad_configs) {
  struct Bad {
    const char* what;
    const char* needle;  // must appear in the message
    void (*edit)(RnnConfig&);
  };
  const Bad bad[] = {
      {"hidden_size 0", "hiddenSize", [](RnnConfig& c) { c.hidden_size = 0; }},
      {"hidden_size -3", "hiddenSize", [](RnnConfig& c) { c.hidden_size = -3; }},
      {"input_size 0", "inputSize", [](RnnConfig& c) { c.input_size = 0; }},
      {"num_layers 0", "numLayers", [](RnnConfig& c) { c.num_layers = 0; }},
      {"num_directions 0", "numDirections", [](RnnConfig& c) { c.num_directions = 0; }},
      {"num_directions 3", "numDirections", [](RnnConfig& c) { c.num_directions = 3; }},
      {"reverse with 2 directions", "reverse", [](RnnConfig& c) { c.num_directions = 2, c.reverse = true; }},
      {"proj_size == hidden", "projSize", [](RnnConfig& c) { c.proj_size = c.hidden_size; }},
      {"proj_size > hidden", "projSize", [](RnnConfig& c) { c.proj_size = c.hidden_size + 1; }},
      {"proj_size -1", "projSize", [](RnnConfig& c) { c.proj_size = -1; }},
      {"gate_clip NaN", "gateClip", [](RnnConfig& c) { c.gate_clip = kNaN; }},
      {"gate_clip -1", "gateClip", [](RnnConfig& c) { c.gate_clip = -1.0f; }},
      {"cell_clip NaN", "cellClip", [](RnnConfig& c) { c.cell_clip = kNaN; }},
      {"cell_clip -0.5", "cellClip", [](RnnConfig& c) { c.cell_clip = -0.5f; }},
      {"forget_bias inf", "forgetBias", [](RnnConfig& c) { c.forget_bias = kInf; }},
      {"forget_bias NaN", "forgetBias", [](RnnConfig& c) { c.forget_bias = kNaN; }},
      {"cell 7", "cell", [](RnnConfig& c) { c.cell = static_cast<CellType>(7); }},
      {"cell -1", "cell", [](RnnConfig& c) { c.cell = static_cast<CellType>(-1); }},
      {"activation kind 99", "activation", [](RnnConfig& c) { c.act[0][frnn::kActCell].kind = static_cast<ActKind>(99); }},
      {"activation kind -1", "activation", [](RnnConfig& c) { c.act[0][frnn::kActGate].kind = static_cast<ActKind>(-1); }},
      {"activation kind kCount", "activation", [](RnnConfig& c) { c.act[0][frnn::kActHidden].kind = ActKind::kCount; }},
      {"direction-1 activation kind 12345", "activation",
       [](RnnConfig& c) { c.act[1][frnn::kActGate].kind = static_cast<ActKind>(12345); }},
      {"activation alpha NaN", "activation", [](RnnConfig& c) { c.act[0][frnn::kActGate] = {ActKind::kLeakyRelu, kNaN, 0.0f}; }},
      {"activation beta inf", "activation", [](RnnConfig& c) { c.act[0][frnn::kActGate] = {ActKind::kAffine, 1.0f, kInf}; }},
      {"too many parameters", "parameters",
       [](RnnConfig& c) { c.hidden_size = 1 << 20, c.input_size = 1 << 20, c.proj_size = 0; }},
  };
  for (CellType cell : {CellType::kLstm, CellType::kGru, CellType::kRnn})
    for (const Bad& b : bad) {
      FRNN_SCOPE("cell %d: %s", (int)cell, b.what);
      frnn_test::count_case();
      RnnConfig c = make_config(cell, 3, 4);
      b.edit(c);
      CHECK_ERROR(frnn::validate_config(c), b.needle);
    }
  // LSTM-only options on GRU and RNN.
  const Bad lstm_only[] = {
      {"proj_size", "projSize", [](RnnConfig& c) { c.proj_size = 2; }},
      {"peephole", "peephole", [](RnnConfig& c) { c.peephole = true; }},
      {"input_forget", "inputForget", [](RnnConfig& c) { c.input_forget = true; }},
      {"cell_clip", "cellClip", [](RnnConfig& c) { c.cell_clip = 1.0f; }},
      {"forget_bias", "forgetBias", [](RnnConfig& c) { c.forget_bias = 1.0f; }},
  };
  for (CellType cell : {CellType::kGru, CellType::kRnn})
    for (const Bad& b : lstm_only) {
      FRNN_SCOPE("cell %d: LSTM-only %s", (int)cell, b.what);
      frnn_test::count_case();
      RnnConfig c = make_config(cell, 3, 4);
      b.edit(c);
      CHECK_ERROR(frnn::validate_config(c), b.needle);
      // The same edit is fine on an LSTM.
      RnnConfig l = make_config(CellType::kLstm, 3, 4);
      b.edit(l);
      CHECK_OK(frnn::validate_config(l));
    }
}

// A small valid problem with buffers for both calls.
struct Call {
  RnnConfig c = make_config(CellType::kLstm, 2, 3);
  frnn::SeqDims dims;
  std::vector<float> params, x, y, hN, cN, saved, dy, dx, dh0, dc0, dparams;
  std::vector<int32_t> lengths;
  Call() {
    c.num_directions = 2;
    dims.T = 4, dims.B = 3;
    frnn_test::Rng rng(11);
    params = rng.vec(frnn::param_count(c), -0.5f, 0.5f);
    x = rng.vec((size_t)dims.T * dims.B * 2, -1.0f, 1.0f);
    y.assign((size_t)dims.T * dims.B * 2 * 3, 0.0f);
    hN.assign(2 * 3 * 3, 0.0f);
    cN = hN;
    dy = rng.vec(y.size(), -1.0f, 1.0f);
    dx.assign(x.size(), 0.0f);
    dh0 = hN;
    dc0 = hN;
    dparams.assign(params.size(), 0.0f);
    lengths = {4, 1, 2};
    saved.assign(frnn::saved_size(c, dims), 0.0f);
  }
  frnn::Status forward(const int32_t* len, float* sv) {
    return frnn::forward(c, params.data(), dims, x.data(), len, nullptr, nullptr, y.data(), hN.data(), cN.data(), sv);
  }
  frnn::Status backward(const int32_t* len, const float* sv) {
    return frnn::backward(c, params.data(), dims, x.data(), len, nullptr, nullptr, sv, dy.data(), nullptr, nullptr,
                          dx.data(), dh0.data(), dc0.data(), dparams.data());
  }
};

// Bad call arguments: !ok with a message, no crash, no output touched (ASan watches).
FRNN_TEST(calls_reject_bad_arguments) {
  Call k;
  CHECK_OK(k.forward(k.lengths.data(), k.saved.data()));
  CHECK_OK(k.backward(k.lengths.data(), k.saved.data()));

  const std::vector<std::vector<int32_t>> bad_lengths = {{0, 1, 2}, {4, 5, 1}, {4, -1, 2}, {4, 2, 1000}};
  for (const auto& len : bad_lengths) {
    FRNN_SCOPE("lengths [%d,%d,%d] with T=4", len[0], len[1], len[2]);
    frnn_test::count_case();
    CHECK_ERROR(k.forward(len.data(), k.saved.data()), "lengths");
    CHECK_ERROR(k.forward(len.data(), nullptr), "lengths");
    CHECK_ERROR(k.backward(len.data(), k.saved.data()), "lengths");
  }
  {
    FRNN_SCOPE("backward without a training record");
    frnn_test::count_case();
    CHECK_ERROR(k.backward(nullptr, nullptr), "");
  }
  for (int T : {0, -1}) {
    FRNN_SCOPE("T = %d", T);
    frnn_test::count_case();
    Call z;
    z.dims.T = T;
    CHECK_ERROR(z.forward(nullptr, z.saved.data()), "T");
    CHECK_ERROR(z.forward(nullptr, nullptr), "T");
    CHECK_ERROR(z.backward(nullptr, z.saved.data()), "T");
  }
  for (int B : {0, -2}) {
    FRNN_SCOPE("B = %d", B);
    frnn_test::count_case();
    Call z;
    z.dims.B = B;
    CHECK_ERROR(z.forward(nullptr, z.saved.data()), "B");
    CHECK_ERROR(z.backward(nullptr, z.saved.data()), "B");
  }
  {
    FRNN_SCOPE("invalid config reaches forward/backward");
    frnn_test::count_case();
    Call z;
    z.c.num_directions = 3;
    CHECK_ERROR(z.forward(nullptr, z.saved.data()), "numDirections");
    CHECK_ERROR(z.backward(nullptr, z.saved.data()), "numDirections");
    z.c.num_directions = 2;
    z.c.act[1][0].kind = static_cast<ActKind>(42);
    CHECK_ERROR(z.forward(nullptr, nullptr), "activation");
  }
  // Nothing above wrote outputs: failed calls leave the buffers of a fresh Call as they were.
  Call fresh, untouched;
  fresh.lengths = {4, 0, 2};
  (void)fresh.forward(fresh.lengths.data(), fresh.saved.data());
  (void)fresh.backward(fresh.lengths.data(), fresh.saved.data());
  fresh.dims.T = 0;
  (void)fresh.forward(nullptr, fresh.saved.data());
  (void)fresh.backward(nullptr, fresh.saved.data());
  CHECK_MSG(fresh.y == untouched.y && fresh.hN == untouched.hN && fresh.cN == untouched.cN &&
                fresh.dx == untouched.dx && fresh.dparams == untouched.dparams,
            "a rejected call wrote into its outputs");
}

// param_layout(): contiguous from 0, in the documented order, with the documented shapes,
// ending at param_count().
FRNN_TEST(param_layout_is_contiguous) {
  frnn_test::Rng rng(12);
  for (int i = 0; i < 300; ++i) {
    const CellType cell = (CellType)rng.range(0, 2);
    const int h = rng.range(1, 9);  // h before i, in separate statements: see act2 in rnn_case.h
    const int i_size = rng.range(1, 9);
    RnnConfig c = make_config(cell, i_size, h);
    c.num_layers = rng.range(1, 4);
    c.num_directions = rng.range(1, 2);
    c.bias = rng.coin();
    if (cell == CellType::kLstm) {
      c.peephole = rng.coin();
      if (c.hidden_size > 1 && rng.coin()) c.proj_size = rng.range(1, c.hidden_size - 1);
    }
    FRNN_SCOPE("cell %d I=%d H=%d P=%d L=%d D=%d bias=%d peephole=%d", (int)cell, c.input_size, c.hidden_size,
               c.proj_size, c.num_layers, c.num_directions, c.bias, c.peephole);
    frnn_test::count_case();
    const int G = cell == CellType::kLstm ? 4 : cell == CellType::kGru ? 3 : 1;
    const int H = c.hidden_size, Hout = c.proj_size ? c.proj_size : H;
    CHECK_EQ(frnn::gate_count(cell), G);
    CHECK_EQ(frnn::out_size(c), Hout);

    // The expected sequence of entries, from the layout comment in fused_rnn.h.
    struct Want {
      ParamKind kind;
      int l, d, rows, cols;
    };
    std::vector<Want> want;
    for (int l = 0; l < c.num_layers; ++l)
      for (int d = 0; d < c.num_directions; ++d) {
        const int I = l == 0 ? c.input_size : c.num_directions * Hout;
        CHECK_EQ(frnn::layer_input_size(c, l), I);
        want.push_back({ParamKind::kW, l, d, G * H, I});
        want.push_back({ParamKind::kR, l, d, G * H, Hout});
        if (c.bias) want.push_back({ParamKind::kBiasW, l, d, G * H, 1}), want.push_back({ParamKind::kBiasR, l, d, G * H, 1});
        if (c.peephole) want.push_back({ParamKind::kPeephole, l, d, 3 * H, 1});
        if (c.proj_size) want.push_back({ParamKind::kProj, l, d, c.proj_size, H});
      }
    const std::vector<frnn::ParamEntry> got = frnn::param_layout(c);
    if (!CHECK_EQ(got.size(), want.size())) continue;
    size_t offset = 0;
    for (size_t e = 0; e < got.size(); ++e) {
      const frnn::ParamEntry& g = got[e];
      const Want& w = want[e];
      CHECK_MSG(g.kind == w.kind && g.layer == w.l && g.direction == w.d && g.rows == w.rows && g.cols == w.cols &&
                    g.offset == offset,
                "entry %zu: kind %d l%d d%d [%d x %d] @%zu, want kind %d l%d d%d [%d x %d] @%zu", e, (int)g.kind,
                g.layer, g.direction, g.rows, g.cols, g.offset, (int)w.kind, w.l, w.d, w.rows, w.cols, offset);
      offset += (size_t)w.rows * w.cols;
    }
    CHECK_EQ(frnn::param_count(c), offset);
  }
  // PyTorch's count for nn.LSTM(3, 5, num_layers=2, bidirectional=True):
  // layer 0: 2·(20·3 + 20·5 + 40) = 400; layer 1 (input 10): 2·(20·10 + 20·5 + 40) = 680.
  RnnConfig c = make_config(CellType::kLstm, 3, 5);
  c.num_layers = 2, c.num_directions = 2;
  CHECK_EQ(frnn::param_count(c), (size_t)1080);
  // nn.GRU(4, 6, bias=False): 18·4 + 18·6 = 180.
  c = make_config(CellType::kGru, 4, 6);
  c.bias = false;
  CHECK_EQ(frnn::param_count(c), (size_t)180);
}

// saved_size() grows strictly with T and with B, for every cell and option.
FRNN_TEST(saved_size_grows) {
  for (CellType cell : {CellType::kLstm, CellType::kGru, CellType::kRnn})
    for (int L : {1, 2})
      for (int D : {1, 2}) {
        RnnConfig c = make_config(cell, 3, 4);
        c.num_layers = L, c.num_directions = D;
        if (cell == CellType::kLstm) c.proj_size = 2;
        FRNN_SCOPE("cell %d L=%d D=%d", (int)cell, L, D);
        frnn_test::count_case();
        size_t prev = 0;
        for (int T = 1; T <= 6; ++T) {
          frnn::SeqDims dims;
          dims.T = T, dims.B = 2;
          const size_t s = frnn::saved_size(c, dims);
          CHECK_MSG(s > prev, "saved_size(T=%d) = %zu does not exceed saved_size(T=%d) = %zu", T, s, T - 1, prev);
          prev = s;
          dims.B = 3;
          CHECK_GT(frnn::saved_size(c, dims), s);
        }
      }
}

}  // namespace

int main(int argc, char** argv) { return frnn_test::run_all("errors_test", argc, argv); }
