// Where each tensor of a stack lives in a flat float buffer: one module for the three views
// of that idea, so that a new precision (bf16, int8) changes the tables here and nothing else.
//   parameters   per layer l, per direction d: the blocks dir_param_blocks() lists, in that
//                order (fused_rnn.h documents it; param_layout() is its public form). The
//                gradients use the same layout.
//   views        DirWeights / DirGrads: pointers to one direction's blocks (every call).
//   record       SavedLayout: the training record forward() writes and backward() reads.
#pragma once

#include <cstddef>
#include <cstdint>
#include <vector>

#include "cells/cells.h"
#include "fused_rnn.h"

namespace frnn {

// ---- Parameters ----------------------------------------------------------------------------
// One block of one direction's parameters: rows × cols floats (cols = 1 for vectors).
struct ParamBlock {
  ParamKind kind;
  int32_t rows, cols;
};
constexpr int kMaxDirParamBlocks = 6;  // W, R, bW, bR, P, Wp

// The blocks of one direction of layer l, in buffer order, only those the config has:
//   W [GH, I_l], R [GH, Hout], bW [GH], bR [GH] (bias), P [3H] (peephole), Wp [P, H] (proj).
// Fills out[0 .. n) and returns n. Allocates nothing (it runs on every call).
int dir_param_blocks(const RnnConfig& c, int l, ParamBlock out[kMaxDirParamBlocks]);
// Floats of one direction of layer l, and where direction d of layer l starts.
size_t dir_param_size(const RnnConfig& c, int l);
size_t dir_param_offset(const RnnConfig& c, int l, int d);

// Views of one direction's weights (or gradients) in the flat buffer; absent blocks are nullptr.
DirWeights dir_weights(const RnnConfig& c, const float* params, int l, int d);
DirGrads dir_grads(const RnnConfig& c, float* grads, int l, int d);

// ---- Training record -----------------------------------------------------------------------
// GRU keeps Rn or q per step; LSTM with a projection keeps m.
bool cell_needs_aux(const RnnConfig& c);

// Offsets (in floats) of the training record. Per layer: the layer's output when another
// layer reads it; per direction: pre-activations, h and c histories, the cell's aux.
struct SavedLayout {
  struct Dir {
    size_t z, h, c, aux;  // z (T,B,GH); h (T+1,B,Hout); c (T+1,B,H) LSTM; aux (T,B,H)
  };
  std::vector<size_t> layer_out;  // (T,B,D*Hout), valid for l < L-1
  std::vector<Dir> dirs;          // index l*D + d
  size_t total = 0;

  SavedLayout(const RnnConfig& c, size_t T, size_t B);
};

}  // namespace frnn
