// Sequence drivers: forward and backward over T steps, layers, directions and lengths.
//
// Each direction runs in "step space": step s of sequence b reads time t = s (forward) or
// t = len_b-1-s (reverse), so the reverse direction starts at each sequence's own last
// step. Steps s >= len_b are inactive: the state is carried and the output is 0.
//
// Per layer and direction:
//   forward:  Gx = Xs·Wᵀ + bW for all steps in one GEMM; then per step the cell adds
//             h·Rᵀ + bR and applies the gate math (cells/*.cc).
//   backward: per step (t = T-1..0) the cell turns dh, dc into dz and dh_prev; after the
//             loop the weight gradients and dX are single GEMMs over all steps.
#include <algorithm>
#include <cstring>
#include <vector>

#include "cells/cells.h"
#include "cpu/fpmode.h"
#include "fused_rnn.h"
#include "gemm/gemm.h"
#include "seq/plan.h"
#include "threads/pool.h"

namespace frnn {
namespace {

// Per-thread scratch of forward() and backward(); every buffer is sized (and, where read
// before written, cleared) by the call that uses it.
struct ForwardScratch {
  std::vector<float> x_tm, y_tm, layer_buf[2], xs, xa, bias_in, gx, hbuf, cbuf, aux, zeros_h, zeros_c;
  PackedDir packed;
  PackedMatrix packed_w;
};
struct BackwardScratch {
  std::vector<float> x_tm, dY, dX, xs, dxs, dz, dzr, dh_hist, dh, dh_prev, dh_tot, dc, scratch;
  PackedDir packed;
  PackedMatrix pk_x, pk_h, pk_aux, pk_wt;
};

}  // namespace

size_t saved_size(const RnnConfig& c, SeqDims dims) {
  return SavedLayout(c, dims.T, dims.B).total;
}

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
  std::vector<float>& xs = ws.xs;
  std::vector<float>& xa = ws.xa;  // [Xs | 1]
  std::vector<float>& bias_in = ws.bias_in;  // bW + bR, folded into the input projection
  std::vector<float>& gx = ws.gx;
  std::vector<float>& hbuf = ws.hbuf;
  std::vector<float>& cbuf = ws.cbuf;
  std::vector<float>& aux = ws.aux;
  std::vector<float>& zeros_h = ws.zeros_h;
  std::vector<float>& zeros_c = ws.zeros_c;
  zeros_h.assign(B * Hout, 0.0f);
  zeros_c.assign(B * H, 0.0f);
  PackedDir& packed = ws.packed;
  PackedMatrix& packed_w = ws.packed_w;
  const int nth = num_threads();

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
    std::memset(layer_out, 0, T * B * D * Hout * sizeof(float));

    for (size_t d = 0; d < D; ++d) {
      const bool reverse = d == 1 || c.reverse;
      const size_t slot = l * D + d;
      const DirWeights w = dir_weights(c, params, (int)l, (int)d);
      const CellSpec spec = cell_spec(c, (int)d);
      const SavedLayout::Dir* sv = saved ? &layout.dirs[slot] : nullptr;
      pack_direction(packed, c.cell, w, spec, false, B);

      // Input projection of every step: Gx = Xs·Wᵀ + bW.
      const float* xsp = layer_in;
      if (!map.identity(reverse)) {
        xs.resize(T * B * I);
        gather_steps(xs.data(), layer_in, I, 0, I, map, reverse);
        xsp = xs.data();
      }
      float* z_all;
      if (sv) {
        z_all = saved + sv->z;
      } else {
        gx.resize(T * B * GH);
        z_all = gx.data();
      }
      // Biases: b = bW + bR (all but GRU reset_after's bR_n, which r multiplies). When W is
      // packed, b rides along as an extra row, [Xs | 1]·[W | b]ᵀ, so no pass over Gx or over
      // each step's z adds it; with one or two rows (streaming) it is added after the dots.
      const bool has_bias = w.bW != nullptr;
      if (has_bias) {
        bias_in.resize(GH);
        const bool keep_rn = c.cell == CellType::kGru && c.reset_after;
        for (size_t g = 0; g < GH; ++g) bias_in[g] = keep_rn && g >= 2 * H ? w.bW[g] : w.bW[g] + w.bR[g];
      }
      const bool dot_path = T * B <= kDotMaxRows;
      size_t K = I;
      if (dot_path) {
        packed_w.view_transposed(I, GH, w.W, I);
      } else {
        packed_w.pack(true, I, GH, w.W, I, has_bias ? bias_in.data() : nullptr);
        if (has_bias) {
          K = I + 1;
          xa.resize(T * B * K);
          for (size_t r = 0; r < T * B; ++r) {
            std::memcpy(&xa[r * K], xsp + r * I, I * sizeof(float));
            xa[r * K + I] = 1.0f;
          }
          xsp = xa.data();
        }
      }

      // State histories (training) or two rotating buffers (inference).
      const float* h_init = h0 ? h0 + slot * B * Hout : zeros_h.data();
      const float* c_init = c0 ? c0 + slot * B * H : zeros_c.data();
      float* hist_h;
      float* hist_c = nullptr;
      if (sv) {
        hist_h = saved + sv->h;
        if (lstm) hist_c = saved + sv->c;
      } else {
        hbuf.resize(2 * B * Hout);
        hist_h = hbuf.data();
        if (lstm) {
          cbuf.resize(2 * B * H);
          hist_c = cbuf.data();
        }
        aux.resize(B * H);
      }
      std::memcpy(hist_h, h_init, B * Hout * sizeof(float));
      if (lstm) std::memcpy(hist_c, c_init, B * H * sizeof(float));

      // Everything below allocates nothing: it runs on the pool's threads.
      ThreadPool& pool = ThreadPool::instance();
      pool.run(nth, [&](int ith, int nthr) {
        const FlushDenormals ftz;
        const Par par{&pool, ith, nthr};
        size_t n0, n1;
        par.range(GH, kSplitAlign, &n0, &n1);
        gemm_packed(false, T * B, K, xsp, K, packed_w, z_all, GH, false, n0, n1);
        if (dot_path && has_bias && n1 > n0) add_row_vector(T * B, n1 - n0, bias_in.data() + n0, z_all + n0, GH, true);
        par.barrier();
        for (size_t s = 0; s < T; ++s) {
          // Training keeps every step; inference alternates between two slots.
          const size_t prev = sv ? s : s % 2, next = sv ? s + 1 : (s + 1) % 2;
          const float* h_prev = hist_h + prev * B * Hout;
          float* h_new = hist_h + next * B * Hout;
          float* aux_s = !cell_needs_aux(c) ? nullptr : sv ? saved + sv->aux + s * B * H : aux.data();
          StepIO io{z_all + s * B * GH, aux_s};
          const uint8_t* mask = map.mask(s);
          switch (c.cell) {
            case CellType::kLstm:
              lstm_step_forward(par, h_new, hist_c + next * B * H, io, h_prev, hist_c + prev * B * H, mask, w,
                                packed, spec, (int)B);
              break;
            case CellType::kGru: gru_step_forward(par, h_new, io, h_prev, mask, w, packed, spec, (int)B); break;
            case CellType::kRnn: rnn_step_forward(par, h_new, io, h_prev, mask, w, packed, spec, (int)B); break;
          }
          // This thread's columns of h go to the layer output at each sequence's time.
          size_t j0, j1;
          step_output_range(par, spec, &j0, &j1);
          for (size_t b = 0; b < B && j1 > j0; ++b) {
            if (!map.live(s, b)) continue;
            std::memcpy(layer_out + (map.time(s, b, reverse) * B + b) * D * Hout + d * Hout + j0,
                        h_new + b * Hout + j0, (j1 - j0) * sizeof(float));
          }
          par.barrier();
        }
      });
      const size_t last = sv ? T : T % 2;
      if (hN) std::memcpy(hN + slot * B * Hout, hist_h + last * B * Hout, B * Hout * sizeof(float));
      if (lstm && cN) std::memcpy(cN + slot * B * H, hist_c + last * B * H, B * H * sizeof(float));
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
  // Gradient of the current layer's output, time-major (T, B, D*Hout); zeros when dy is absent.
  std::vector<float>& dY = ws.dY;
  std::vector<float>& dX = ws.dX;
  dY.assign(T * B * D * Hout, 0.0f);
  if (dy) {
    if (dims.batch_first)
      swap_batch_time(dY.data(), dy, B, T, D * Hout);
    else
      std::memcpy(dY.data(), dy, dY.size() * sizeof(float));
  }

  std::vector<float>& xs = ws.xs;
  std::vector<float>& dxs = ws.dxs;
  std::vector<float>& dz = ws.dz;
  std::vector<float>& dzr = ws.dzr;
  std::vector<float>& dh_hist = ws.dh_hist;
  std::vector<float>& dh = ws.dh;
  std::vector<float>& dh_prev = ws.dh_prev;
  std::vector<float>& dh_tot = ws.dh_tot;
  std::vector<float>& dc = ws.dc;
  std::vector<float>& scratch = ws.scratch;
  dz.resize(T * B * GH);
  dzr.resize(gru ? T * B * GH : 0);
  dh_hist.resize(proj ? T * B * Hout : 0);
  dh.resize(B * Hout);
  dh_prev.resize(B * Hout);
  dh_tot.resize(B * Hout);
  dc.resize(lstm ? B * H : 0);
  scratch.resize(B * H);
  PackedDir& packed = ws.packed;
  PackedMatrix& pk_x = ws.pk_x;
  PackedMatrix& pk_h = ws.pk_h;
  PackedMatrix& pk_aux = ws.pk_aux;
  PackedMatrix& pk_wt = ws.pk_wt;
  const int nth = num_threads();

  for (size_t li = L; li-- > 0;) {
    const size_t I = layer_input_size(c, (int)li);
    const float* layer_in = li == 0 ? x0 : saved + layout.layer_out[li - 1];
    dX.assign(T * B * I, 0.0f);
    for (size_t d = 0; d < D; ++d) {
      const bool reverse = d == 1 || c.reverse;
      const size_t slot = li * D + d;
      const DirWeights w = dir_weights(c, params, (int)li, (int)d);
      DirGrads g = dir_grads(c, dparams, (int)li, (int)d);
      const CellSpec spec = cell_spec(c, (int)d);
      const SavedLayout::Dir& sv = layout.dirs[slot];
      pack_direction(packed, c.cell, w, spec, true, B);
      const float* z_all = saved + sv.z;
      const float* hist_h = saved + sv.h;
      const float* hist_c = lstm ? saved + sv.c : nullptr;
      const float* aux_all = cell_needs_aux(c) ? saved + sv.aux : nullptr;

      if (dhN)
        std::memcpy(dh.data(), dhN + slot * B * Hout, B * Hout * sizeof(float));
      else
        std::fill(dh.begin(), dh.end(), 0.0f);
      if (lstm) {
        if (dcN)
          std::memcpy(dc.data(), dcN + slot * B * H, B * H * sizeof(float));
        else
          std::fill(dc.begin(), dc.end(), 0.0f);
      }

      // Operands of the weight-gradient products, packed before the threads start.
      const size_t TB = T * B;
      const float* xsp = layer_in;
      if (!map.identity(reverse)) {
        xs.resize(TB * I);
        gather_steps(xs.data(), layer_in, I, 0, I, map, reverse);
        xsp = xs.data();
      }
      pk_x.pack(false, TB, I, xsp, I);
      pk_h.pack(false, TB, Hout, hist_h, Hout);
      if (aux_all && (proj || (gru && !c.reset_after))) pk_aux.pack(false, TB, H, aux_all, H);
      pk_wt.pack(false, GH, I, w.W, I);
      dxs.resize(TB * I);
      const float* dzrec = gru ? dzr.data() : dz.data();

      ThreadPool& pool = ThreadPool::instance();
      pool.run(nth, [&](int ith, int nthr) {
        const FlushDenormals ftz;
        const Par par{&pool, ith, nthr};
        float* dh_cur = dh.data();  // gradient of h at the current step (from later steps)
        float* dh_nxt = dh_prev.data();
        size_t j0, j1;
        step_output_range(par, spec, &j0, &j1);
        for (size_t s = T; s-- > 0;) {
          // This thread's columns of dh_tot = dh (from step s+1) + dY at this step's time.
          float* dht = proj ? dh_hist.data() + s * B * Hout : dh_tot.data();
          for (size_t b = 0; b < B; ++b) {
            float* row = dht + b * Hout;
            const float* carry = dh_cur + b * Hout;
            if (!map.live(s, b)) {
              std::memcpy(row + j0, carry + j0, (j1 - j0) * sizeof(float));
              continue;
            }
            const float* up = dY.data() + (map.time(s, b, reverse) * B + b) * D * Hout + d * Hout;
            for (size_t j = j0; j < j1; ++j) row[j] = carry[j] + up[j];
          }
          if (proj) par.barrier();  // the projection reads every column
          const uint8_t* mask = map.mask(s);
          const float* z = z_all + s * B * GH;
          const float* h_prev = hist_h + s * B * Hout;
          const float* aux = aux_all ? aux_all + s * B * H : nullptr;
          float* dzs = dz.data() + s * B * GH;
          switch (c.cell) {
            case CellType::kLstm:
              lstm_step_backward(par, dh_nxt, dc.data(), dzs, scratch.data(), dht, z, hist_c + s * B * H,
                                 hist_c + (s + 1) * B * H, mask, w, packed, g, spec, (int)B);
              break;
            case CellType::kGru:
              gru_step_backward(par, dh_nxt, dzs, dzr.data() + s * B * GH, scratch.data(), dht, z, aux, h_prev,
                                mask, packed, spec, (int)B);
              break;
            case CellType::kRnn:
              rnn_step_backward(par, dh_nxt, dzs, dht, z, mask, packed, spec, (int)B);
              break;
          }
          std::swap(dh_cur, dh_nxt);
          // Finished rows carried dh through; they must not reach dWp (their m is stale).
          if (proj && mask)
            for (size_t b = 0; b < B; ++b)
              if (!mask[b]) std::memset(dht + b * Hout + j0, 0, (j1 - j0) * sizeof(float));
          par.barrier();
        }
        if (ith == 0) {
          if (dh0) std::memcpy(dh0 + slot * B * Hout, dh_cur, B * Hout * sizeof(float));
          if (lstm && dc0) std::memcpy(dc0 + slot * B * H, dc.data(), B * H * sizeof(float));
        }

        // Weight gradients over all steps at once, each thread on its rows of the result.
        size_t r0, r1;
        par.range(GH, kSplitAlign, &r0, &r1);
        if (r1 > r0) {
          gemm_packed(true, r1 - r0, TB, dz.data() + r0, GH, pk_x, g.W + r0 * I, I, true);
          if (g.bW) accumulate_column_sums(TB, r1 - r0, dz.data() + r0, GH, g.bW + r0);
          if (gru && !c.reset_after) {
            // r and u rows see h_prev; the n rows see q = r⊙h_prev (saved in aux).
            const size_t split = std::min(std::max(r0, 2 * H), r1);
            if (split > r0) gemm_packed(true, split - r0, TB, dzrec + r0, GH, pk_h, g.R + r0 * Hout, Hout, true);
            if (r1 > split) gemm_packed(true, r1 - split, TB, dzrec + split, GH, pk_aux, g.R + split * Hout, Hout, true);
          } else {
            gemm_packed(true, r1 - r0, TB, dzrec + r0, GH, pk_h, g.R + r0 * Hout, Hout, true);
          }
          if (g.bR) accumulate_column_sums(TB, r1 - r0, dzrec + r0, GH, g.bR + r0);
        }
        if (proj) {
          par.range(Hout, kSplitAlign, &r0, &r1);
          if (r1 > r0) gemm_packed(true, r1 - r0, TB, dh_hist.data() + r0, Hout, pk_aux, g.Wp + r0 * H, H, true);
        }
        // dXs = dZ·W on this thread's rows, scattered back to each sequence's time.
        par.range(TB, kSplitAlign, &r0, &r1);
        if (r1 > r0) gemm_packed(false, r1 - r0, GH, dz.data() + r0 * GH, GH, pk_wt, dxs.data() + r0 * I, I, false);
        for (size_t row = r0; row < r1; ++row) {
          const size_t s = row / B, b = row % B;
          if (!map.live(s, b)) continue;
          float* dst = dX.data() + (map.time(s, b, reverse) * B + b) * I;
          const float* src = dxs.data() + row * I;
          for (size_t j = 0; j < I; ++j) dst[j] += src[j];
        }
      });
    }
    if (li > 0) dY.swap(dX);
  }
  if (dx) {
    if (dims.batch_first)
      swap_batch_time(dx, dX.data(), T, B, c.input_size);
    else
      std::memcpy(dx, dX.data(), dX.size() * sizeof(float));
  }
  return Status::Ok();
}

}  // namespace frnn
