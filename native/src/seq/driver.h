// What the sequence drivers (seq/forward.cc, seq/backward.cc) share: the checks of a call,
// its sizes and step map, the part of a direction's plan both directions of work need, and
// run_directions().
//
// Each direction runs in "step space": step s of sequence b reads time t = s (forward) or
// t = len_b-1-s (reverse), so the reverse direction starts at each sequence's own last
// step. Steps s >= len_b are inactive: the state is carried and the output is 0.
//
// Per layer and direction:
//   forward:  Gx = Xs·Wᵀ + bW, a block of steps at a time (one GEMM per block, just
//             before its steps); per step the cell adds h·Rᵀ + bR and applies the gate
//             math (cells/*.cc).
//   backward: per step (t = T-1..0) the cell turns dh, dc into dz and dh_prev; after the
//             loop the weight gradients and dX are single GEMMs over all steps.
// Each driver reads as plan (one thread: views, sizes, packing jobs) / run (the pool's
// threads: the steps, allocating nothing) / finish (one thread: final states, dX).
#pragma once

#include <cstddef>
#include <cstdint>

#include "cells/cells.h"
#include "cpu/fpmode.h"
#include "fused_rnn.h"
#include "seq/layout.h"
#include "seq/plan.h"
#include "threads/pool.h"

namespace frnn {

// The config is valid, T >= 1 and B >= 1.
Status check_call(const RnnConfig& c, SeqDims dims);
// lengths is nullptr or B values in 1..T.
Status check_lengths(SeqDims dims, const int32_t* lengths);

// The sizes, step map and record layout of one call (after its checks).
struct SeqCall {
  const RnnConfig& c;
  const float* params;
  size_t T, B, D, L, H, Hout, GH;
  bool lstm, gru;
  StepMap map;
  SavedLayout layout;
  SeqCall(const RnnConfig& c, const float* params, SeqDims dims, const int32_t* lengths);
};

// What forward and backward plan alike for direction d of layer l.
struct DirBase {
  size_t d, slot;  // slot = l*D + d: the index of this direction's states and record
  bool reverse;
  DirWeights w;
  CellSpec spec;
};
// Fills the DirBase and plans (in jobs) the packing of the direction's weights for the
// per-step products of forward or backward (pack_direction).
DirBase plan_dir(const SeqCall& call, size_t l, size_t d, bool backward, PackJobs& jobs, PackedDir& packed);

// Runs run(par, d) for each of D directions with denormals flushed: two directions at once,
// each on half of the threads (with a barrier of its own), when there are threads for both;
// otherwise one after the other on all threads. A busy pool (another layer on another
// thread) gives one thread, which runs both: the same bits either way.
template <class Fn>
void run_directions(ThreadPool& pool, int nth, size_t D, const Fn& run) {
  if (D == 2 && ThreadPool::usable_threads(nth) >= 2) {
    Barrier groups[2];
    pool.run(nth, [&](int ith, int nthr) {
      const FlushDenormals ftz;
      if (nthr < 2) {
        for (size_t d = 0; d < 2; ++d) run(Par{nullptr, 0, 1}, d);
        return;
      }
      const int half = nthr / 2, d = ith < half ? 0 : 1;
      run(Par{&groups[d], d == 0 ? ith : ith - half, d == 0 ? half : nthr - half}, static_cast<size_t>(d));
    });
    return;
  }
  for (size_t d = 0; d < D; ++d)
    pool.run(nth, [&](int ith, int nthr) {
      const FlushDenormals ftz;
      run(Par{&pool.barrier(), ith, nthr}, d);
    });
}

}  // namespace frnn
