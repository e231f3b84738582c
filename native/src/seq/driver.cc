// Sequence drivers: forward and backward over T steps, layers, directions and lengths.
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
#include <algorithm>
#include <cstring>
#include <vector>

#include "cells/cells.h"
#include "cpu/fpmode.h"
#include "fused_rnn.h"
#include "gemm/gemm.h"
#include "seq/layout.h"
#include "seq/plan.h"
#include "threads/pool.h"

namespace frnn {
namespace {

// Rows (steps × B) per block of the input projection: enough rows for the micro-kernel to
// reuse each W panel slice, few enough that the block's pre-activations stay in L2 until
// the steps add the recurrent product to them (one pass over all of Gx went to memory).
constexpr size_t kProjRows = 64;

// Per-thread scratch of forward() and backward(); every buffer is sized (and, where read
// before written, cleared) by the call that uses it.
struct ForwardDirScratch {
  std::vector<float> xs, xa, bias_in, gx, hbuf, cbuf, aux;
  PackedDir packed;
  PackedMatrix packed_w;
  PackJobs jobs;
};
struct ForwardScratch {
  std::vector<float> x_tm, y_tm, layer_buf[2], zeros_h, zeros_c;
  ForwardDirScratch dir[2];  // the directions of a layer may run at the same time
};

// One direction of one layer, ready to run: everything a thread needs, nothing to allocate.
struct ForwardDir {
  size_t d, slot, K;
  size_t proj_steps;  // steps per block of the input projection
  bool reverse, dot_path, has_bias;
  DirWeights w;
  CellSpec spec;
  const SavedLayout::Dir* sv;
  const float* xsp;  // step-ordered input, [Xs | 1] when the bias rides along
  const float* x_src;  // Xs to copy into [Xs | 1] (at xa), or nullptr
  float* xa;
  float* z_all;      // (T, B, GH) training; inference: two blocks of proj_steps steps
  float* hist_h;     // (T+1, B, Hout) training, else 2 rotating slots
  float* h_out;      // inference of one direction in time order: step s's h is row s of this
                     // (the layer output), not a slot copied there; else nullptr
  float* hist_c;
  float* aux;        // inference: one step's aux
  ForwardDirScratch* ws;
};
struct BackwardDirScratch {
  std::vector<float> xs, dxs, dz, dzr, dh_hist, dh, dh_prev, dh_tot, dc, scratch, bias_sums;
  AlignedFloats dz_strips, dzr_strips;  // dZᵀ (and GRU reset_after's recurrent dZᵀ) in ppmm strips
  PackedDir packed;
  PackedMatrix pk_x, pk_h, pk_aux, pk_wt;
  PackJobs jobs;
};
struct BackwardScratch {
  std::vector<float> x_tm, dY, dX;
  BackwardDirScratch dir[2];
};

// One direction of one layer, ready to back-propagate.
struct BackwardDir {
  size_t d, slot;
  bool reverse;
  DirWeights w;
  DirGrads g;
  CellSpec spec;
  const float* z_all;    // (T, B, GH) saved pre-activations
  const float* hist_h;   // (T+1, B, Hout)
  const float* hist_c;   // (T+1, B, H) LSTM
  const float* aux_all;  // (T, B, H) or nullptr
  BackwardDirScratch* ws;
};

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

}  // namespace

Status forward(const RnnConfig& c, const float* params, SeqDims dims, const float* x,
               const int32_t* lengths, const float* h0, const float* c0, float* y, float* hN,
               float* cN, float* saved) {
  Status st = validate_config(c);
  if (!st.ok) return st;
  if (dims.T < 1 || dims.B < 1) return Status::Error("Expected T >= 1 and B >= 1");
  const size_t T = dims.T, B = dims.B, D = c.num_directions, L = c.num_layers;
  const size_t H = c.hidden_size, Hout = out_size(c), GH = gate_count(c.cell) * H;
  const bool lstm = c.cell == CellType::kLstm;
  if (lengths)
    for (size_t b = 0; b < B; ++b)
      if (lengths[b] < 1 || lengths[b] > dims.T) return Status::Error("Expected lengths in 1..T");

  const StepMap map(T, B, lengths);
  const SavedLayout layout(c, T, B);

  // Time-major views of x and y.
  // Scratch buffers keep their capacity between calls on the same thread: a large layer's
  // buffers are tens of MB, and fresh pages cost a page fault each (5% of a large forward).
  thread_local ForwardScratch ws;
  std::vector<float>& x_tm = ws.x_tm;
  std::vector<float>& y_tm = ws.y_tm;
  const float* x0 = x;
  float* y_top = y;
  if (dims.batch_first) {
    x_tm.resize(T * B * c.input_size);
    swap_batch_time(x_tm.data(), x, B, T, c.input_size);
    x0 = x_tm.data();
    y_tm.resize(T * B * D * Hout);
    y_top = y_tm.data();
  }

  std::vector<float>* layer_buf = ws.layer_buf;  // inference: ping-pong outputs of inner layers
  ws.zeros_h.assign(B * Hout, 0.0f);
  ws.zeros_c.assign(B * H, 0.0f);
  const int nth = num_threads();
  ThreadPool& pool = ThreadPool::instance();

  const float* layer_in = x0;
  for (size_t l = 0; l < L; ++l) {
    const size_t I = layer_input_size(c, (int)l);
    float* layer_out;
    if (l + 1 == L) {
      layer_out = y_top;
    } else if (saved) {
      layer_out = saved + layout.layer_out[l];
    } else {
      layer_buf[l % 2].resize(T * B * D * Hout);
      layer_out = layer_buf[l % 2].data();
    }
    // Steps write the outputs of live (step, sequence) pairs: only finished sequences leave
    // rows that must read 0 (a 13 MB memset on `large` otherwise).
    if (!map.active.empty()) std::memset(layer_out, 0, T * B * D * Hout * sizeof(float));

    ForwardDir fds[2];
    for (size_t d = 0; d < D; ++d) {
      ForwardDir& fd = fds[d];
      ForwardDirScratch& dw = ws.dir[d];
      fd.ws = &dw;
      fd.d = d;
      fd.reverse = d == 1 || c.reverse;
      fd.slot = l * D + d;
      fd.w = dir_weights(c, params, (int)l, (int)d);
      fd.spec = cell_spec(c, (int)d);
      fd.sv = saved ? &layout.dirs[fd.slot] : nullptr;
      dw.jobs.clear();
      pack_direction(dw.jobs, dw.packed, c.cell, fd.w, fd.spec, false, B);

      // Input projection of every step: Gx = Xs·Wᵀ + bW.
      fd.xsp = layer_in;
      if (!map.identity(fd.reverse)) {
        dw.xs.resize(T * B * I);
        gather_steps(dw.xs.data(), layer_in, I, 0, I, map, fd.reverse);
        fd.xsp = dw.xs.data();
      }
      // Steps per input-projection block (see run_direction); inference keeps two blocks.
      fd.proj_steps = T * B <= kDotMaxRows ? T : std::min(T, (kProjRows + B - 1) / B);
      if (fd.sv) {
        fd.z_all = saved + fd.sv->z;
      } else {
        dw.gx.resize(std::min(T, 2 * fd.proj_steps) * B * GH);
        fd.z_all = dw.gx.data();
      }
      // Biases: b = bW + bR (all but GRU reset_after's bR_n, which r multiplies). When W is
      // packed, b rides along as an extra row, [Xs | 1]·[W | b]ᵀ, so no pass over Gx or over
      // each step's z adds it; with one or two rows (streaming) it is added after the dots.
      fd.has_bias = fd.w.bW != nullptr;
      if (fd.has_bias) {
        dw.bias_in.resize(GH);
        const bool keep_rn = c.cell == CellType::kGru && c.reset_after;
        for (size_t g = 0; g < GH; ++g)
          dw.bias_in[g] = keep_rn && g >= 2 * H ? fd.w.bW[g] : fd.w.bW[g] + fd.w.bR[g];
      }
      fd.dot_path = T * B <= kDotMaxRows;
      fd.K = I;
      fd.x_src = nullptr;
      if (fd.dot_path) {
        dw.packed_w.view_transposed(I, GH, fd.w.W, I);
      } else {
        dw.jobs.pack(dw.packed_w, true, I, GH, fd.w.W, I, fd.has_bias ? dw.bias_in.data() : nullptr);
        if (fd.has_bias) {  // the threads copy Xs into [Xs | 1]
          fd.K = I + 1;
          dw.xa.resize(T * B * fd.K);
          fd.x_src = fd.xsp;
          fd.xa = dw.xa.data();
          fd.xsp = fd.xa;
        }
      }

      // State histories (training) or two rotating buffers (inference).
      const float* h_init = h0 ? h0 + fd.slot * B * Hout : ws.zeros_h.data();
      const float* c_init = c0 ? c0 + fd.slot * B * H : ws.zeros_c.data();
      fd.hist_c = nullptr;
      fd.aux = nullptr;
      if (fd.sv) {
        fd.hist_h = saved + fd.sv->h;
        if (lstm) fd.hist_c = saved + fd.sv->c;
      } else {
        dw.hbuf.resize(2 * B * Hout);
        fd.hist_h = dw.hbuf.data();
        if (lstm) {
          dw.cbuf.resize(2 * B * H);
          fd.hist_c = dw.cbuf.data();
        }
        dw.aux.resize(B * H);
        fd.aux = dw.aux.data();
      }
      std::memcpy(fd.hist_h, h_init, B * Hout * sizeof(float));
      fd.h_out = !fd.sv && D == 1 && map.identity(fd.reverse) ? layer_out : nullptr;
      if (lstm) std::memcpy(fd.hist_c, c_init, B * H * sizeof(float));
    }

    // One direction on a group of threads: the input projection, then step after step.
    // Everything here allocates nothing: it runs on the pool's threads.
    auto run_direction = [&](const Par& par, const ForwardDir& fd) {
      const ForwardDirScratch& dw = *fd.ws;
      // The setup the threads share (serial, it held back two threads on large): their rows
      // of [Xs | 1] and their panels of the packed weights.
      if (fd.x_src) {
        size_t r0, r1;
        par.range(T * B, 1, &r0, &r1);
        for (size_t r = r0; r < r1; ++r) {
          std::memcpy(fd.xa + r * fd.K, fd.x_src + r * (fd.K - 1), (fd.K - 1) * sizeof(float));
          fd.xa[r * fd.K + fd.K - 1] = 1.0f;
        }
      }
      dw.jobs.fill(par);  // (ends with a barrier)
      // Pre-activations of step s: every step in training, two blocks in turn in inference.
      auto z_step = [&](size_t s) {
        const size_t at = fd.sv ? s : (s / fd.proj_steps) % 2 * fd.proj_steps + s % fd.proj_steps;
        return fd.z_all + at * B * GH;
      };
      // Gx = Xs·Wᵀ + bW for the block of steps from s0, this thread's columns. A block is
      // projected at the end of the step before it (before that step's barrier), so its z
      // rows are still in cache when the steps add the recurrent product to them.
      // Columns: this thread's share of GH, or with a fused step the columns of its hidden
      // units in every gate, the ones its steps read.
      const bool fused = fused_step_fits(fd.spec, dw.packed);
      size_t n0, n1;
      par.range(fused ? H : GH, kSplitAlign, &n0, &n1);
      auto project = [&](size_t s0) {
        const size_t rows = (std::min(T, s0 + fd.proj_steps) - s0) * B;
        float* z = z_step(s0);
        for (size_t g0 = 0; g0 < GH; g0 += fused ? H : GH) {
          gemm_packed(false, rows, fd.K, fd.xsp + s0 * B * fd.K, fd.K, dw.packed_w, z, GH, false, g0 + n0, g0 + n1);
          if (fd.dot_path && fd.has_bias && n1 > n0)
            add_row_vector(rows, n1 - n0, dw.bias_in.data() + g0 + n0, z + g0 + n0, GH, true);
        }
      };
      project(0);
      par.barrier();
      for (size_t s = 0; s < T; ++s) {
        // Training keeps every step; inference alternates between two slots.
        const size_t prev = fd.sv ? s : s % 2, next = fd.sv ? s + 1 : (s + 1) % 2;
        const float* h_prev = fd.h_out && s > 0 ? fd.h_out + (s - 1) * B * Hout : fd.hist_h + prev * B * Hout;
        float* h_new = fd.h_out ? fd.h_out + s * B * Hout : fd.hist_h + next * B * Hout;
        float* aux_s = !cell_needs_aux(c) ? nullptr : fd.sv ? saved + fd.sv->aux + s * B * H : fd.aux;
        StepIO io{z_step(s), aux_s};
        const uint8_t* mask = map.mask(s);
        switch (c.cell) {
          case CellType::kLstm:
            lstm_step_forward(par, h_new, fd.hist_c + next * B * H, io, h_prev, fd.hist_c + prev * B * H, mask, fd.w,
                              dw.packed, fd.spec, (int)B);
            break;
          case CellType::kGru: gru_step_forward(par, h_new, io, h_prev, mask, fd.w, dw.packed, fd.spec, (int)B); break;
          case CellType::kRnn: rnn_step_forward(par, h_new, io, h_prev, mask, fd.w, dw.packed, fd.spec, (int)B); break;
        }
        // This thread's columns of h go to the layer output at each sequence's time.
        size_t j0, j1;
        step_output_range(par, fd.spec, &j0, &j1);
        if (fd.h_out) j1 = j0;  // already there
        for (size_t b = 0; b < B && j1 > j0; ++b) {
          if (!map.live(s, b)) continue;
          std::memcpy(layer_out + (map.time(s, b, fd.reverse) * B + b) * D * Hout + fd.d * Hout + j0,
                      h_new + b * Hout + j0, (j1 - j0) * sizeof(float));
        }
        if ((s + 1) % fd.proj_steps == 0 && s + 1 < T) project(s + 1);
        par.barrier();
      }
    };

    // The directions share nothing but disjoint columns of the layer output.
    run_directions(pool, nth, D, [&](const Par& par, size_t d) { run_direction(par, fds[d]); });
    for (size_t d = 0; d < D; ++d) {
      const ForwardDir& fd = fds[d];
      const size_t last = fd.sv ? T : T % 2;
      const float* h_last = fd.h_out ? fd.h_out + (T - 1) * B * Hout : fd.hist_h + last * B * Hout;
      if (hN) std::memcpy(hN + fd.slot * B * Hout, h_last, B * Hout * sizeof(float));
      if (lstm && cN) std::memcpy(cN + fd.slot * B * H, fd.hist_c + last * B * H, B * H * sizeof(float));
    }
    layer_in = layer_out;
  }
  if (dims.batch_first) swap_batch_time(y, y_tm.data(), T, B, D * Hout);
  return Status::Ok();
}

Status backward(const RnnConfig& c, const float* params, SeqDims dims, const float* x,
                const int32_t* lengths, const float* h0, const float* c0, const float* saved,
                const float* dy, const float* dhN, const float* dcN, float* dx, float* dh0,
                float* dc0, float* dparams) {
  (void)h0;
  (void)c0;
  Status st = validate_config(c);
  if (!st.ok) return st;
  if (dims.T < 1 || dims.B < 1) return Status::Error("Expected T >= 1 and B >= 1");
  if (!saved) return Status::Error("Expected the training record of a forward pass");
  const size_t T = dims.T, B = dims.B, D = c.num_directions, L = c.num_layers;
  const size_t H = c.hidden_size, Hout = out_size(c), GH = gate_count(c.cell) * H;
  const bool lstm = c.cell == CellType::kLstm, gru = c.cell == CellType::kGru;
  const bool proj = lstm && c.proj_size > 0;
  if (lengths)
    for (size_t b = 0; b < B; ++b)
      if (lengths[b] < 1 || lengths[b] > dims.T) return Status::Error("Expected lengths in 1..T");

  const StepMap map(T, B, lengths);
  const SavedLayout layout(c, T, B);

  thread_local BackwardScratch ws;  // capacity kept between calls, see forward()
  std::vector<float>& x_tm = ws.x_tm;
  const float* x0 = x;
  if (dims.batch_first) {
    x_tm.resize(T * B * c.input_size);
    swap_batch_time(x_tm.data(), x, B, T, c.input_size);
    x0 = x_tm.data();
  }
  // Gradient of the current layer's output, time-major (T, B, D*Hout): the caller's dy when
  // it is time-major, else in dY (zeros when dy is absent). Lower layers read dY, what the
  // layer above left in dX.
  std::vector<float>& dY = ws.dY;
  std::vector<float>& dX = ws.dX;
  const float* dy_layer = dy;
  if (!dy || dims.batch_first) {
    dY.resize(T * B * D * Hout);
    if (!dy)
      std::fill(dY.begin(), dY.end(), 0.0f);
    else
      swap_batch_time(dY.data(), dy, B, T, D * Hout);
    dy_layer = dY.data();
  }

  const int nth = num_threads();
  ThreadPool& pool = ThreadPool::instance();
  const size_t TB = T * B;
  // The weight gradients' dZᵀ goes into ppmm strips as each step writes dZ (hot in cache),
  // instead of a packing pass over all of dZ after the loop, when every product's first
  // row starts a strip: threads' rows start at multiples of kSplitAlign, GRU reset_before's
  // n rows at 2H.
  const size_t mr = gemm_config().pack_strips ? gemm_config().mr : 0;
  const bool strips = mr && kSplitAlign % mr == 0 && (!gru || c.reset_after || 2 * H % mr == 0);
  const size_t strip_floats = strips ? (GH + mr - 1) / mr * mr * TB : 0;
  // The recurrent side's dZ of a GRU is kept for dR only with reset_after and no strips;
  // otherwise the step's own rows suffice.
  const bool keep_dzr = gru && c.reset_after && !strips;

  for (size_t li = L; li-- > 0;) {
    const size_t I = layer_input_size(c, (int)li);
    const float* layer_in = li == 0 ? x0 : saved + layout.layer_out[li - 1];
    BackwardDir bds[2];
    for (size_t d = 0; d < D; ++d) {
      BackwardDir& bd = bds[d];
      BackwardDirScratch& dw = ws.dir[d];
      bd.ws = &dw;
      bd.d = d;
      bd.reverse = d == 1 || c.reverse;
      bd.slot = li * D + d;
      bd.w = dir_weights(c, params, (int)li, (int)d);
      bd.g = dir_grads(c, dparams, (int)li, (int)d);
      bd.spec = cell_spec(c, (int)d);
      const SavedLayout::Dir& sv = layout.dirs[bd.slot];
      bd.z_all = saved + sv.z;
      bd.hist_h = saved + sv.h;
      bd.hist_c = lstm ? saved + sv.c : nullptr;
      bd.aux_all = cell_needs_aux(c) ? saved + sv.aux : nullptr;
      dw.jobs.clear();
      pack_direction(dw.jobs, dw.packed, c.cell, bd.w, bd.spec, true, B);
      dw.dz.resize(TB * GH);
      dw.dzr.resize(keep_dzr ? TB * GH : gru ? B * GH : 0);
      dw.dz_strips.resize(strip_floats);
      dw.dzr_strips.resize(gru && c.reset_after ? strip_floats : 0);
      dw.dh_hist.resize(proj ? TB * Hout : 0);
      dw.dh_prev.resize(B * Hout);
      dw.dh_tot.resize(B * Hout);
      dw.scratch.resize(B * H);
      dw.bias_sums.resize(GH);
      if (dhN)
        dw.dh.assign(dhN + bd.slot * B * Hout, dhN + (bd.slot + 1) * B * Hout);
      else
        dw.dh.assign(B * Hout, 0.0f);
      if (lstm && dcN)
        dw.dc.assign(dcN + bd.slot * B * H, dcN + (bd.slot + 1) * B * H);
      else
        dw.dc.assign(lstm ? B * H : 0, 0.0f);

      // Operands of the weight-gradient products, packed by the threads as they start.
      const float* xsp = layer_in;
      if (!map.identity(bd.reverse)) {
        dw.xs.resize(TB * I);
        gather_steps(dw.xs.data(), layer_in, I, 0, I, map, bd.reverse);
        xsp = dw.xs.data();
      }
      dw.jobs.pack(dw.pk_x, false, TB, I, xsp, I);
      dw.jobs.pack(dw.pk_h, false, TB, Hout, bd.hist_h, Hout);
      if (bd.aux_all && (proj || (gru && !c.reset_after))) dw.jobs.pack(dw.pk_aux, false, TB, H, bd.aux_all, H);
      dw.jobs.pack(dw.pk_wt, false, GH, I, bd.w.W, I);
      dw.dxs.resize(TB * I);
    }

    // One direction on a group of threads: the steps backwards, then the weight gradients
    // and dXs = dZ·W in step order. Allocates nothing.
    auto run_direction = [&](const Par& par, const BackwardDir& bd) {
      BackwardDirScratch& dw = *bd.ws;
      dw.jobs.fill(par);  // this thread's panels of every packed operand (ends with a barrier)
      DirGrads g = bd.g;
      const size_t d = bd.d;
      float* dh_cur = dw.dh.data();  // gradient of h at the current step (from later steps)
      float* dh_nxt = dw.dh_prev.data();
      size_t j0, j1;
      step_output_range(par, bd.spec, &j0, &j1);
      for (size_t s = T; s-- > 0;) {
        // This thread's columns of dh_tot = dh (from step s+1) + dY at this step's time.
        float* dht = proj ? dw.dh_hist.data() + s * B * Hout : dw.dh_tot.data();
        for (size_t b = 0; b < B; ++b) {
          float* row = dht + b * Hout;
          const float* carry = dh_cur + b * Hout;
          if (!map.live(s, b)) {
            std::memcpy(row + j0, carry + j0, (j1 - j0) * sizeof(float));
            continue;
          }
          const float* up = dy_layer + (map.time(s, b, bd.reverse) * B + b) * D * Hout + d * Hout;
          for (size_t j = j0; j < j1; ++j) row[j] = carry[j] + up[j];
        }
        if (proj) par.barrier();  // the projection reads every column
        const uint8_t* mask = map.mask(s);
        const float* z = bd.z_all + s * B * GH;
        const float* h_prev = bd.hist_h + s * B * Hout;
        const float* aux = bd.aux_all ? bd.aux_all + s * B * H : nullptr;
        float* dzs = dw.dz.data() + s * B * GH;
        switch (c.cell) {
          case CellType::kLstm:
            lstm_step_backward(par, dh_nxt, dw.dc.data(), dzs, dw.scratch.data(), dht, z, bd.hist_c + s * B * H,
                               bd.hist_c + (s + 1) * B * H, mask, bd.w, dw.packed, g, bd.spec, (int)B);
            break;
          case CellType::kGru:
            gru_step_backward(par, dh_nxt, dzs, dw.dzr.data() + (keep_dzr ? s * B * GH : 0), dw.scratch.data(), dht,
                              z, aux, h_prev, mask, dw.packed, bd.spec, (int)B);
            break;
          case CellType::kRnn:
            rnn_step_backward(par, dh_nxt, dzs, dht, z, mask, dw.packed, bd.spec, (int)B);
            break;
        }
        if (strips) {
          // The step's dZ is complete (the cell's last barrier): this thread's strips, the
          // columns of its hidden units in every gate when they start strips (the dZ it
          // wrote itself, still in its cache), else its share of GH.
          const size_t part = H % mr == 0 ? H : GH;
          size_t c0, c1;
          par.range(part, kSplitAlign, &c0, &c1);
          for (size_t g0 = 0; g0 < GH && c1 > c0; g0 += part) {
            pack_strip_rows(dw.dz_strips.data(), TB, s * B, B, dzs, GH, g0 + c0, g0 + c1);
            if (gru && c.reset_after)
              pack_strip_rows(dw.dzr_strips.data(), TB, s * B, B, dw.dzr.data(), GH, g0 + c0, g0 + c1);
          }
        }
        std::swap(dh_cur, dh_nxt);
        // Finished rows carried dh through; they must not reach dWp (their m is stale).
        if (proj && mask)
          for (size_t b = 0; b < B; ++b)
            if (!mask[b]) std::memset(dht + b * Hout + j0, 0, (j1 - j0) * sizeof(float));
        par.barrier();
      }
      if (par.ith == 0) {
        if (dh0) std::memcpy(dh0 + bd.slot * B * Hout, dh_cur, B * Hout * sizeof(float));
        if (lstm && dc0) std::memcpy(dc0 + bd.slot * B * H, dw.dc.data(), B * H * sizeof(float));
      }

      // Weight gradients over all steps at once, each thread on its rows of the result.
      const float* dz = dw.dz.data();
      // GRU reset_after's recurrent side has a dZ of its own; reset_before's equals dZ (r
      // multiplies h before R).
      const bool own_rec = gru && c.reset_after;
      // Rows [row0, row0 + rows) of dZᵀ (rec: of the recurrent side's) times each output's B:
      // from the strips, or packed from dZ.
      auto dzt_product = [&](bool rec, size_t row0, size_t rows, const GemmOutput* outs, size_t n_outs,
                             float* sums) {
        rec = rec && own_rec;
        if (strips)
          gemm_strips(rows, TB, (rec ? dw.dzr_strips : dw.dz_strips).data() + row0 * TB, outs, n_outs, true, sums);
        else
          gemm_packed(true, rows, TB, (rec ? dw.dzr.data() : dz) + row0, GH, outs, n_outs, true, sums);
      };
      size_t r0, r1;
      par.range(GH, kSplitAlign, &r0, &r1);
      // r and u rows of a GRU see h_prev, the n rows (reset_before) q = r⊙h_prev (aux).
      const size_t split = gru && !c.reset_after ? std::min(std::max(r0, 2 * H), r1) : r1;
      if (r1 > r0 && !own_rec) {
        // dW and dR read the same dZᵀ (all but GRU reset_after, whose recurrent side has a dZ
        // of its own): one product per row range, A read once; bW and bR get the same sums.
        float* sums = g.bW ? dw.bias_sums.data() + r0 : nullptr;
        if (sums) std::memset(sums, 0, (r1 - r0) * sizeof(float));
        const GemmOutput h_outs[2] = {{&dw.pk_x, g.W + r0 * I, I}, {&dw.pk_h, g.R + r0 * Hout, Hout}};
        const GemmOutput q_outs[2] = {{&dw.pk_x, g.W + split * I, I}, {&dw.pk_aux, g.R + split * Hout, Hout}};
        if (split > r0) dzt_product(false, r0, split - r0, h_outs, 2, sums);
        if (r1 > split) dzt_product(false, split, r1 - split, q_outs, 2, sums ? sums + (split - r0) : nullptr);
        for (size_t r = 0; sums && r < r1 - r0; ++r) {
          g.bW[r0 + r] += sums[r];
          g.bR[r0 + r] += sums[r];
        }
      } else if (r1 > r0) {
        // Bias gradients (column sums of dZ) are taken as the products read dZᵀ.
        const GemmOutput w_out{&dw.pk_x, g.W + r0 * I, I}, h_out{&dw.pk_h, g.R + r0 * Hout, Hout};
        dzt_product(false, r0, r1 - r0, &w_out, 1, g.bW ? g.bW + r0 : nullptr);
        dzt_product(true, r0, r1 - r0, &h_out, 1, g.bR ? g.bR + r0 : nullptr);
      }
      if (proj) {
        par.range(Hout, kSplitAlign, &r0, &r1);
        if (r1 > r0) gemm_packed(true, r1 - r0, TB, dw.dh_hist.data() + r0, Hout, dw.pk_aux, g.Wp + r0 * H, H, true);
      }
      // dXs = dZ·W on this thread's rows (in step order; run_layer puts them back in time).
      par.range(TB, kSplitAlign, &r0, &r1);
      if (r1 > r0) gemm_packed(false, r1 - r0, GH, dz + r0 * GH, GH, dw.pk_wt, dw.dxs.data() + r0 * I, I, false);
    };

    // The directions write disjoint gradients; their input gradients meet below.
    run_directions(pool, nth, D, [&](const Par& par, size_t d) { run_direction(par, bds[d]); });

    // dX[t, b] = Σ_d dXs_d at the step that read time t (forward first, a fixed order), the
    // first layer's straight into the caller's dx when it is time-major.
    const bool into_dx = li == 0 && dx && !dims.batch_first;
    if (!into_dx) dX.resize(TB * I);
    float* dx_layer = into_dx ? dx : dX.data();
    pool.run(nth, [&](int ith, int nthr) {
      const Par par{&pool.barrier(), ith, nthr};
      size_t r0, r1;
      par.range(TB, kSplitAlign, &r0, &r1);
      for (size_t row = r0; row < r1; ++row) {
        const size_t t = row / B, b = row % B;
        float* dst = dx_layer + row * I;
        std::memset(dst, 0, I * sizeof(float));
        if (!map.live(t, b)) continue;  // t < len_b: live in both directions
        for (size_t d = 0; d < D; ++d) {
          const float* src = bds[d].ws->dxs.data() + (map.time(t, b, bds[d].reverse) * B + b) * I;
          for (size_t j = 0; j < I; ++j) dst[j] += src[j];
        }
      }
    });
    if (li > 0) {
      dY.swap(dX);
      dy_layer = dY.data();
    }
  }
  if (dx && dims.batch_first) swap_batch_time(dx, dX.data(), T, B, c.input_size);
  return Status::Ok();
}

}  // namespace frnn
