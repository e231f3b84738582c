// pack_weights(): the packed operands of seq/forward.cc's products, made once.
#include "seq/packed_weights.h"

#include "seq/layout.h"
#include "seq/plan.h"

namespace frnn {

void fold_input_bias(const RnnConfig& c, const DirWeights& w, float* out) {
  const size_t H = c.hidden_size, GH = gate_count(c.cell) * H;
  const bool keep_rn = c.cell == CellType::kGru && c.reset_after;
  for (size_t g = 0; g < GH; ++g) out[g] = keep_rn && g >= 2 * H ? w.bW[g] : w.bW[g] + w.bR[g];
}

bool forward_packs(const RnnConfig& c, SeqDims dims) {
  return c.precision != Precision::kFp32 || (size_t)dims.T * dims.B > kDotMaxRows;
}

std::shared_ptr<const PackedWeights> pack_weights(const RnnConfig& c, const float* params) {
  auto pw = std::make_shared<PackedWeights>();
  const size_t D = c.num_directions, GH = gate_count(c.cell) * (size_t)c.hidden_size;
  const bool reduced = c.precision != Precision::kFp32;
  pw->dirs.resize(c.num_layers * D);  // sized once: the packers keep pointers to bias_in
  PackJobs jobs;
  for (size_t l = 0; l < (size_t)c.num_layers; ++l)
    for (size_t d = 0; d < D; ++d) {
      PackedWeights::Dir& pd = pw->dirs[l * D + d];
      const DirWeights w = dir_weights(c, params, (int)l, (int)d);
      const size_t I = layer_input_size(c, (int)l);
      if (w.bW) {
        pd.bias_in.resize(GH);
        fold_input_bias(c, w, pd.bias_in.data());
      }
      jobs.clear();
      // bf16, int8: W alone (the bias is added after the product, in float32); fp32: [W | b].
      if (reduced)
        jobs.pack_reduced(c.precision, pd.w_in, true, I, GH, w.W, I);
      else
        jobs.pack(pd.w_in, true, I, GH, w.W, I, w.bW ? pd.bias_in.data() : nullptr);
      // A row count past kDotMaxRows: the packed (not viewed) recurrent operands.
      pack_direction(jobs, pd.rec, c.cell, w, cell_spec(c, (int)d), false, kDotMaxRows + 1, c.precision);
      jobs.fill(Par{});
    }
  return pw;
}

}  // namespace frnn
