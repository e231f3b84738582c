// Config checks and derived sizes (the flat parameter layout is in seq/layout.cc).
#include <algorithm>
#include <cmath>
#include <string>

#include "fused_rnn.h"

namespace frnn {

int gate_count(CellType cell) {
  switch (cell) {
    case CellType::kLstm: return 4;
    case CellType::kGru: return 3;
    case CellType::kRnn: return 1;
  }
  return 0;
}

int layer_input_size(const RnnConfig& c, int layer) {
  return layer == 0 ? c.input_size : c.num_directions * out_size(c);
}

static bool valid_activation(const Activation& a) {
  const int k = static_cast<int>(a.kind);
  return k >= 0 && k < static_cast<int>(ActKind::kCount) && std::isfinite(a.alpha) &&
         std::isfinite(a.beta);
}

// Bounds keep every size product below 2^31 elements per tensor with a wide margin.
static constexpr int32_t kMaxDim = 1 << 20;

Status validate_config(const RnnConfig& c) {
  const int g = gate_count(c.cell);
  if (g == 0) return Status::Error("Expected cell 0 (lstm), 1 (gru) or 2 (rnn)");
  if (c.input_size < 1 || c.input_size > kMaxDim) return Status::Error("Expected inputSize in 1..2^20");
  if (c.hidden_size < 1 || c.hidden_size > kMaxDim) return Status::Error("Expected hiddenSize in 1..2^20");
  if (c.num_layers < 1 || c.num_layers > 1024) return Status::Error("Expected numLayers in 1..1024");
  if (c.num_directions != 1 && c.num_directions != 2)
    return Status::Error("Expected numDirections 1 or 2");
  if (c.reverse && c.num_directions != 1)
    return Status::Error("Expected reverse only with one direction");
  if (c.proj_size < 0 || (c.proj_size > 0 && c.proj_size >= c.hidden_size))
    return Status::Error("Expected projSize in 0..hiddenSize-1");
  if (c.cell != CellType::kLstm && (c.proj_size || c.peephole || c.input_forget || c.cell_clip != 0.0f ||
                                   c.forget_bias != 0.0f))
    return Status::Error("Expected no LSTM-only option (projSize, peephole, inputForget, cellClip, forgetBias) for this cell");
  if (!(c.gate_clip >= 0.0f) || std::isnan(c.gate_clip)) return Status::Error("Expected gateClip >= 0");
  if (!(c.cell_clip >= 0.0f) || std::isnan(c.cell_clip)) return Status::Error("Expected cellClip >= 0");
  if (!std::isfinite(c.forget_bias)) return Status::Error("Expected finite forgetBias");
  if (c.precision != Precision::kFp32 && c.precision != Precision::kBf16 && c.precision != Precision::kInt8)
    return Status::Error("Expected precision fp32 (0), bf16 (1) or int8 (2)");
  if (c.precision == Precision::kInt8) {  // exact int32 sums: k <= gemm/int8.h kInt8MaxK
    const int32_t k_max = std::max(c.input_size, std::max(c.hidden_size, c.num_directions * out_size(c)));
    if (k_max > 131072)  // kInt8MaxK
      return Status::Error("Expected inputSize and hiddenSize at most 131072 for int8 (got " + std::to_string(k_max) + ")");
  }
  for (int d = 0; d < 2; ++d)
    for (int s = 0; s < kActSlots; ++s)
      if (!valid_activation(c.act[d][s])) return Status::Error("Expected a known activation with finite alpha/beta");
  const double total = static_cast<double>(c.num_layers) * c.num_directions * g * c.hidden_size *
                       (static_cast<double>(c.input_size) + c.hidden_size * (c.num_directions + 1) + 8);
  if (total > 1.0e9) return Status::Error("Expected fewer than 1e9 parameters");
  return Status::Ok();
}

}  // namespace frnn
