// forward() with weights packed beforehand (pack_weights, the addon's per-version cache for
// streaming steps) gives the bits of forward() packing them itself, for every cell and option,
// T = 1 and longer, rows per step below and past the few-row dot path; and a streaming step
// gives the bits of a sequence's first step.
#include "rnn_case.h"

using namespace frnn_test;

namespace {

void run_packed_case(const RnnCase& k, uint64_t seed) {
  FRNN_SCOPE("%s", describe(k).c_str());
  Rng rng(seed);
  const RnnData d = make_data(k, rng);
  const frnn::SeqDims dims = k.dims();
  std::vector<float> y0(k.y_size()), h0(k.h_size()), c0(k.c_size()), y1 = y0, h1 = h0, c1 = c0;
  float* cn0 = k.lstm() ? c0.data() : nullptr;
  float* cn1 = k.lstm() ? c1.data() : nullptr;
  CHECK_OK(frnn::forward(k.cfg, d.params.data(), dims, d.x.data(), d.len_ptr(), d.h0_ptr(), d.c0_ptr(), y0.data(),
                         h0.data(), cn0, nullptr));
  const auto packed = frnn::pack_weights(k.cfg, d.params.data());
  // Twice: a pack is read, never changed, by the calls that share it.
  for (int rep = 0; rep < 2; ++rep) {
    CHECK_OK(frnn::forward(k.cfg, d.params.data(), dims, d.x.data(), d.len_ptr(), d.h0_ptr(), d.c0_ptr(), y1.data(),
                           h1.data(), cn1, nullptr, packed.get()));
    CHECK(same_bits(y1, y0));
    CHECK(same_bits(h1, h0));
    CHECK(same_bits(c1, c0));
  }
  count_case();
}

}  // namespace

// Sizes where the fused step (product and gate math a tile at a time) runs.
FRNN_TEST(packed_matches_unpacked_directed) {
  using frnn::CellType;
  uint64_t seed = 1;
  for (CellType cell : {CellType::kLstm, CellType::kGru, CellType::kRnn})
    for (int T : {1, 4})
      for (int B : {1, 2, 3, 9, 40}) {
        RnnCase k;
        k.cfg = make_config(cell, 24, 64);
        k.T = T, k.B = B, k.h0 = true, k.c0 = true;
        run_packed_case(k, seed++);
        k.cfg.num_layers = 2, k.cfg.num_directions = 2, k.lengths = true;
        if (cell == CellType::kLstm) k.cfg.proj_size = 32, k.cfg.peephole = true;
        if (cell == CellType::kGru) k.cfg.reset_after = false;
        run_packed_case(k, seed++);
      }
}

// A streaming step (T = 1: the fused step projects its input tile by tile) gives the bits of
// the first step of a longer call (the driver's block projection before the steps).
FRNN_TEST(step_matches_first_step_of_sequence) {
  using frnn::CellType;
  uint64_t seed = 300;
  for (CellType cell : {CellType::kLstm, CellType::kGru, CellType::kRnn})
    for (int B : {3, 9, 40})
      for (int L : {1, 2}) {
        RnnCase k;
        k.cfg = make_config(cell, 24, 64);
        k.cfg.num_layers = L;
        if (cell == CellType::kLstm && L == 2) k.cfg.peephole = true;
        k.T = 2, k.B = B, k.h0 = true, k.c0 = true;
        FRNN_SCOPE("%s", describe(k).c_str());
        Rng rng(seed++);
        const RnnData d = make_data(k, rng);
        std::vector<float> y2(k.y_size()), h2(k.h_size()), c2(k.c_size());
        CHECK_OK(frnn::forward(k.cfg, d.params.data(), k.dims(), d.x.data(), nullptr, d.h0_ptr(), d.c0_ptr(),
                               y2.data(), h2.data(), k.lstm() ? c2.data() : nullptr, nullptr));
        frnn::SeqDims one = k.dims();
        one.T = 1;
        const size_t row = y2.size() / 2;
        std::vector<float> y1(row), h1(h2.size()), c1(c2.size());
        const auto packed = frnn::pack_weights(k.cfg, d.params.data());
        for (const frnn::PackedWeights* p : {static_cast<const frnn::PackedWeights*>(nullptr), packed.get()}) {
          CHECK_OK(frnn::forward(k.cfg, d.params.data(), one, d.x.data(), nullptr, d.h0_ptr(), d.c0_ptr(), y1.data(),
                                 h1.data(), k.lstm() ? c1.data() : nullptr, nullptr, p));
          CHECK(same_bits(y1, std::vector<float>(y2.begin(), y2.begin() + row)));
        }
        count_case();
      }
}

FRNN_TEST(packed_matches_unpacked_random) {
  Rng rng(11);
  for (int i = 0; i < 400; ++i) {
    RnnCase k = random_case(rng);
    if (i % 2 == 0) k.B = rng.range(3, 12);  // past the dot path's rows
    if (i % 3 == 0) k.T = 1;
    run_packed_case(k, 5000 + i);
  }
}

int main(int argc, char** argv) { return run_all("packed_weights_test", argc, argv); }
