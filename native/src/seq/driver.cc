// What the two drivers share (see driver.h).
#include "seq/driver.h"

namespace frnn {

Status check_call(const RnnConfig& c, SeqDims dims) {
  Status st = validate_config(c);
  if (!st.ok) return st;
  if (dims.T < 1 || dims.B < 1) return Status::Error("Expected T >= 1 and B >= 1");
  return Status::Ok();
}

Status check_lengths(SeqDims dims, const int32_t* lengths) {
  if (lengths)
    for (int32_t b = 0; b < dims.B; ++b)
      if (lengths[b] < 1 || lengths[b] > dims.T) return Status::Error("Expected lengths in 1..T");
  return Status::Ok();
}

SeqCall::SeqCall(const RnnConfig& c_, const float* params_, SeqDims dims, const int32_t* lengths)
    : c(c_),
      params(params_),
      T(dims.T),
      B(dims.B),
      D(c_.num_directions),
      L(c_.num_layers),
      H(c_.hidden_size),
      Hout(out_size(c_)),
      GH(gate_count(c_.cell) * H),
      lstm(c_.cell == CellType::kLstm),
      gru(c_.cell == CellType::kGru),
      map(T, B, lengths),
      layout(c_, T, B) {}

DirBase plan_dir(const SeqCall& call, size_t l, size_t d, bool backward, PackJobs& jobs, PackedDir& packed,
                 bool pack) {
  DirBase b;
  b.d = d;
  b.reverse = d == 1 || call.c.reverse;
  b.slot = l * call.D + d;
  b.w = dir_weights(call.c, call.params, (int)l, (int)d);
  b.spec = cell_spec(call.c, (int)d);
  jobs.clear();
  if (pack) pack_direction(jobs, packed, call.c.cell, b.w, b.spec, backward, call.B, call.c.precision);
  return b;
}

}  // namespace frnn
