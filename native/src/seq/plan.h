// What one call works on besides the layouts (seq/layout.h): which (step, sequence) pairs
// are live, each direction's cell spec, and the packed operands of the per-step products.
#pragma once

#include <cstddef>
#include <cstdint>
#include <vector>

#include "cells/cells.h"
#include "fused_rnn.h"

namespace frnn {

// What one direction's cells need from the config.
CellSpec cell_spec(const RnnConfig& c, int d);

// Operands planned before the threads start and packed by them: each thread fills its
// share of every operand's panels (a copy: the same bits for any split), then a barrier.
class PackJobs {
 public:
  void clear() { n_ = 0; }
  void pack(PackedMatrix& m, bool trans_b, size_t k, size_t n, const float* b, size_t ldb,
            const float* extra_row = nullptr);
  void pack_bf16(PackedMatrix& m, bool trans_b, size_t k, size_t n, const float* b, size_t ldb);
  void pack_int8(PackedMatrix& m, bool trans_b, size_t k, size_t n, const float* b, size_t ldb);
  // pack_bf16 or pack_int8 for a reduced precision (not fp32).
  void pack_reduced(Precision p, PackedMatrix& m, bool trans_b, size_t k, size_t n, const float* b, size_t ldb);
  void fill(const Par& par) const;

 private:
  PackedMatrix* m_[8];
  size_t n_ = 0;
};

// Plans the packing of a direction's weights for the per-step products of forward or
// backward; with at most kDotMaxRows rows per step the forward products read the weights
// in place. bf16, int8: the operands are packed in that precision (forward: whatever B;
// int8 is inference only, so never for backward).
void pack_direction(PackJobs& jobs, PackedDir& pk, CellType cell, const DirWeights& w, const CellSpec& s,
                    bool backward, size_t B, Precision prec);

// Which (s, b) are live and which time step they read.
struct StepMap {
  size_t T, B;
  std::vector<int32_t> len;     // per sequence
  std::vector<uint8_t> active;  // (T, B); empty when every sequence has length T
  StepMap(size_t T, size_t B, const int32_t* lengths);
  const uint8_t* mask(size_t s) const { return active.empty() ? nullptr : &active[s * B]; }
  bool live(size_t s, size_t b) const { return (int32_t)s < len[b]; }
  size_t time(size_t s, size_t b, bool reverse) const { return reverse ? len[b] - 1 - s : s; }
  bool identity(bool reverse) const { return !reverse && active.empty(); }
};

// Xs[s, b, :] = X[time(s, b), b, col0 : col0+n] (0 for inactive steps). X rows have ld floats.
void gather_steps(float* xs, const float* x, size_t ld, size_t col0, size_t n, const StepMap& m, bool reverse);

// [outer, inner, F] -> [inner, outer, F] (batch-first <-> time-major).
void swap_batch_time(float* dst, const float* src, size_t outer, size_t inner, size_t F);

}  // namespace frnn
