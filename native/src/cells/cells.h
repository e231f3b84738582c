// Per-time-step forward and backward of the three cells, for one direction of one layer.
//
// A step takes the input projection of its time step (gx = x·Wᵀ + bW + bR, computed for
// all steps at once by the driver, which folds in every bias except GRU reset_after's bR_n,
// since r multiplies it), does the recurrent product and the gate math, and
// writes the new state. Rows whose sequence has ended (active[b] == 0) keep their state
// and get zero gradients, which gives PyTorch packed / ONNX sequence_lens semantics.
// Internal gate order: LSTM i,f,g,o; GRU r,z,n.
//
// Threads: every thread of a parallel region calls the step with its Par. Products are
// split by output columns, gate math by hidden units (both in kSplitAlign chunks), with
// barriers between phases. On return, this thread has written h (and c) for its share
// of the Hout columns, step_output_range(); the caller puts a barrier before the next step.
#pragma once

#include <algorithm>
#include <cstddef>
#include <cstdint>

#include "fused_rnn.h"
#include "gemm/gemm.h"
#include "threads/pool.h"

namespace frnn {

// Weights of one direction of one layer (views into the flat parameter buffer).
struct DirWeights {
  const float* W;   // (GH, I)
  const float* R;   // (GH, Hout)
  const float* bW;  // (GH) or nullptr
  const float* bR;  // (GH) or nullptr
  const float* P;   // (3H) peepholes i,f,o, or nullptr
  const float* Wp;  // (P, H) projection, or nullptr
};

// Recurrent and projection weights packed once per call for the per-step products.
//   forward:  rec = Rᵀ (GRU: rows of r and u only), rec_n = R_nᵀ (GRU), proj = Wpᵀ
//   backward: rec = R (GRU reset_after: all rows; else r and u rows), rec_n = R_n (GRU), proj = Wp
struct PackedDir {
  PackedMatrix rec, rec_n, proj;
};

struct DirGrads {
  float* W;
  float* R;
  float* bW;
  float* bR;
  float* P;
  float* Wp;
};

struct CellSpec;

// SIMD gate math for the standard activations (cells/gates_simd.h), one table per ISA.
// Each covers rows [0, B) and hidden units [j0, j1).
struct GateKernels {
  void (*lstm_forward)(float* m, float* c, float* z, const float* c_prev, const float* P, const CellSpec& s, int B,
                       size_t j0, size_t j1);
  void (*lstm_backward)(float* dz, float* dc, float* dP, const float* dm, const float* z, const float* c_prev,
                        const float* c, const uint8_t* active, const float* P, const CellSpec& s, int B, size_t j0,
                        size_t j1);
  void (*gru_reset_hidden)(float* q, const float* z, const float* h_prev, const CellSpec& s, int B, size_t j0,
                           size_t j1);
  void (*gru_forward)(float* h, float* z, const float* aux, const float* h_prev, const CellSpec& s, int B, size_t j0,
                      size_t j1);
  void (*gru_backward)(float* dz, float* dzr, float* dh_prev, const float* dh, const float* z, const float* aux,
                       const float* h_prev, const uint8_t* active, const CellSpec& s, int B, size_t j0, size_t j1);
  void (*gru_reset_backward)(float* dz, float* dzr, float* dh_prev, const float* dq, const float* z,
                             const float* h_prev, const uint8_t* active, const CellSpec& s, int B, size_t j0,
                             size_t j1);
};

// What a cell needs from the config, resolved for one direction.
struct CellSpec {
  int H, Hout, G;
  const Activation* act;  // [kActSlots]
  float gate_clip, cell_clip, forget_bias;
  bool peephole, input_forget, reset_after;
  const GateKernels* gates;  // SIMD gate math of the active ISA, or nullptr for the scalar code
};

// The active ISA's gate kernels when the cell uses the standard activations (gates
// sigmoid, cell and hidden tanh), else nullptr.
const GateKernels* simd_gates(CellType cell, const Activation* act);

// Per-step buffers, each a (B, n) row-major slice of the step's slot.
//   z:     (B, GH) in: gx (input projection + bW); out: pre-activations, pre-clip (saved)
//   aux:   (B, H)  LSTM with projection: m = o*h(c) before projection (saved);
//                  GRU: Rn = h·R_nᵀ + bR_n (reset_after) or q = r⊙h_prev (saved);
//                  unused otherwise
//   in:    nullptr when z holds gx on entry; else the input projection the fused step
//          computes itself, tile by tile, before the recurrent products (streaming, T = 1:
//          z is written, never read first). The same micro-kernel calls as the driver's
//          projection, so the same bits.
struct StepInput {
  const float* a;  // [B × k] rows, [Xs | 1]
  size_t k;
  const PackedMatrix* w;  // [W | b]ᵀ, packed
};
struct StepIO {
  float* z;
  float* aux;
  const StepInput* in = nullptr;
};

// z tile = in·[W | b]ᵀ for gates [0, G) of units [jb, jb + nb), rows [i0, i0 + rows): the
// input projection of a fused step (StepIO::in).
inline void project_step_tile(const StepInput& in, size_t G, size_t H, size_t i0, size_t rows, size_t jb, size_t nb,
                              float* zt, size_t GH) {
  for (size_t g = 0; g < G; ++g) gemm_packed_tile(rows, in.k, in.a + i0 * in.k, in.k, *in.w, g * H + jb, nb, zt, GH, false);
}

// Columns of h a thread owns when a step returns.
inline void step_output_range(const Par& par, const CellSpec& s, size_t* j0, size_t* j1) {
  par.range(s.Hout, kSplitAlign, j0, j1);
}

// Forward steps whose gate math needs only the product's own columns (LSTM, GRU
// reset_after) run fused when this holds: product and gate math a tile at a time (MR rows ×
// NR units of every gate), so each tile's pre-activations are finished while in L1 and one
// barrier per step is saved. Needs the SIMD gate math, a packed recurrent operand (not
// the few-row dot path, nor bf16: its products round A to bf16 once per product, not per
// tile), gate blocks starting on panels (H a multiple of NR) and k in one
// pass (gemm_single_pass: the tiles then give the bits of the whole product).
// The driver splits the step's input projection the same way (by hidden units of every
// gate), so that each thread's pre-activations stay in its own cache.
inline bool fused_step_fits(const CellSpec& s, const PackedDir& pk) {
  const bool cell_fits = s.G == 4 || (s.G == 3 && s.reset_after);  // LSTM, GRU reset_after
  return cell_fits && s.gates && !pk.rec.raw() && !pk.rec.is_reduced() && s.H % gemm_config().nr == 0 && gemm_single_pass(pk.rec.k);
}
// tile(i0, rows, jb, nb) over rows [0, B) and hidden units [j0, j1) in MR-row tiles and
// NR-unit blocks, blocks outer: a block's weight panels stay in L2 while the rows pass.
template <class Fn>
void for_each_step_tile(size_t B, size_t j0, size_t j1, const Fn& tile) {
  const size_t mr = gemm_config().mr, nr = gemm_config().nr;
  for (size_t jb = j0; jb < j1; jb += nr)
    for (size_t i0 = 0; i0 < B; i0 += mr) tile(i0, std::min(mr, B - i0), jb, std::min(nr, j1 - jb));
}

// ---- LSTM -------------------------------------------------------------------------------
// h (B,Hout), c (B,H) out; h_prev, c_prev in.
void lstm_step_forward(const Par& par, float* h, float* c, StepIO io, const float* h_prev, const float* c_prev,
                       const uint8_t* active, const DirWeights& w, const PackedDir& pk, const CellSpec& s, int B);
// dh: (B,Hout) total gradient of h_t, complete on entry. dc: (B,H) in: gradient of c_t;
// out: of c_{t-1}. dz: (B,GH) gradient of the pre-activations (input and recurrent side
// alike). dh_prev: (B,Hout). scratch: (B,H). Peephole gradients accumulate into g.P.
void lstm_step_backward(const Par& par, float* dh_prev, float* dc, float* dz, float* scratch, const float* dh,
                        const float* z, const float* c_prev, const float* c, const uint8_t* active,
                        const DirWeights& w, const PackedDir& pk, DirGrads& g, const CellSpec& s, int B);

// ---- GRU --------------------------------------------------------------------------------
void gru_step_forward(const Par& par, float* h, StepIO io, const float* h_prev, const uint8_t* active,
                      const DirWeights& w, const PackedDir& pk, const CellSpec& s, int B);
// dz: (B,GH) gradient of the input-side pre-activations (gx).
// dzr: (B,GH) gradient of the recurrent-side pre-activations (what multiplies R / adds bR).
// scratch: (B, H).
void gru_step_backward(const Par& par, float* dh_prev, float* dz, float* dzr, float* scratch, const float* dh,
                       const float* z, const float* aux, const float* h_prev, const uint8_t* active,
                       const PackedDir& pk, const CellSpec& s, int B);

// ---- RNN --------------------------------------------------------------------------------
void rnn_step_forward(const Par& par, float* h, StepIO io, const float* h_prev, const uint8_t* active,
                      const DirWeights& w, const PackedDir& pk, const CellSpec& s, int B);
void rnn_step_backward(const Par& par, float* dh_prev, float* dz, const float* dh, const float* z,
                       const uint8_t* active, const PackedDir& pk, const CellSpec& s, int B);

// Copies rows of src whose sequence has ended (active[b] == 0) into dst, columns [j0, j1).
void copy_inactive_rows(float* dst, const float* src, size_t ld, size_t j0, size_t j1, const uint8_t* active,
                        int B);

}  // namespace frnn
