// Weights packed once for many inference forwards (streaming steps): every layer and
// direction's operands of the products a forward of more than kDotMaxRows rows per step
// packs, so that a call reading them packs nothing. Immutable once made, so any number of
// calls on any threads may read one at the same time (the addon shares them by shared_ptr).
#pragma once

#include <vector>

#include "cells/cells.h"
#include "fused_rnn.h"

namespace frnn {

struct PackedWeights {
  struct Dir {
    std::vector<float> bias_in;  // bW + bR (GRU reset_after: bW only for n), or empty
    PackedMatrix w_in;           // [W | bias_in]ᵀ for Gx = [Xs | 1]·[W | b]ᵀ (Wᵀ alone without bias, or in bf16)
    PackedDir rec;               // as pack_direction() packs it for a forward of many rows
  };
  std::vector<Dir> dirs;  // slot l*D + d
};

// The biases a forward adds to the input projection: bW + bR, except GRU reset_after's bR_n,
// which r multiplies (the step adds it). out: GH floats.
void fold_input_bias(const RnnConfig& c, const DirWeights& w, float* out);

}  // namespace frnn
