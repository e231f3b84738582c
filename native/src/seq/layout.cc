// Parameter blocks, weight views and the training record (see layout.h).
#include "seq/layout.h"

namespace frnn {

int dir_param_blocks(const RnnConfig& c, int l, ParamBlock out[kMaxDirParamBlocks]) {
  const int32_t gh = gate_count(c.cell) * c.hidden_size, hout = out_size(c);
  int n = 0;
  out[n++] = {ParamKind::kW, gh, layer_input_size(c, l)};
  out[n++] = {ParamKind::kR, gh, hout};
  if (c.bias) {
    out[n++] = {ParamKind::kBiasW, gh, 1};
    out[n++] = {ParamKind::kBiasR, gh, 1};
  }
  if (c.peephole) out[n++] = {ParamKind::kPeephole, 3 * c.hidden_size, 1};
  if (c.proj_size > 0) out[n++] = {ParamKind::kProj, c.proj_size, c.hidden_size};
  return n;
}

size_t dir_param_size(const RnnConfig& c, int l) {
  ParamBlock blocks[kMaxDirParamBlocks];
  const int n = dir_param_blocks(c, l, blocks);
  size_t total = 0;
  for (int i = 0; i < n; ++i) total += static_cast<size_t>(blocks[i].rows) * blocks[i].cols;
  return total;
}

size_t dir_param_offset(const RnnConfig& c, int l, int d) {
  size_t offset = 0;
  for (int layer = 0; layer < l; ++layer) offset += c.num_directions * dir_param_size(c, layer);
  return offset + d * dir_param_size(c, l);
}

std::vector<ParamEntry> param_layout(const RnnConfig& c) {
  std::vector<ParamEntry> entries;
  size_t offset = 0;
  for (int l = 0; l < c.num_layers; ++l)
    for (int d = 0; d < c.num_directions; ++d) {
      ParamBlock blocks[kMaxDirParamBlocks];
      const int n = dir_param_blocks(c, l, blocks);
      for (int i = 0; i < n; ++i) {
        entries.push_back({blocks[i].kind, l, d, offset, blocks[i].rows, blocks[i].cols});
        offset += static_cast<size_t>(blocks[i].rows) * blocks[i].cols;
      }
    }
  return entries;
}

size_t param_count(const RnnConfig& c) {
  size_t total = 0;
  for (int l = 0; l < c.num_layers; ++l) total += c.num_directions * dir_param_size(c, l);
  return total;
}

// The view member of each ParamKind, in enum order; DirWeights and DirGrads name them alike.
template <class View>
using ViewMember = decltype(View::W) View::*;
template <class View>
constexpr ViewMember<View> kViewMembers[] = {&View::W, &View::R, &View::bW, &View::bR, &View::P, &View::Wp};

template <class View, class Ptr>
static View dir_view(const RnnConfig& c, Ptr base, int l, int d) {
  View v{};
  Ptr p = base + dir_param_offset(c, l, d);
  ParamBlock blocks[kMaxDirParamBlocks];
  const int n = dir_param_blocks(c, l, blocks);
  for (int i = 0; i < n; ++i) {
    v.*kViewMembers<View>[static_cast<int>(blocks[i].kind)] = p;
    p += static_cast<size_t>(blocks[i].rows) * blocks[i].cols;
  }
  return v;
}

DirWeights dir_weights(const RnnConfig& c, const float* params, int l, int d) {
  return dir_view<DirWeights>(c, params, l, d);
}

DirGrads dir_grads(const RnnConfig& c, float* grads, int l, int d) { return dir_view<DirGrads>(c, grads, l, d); }

bool cell_needs_aux(const RnnConfig& c) {
  return c.cell == CellType::kGru || (c.cell == CellType::kLstm && c.proj_size > 0);
}

SavedLayout::SavedLayout(const RnnConfig& c, size_t T, size_t B) {
  const size_t H = c.hidden_size, Hout = out_size(c), GH = gate_count(c.cell) * H;
  const size_t D = c.num_directions;
  const bool lstm = c.cell == CellType::kLstm, aux = cell_needs_aux(c);
  // Each direction's tensors in record order, with their sizes (0: not kept for this cell).
  const struct {
    size_t Dir::*at;
    size_t floats;
  } tensors[] = {{&Dir::z, T * B * GH},
                 {&Dir::h, (T + 1) * B * Hout},
                 {&Dir::c, lstm ? (T + 1) * B * H : 0},
                 {&Dir::aux, aux ? T * B * H : 0}};
  for (int l = 0; l < c.num_layers; ++l) {
    layer_out.push_back(total);
    if (l + 1 < c.num_layers) total += T * B * D * Hout;
    for (size_t d = 0; d < D; ++d) {
      Dir dir{};
      for (const auto& t : tensors) {
        dir.*t.at = total;
        total += t.floats;
      }
      dirs.push_back(dir);
    }
  }
}

size_t saved_size(const RnnConfig& c, SeqDims dims) { return SavedLayout(c, dims.T, dims.B).total; }

}  // namespace frnn
