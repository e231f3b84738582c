// forward(): every layer, both directions, T steps (see driver.h for the step space).
#include <algorithm>
#include <cstdint>
#include <cstring>
#include <vector>

#include "seq/driver.h"
#include "seq/packed_weights.h"

namespace frnn {
namespace {

// Rows (steps × B) per block of the input projection: enough rows for the micro-kernel to
// reuse each W panel slice, few enough that the block's pre-activations stay in L2 until
// the steps add the recurrent product to them (one pass over all of Gx went to memory).
constexpr size_t kProjRows = 64;

// Per-thread scratch of forward(); every buffer is sized (and, where read before written,
// cleared) by the call that uses it. Capacity is kept between calls on the same thread: a
// large layer's buffers are tens of MB, and fresh pages cost a page fault each (5% of a
// large forward).
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

// The call: sizes, the training record (or nullptr), weights packed beforehand (or nullptr)
// and this thread's scratch.
struct ForwardCall : SeqCall {
  float* saved;
  const PackedWeights* packed;
  ForwardScratch& ws;
  ForwardCall(const RnnConfig& c, const float* params, SeqDims dims, const int32_t* lengths, float* saved_,
              const PackedWeights* packed_, ForwardScratch& ws_)
      : SeqCall(c, params, dims, lengths), saved(saved_), packed(packed_), ws(ws_) {}
};

// One direction of one layer, ready to run: everything a thread needs, nothing to allocate.
struct ForwardDir : DirBase {
  size_t K;
  size_t proj_steps;  // steps per block of the input projection
  bool dot_path, has_bias;
  // Streaming (T = 1, inference) with a fused step: the step's tiles project the input
  // themselves (step_in), so z never makes a round trip through memory and a barrier goes.
  bool fuse_input;
  StepInput step_in;
  bool bias_after;  // bW added to Gx after the product (dot path, bf16, int8), not riding along in it
  const SavedLayout::Dir* sv;  // this direction's record, or nullptr (inference)
  const float* xsp;    // step-ordered input, [Xs | 1] when the bias rides along
  const float* x_src;  // Xs to copy into [Xs | 1] (at xa), or nullptr
  float* xa;
  float* z_all;      // (T, B, GH) training; inference: two blocks of proj_steps steps
  float* hist_h;     // (T+1, B, Hout) training, else 2 rotating slots
  float* h_out;      // inference of one direction in time order: step s's h is row s of this
                     // (the layer output), not a slot copied there; else nullptr
  float* hist_c;
  // Inference: the states step 0 reads in place (h0, c0 or zeros), or nullptr (copied to slot 0).
  const float* h_first;
  const float* c_first;
  float* aux;        // inference: one step's aux
  float* layer_out;  // (T, B, D*Hout): this direction's columns d*Hout ..
  // The operands of the products: packed by this call (in ws) or beforehand (call.packed).
  const PackedMatrix* w_in;
  const PackedDir* rec;
  const float* bias_in;  // GH folded biases (bias_after: added after the products), or nullptr
  ForwardDirScratch* ws;

  // Pre-activations of step s: every step in training, two blocks in turn in inference.
  float* z_step(size_t s, size_t B, size_t GH) const {
    const size_t at = sv ? s : (s / proj_steps) % 2 * proj_steps + s % proj_steps;
    return z_all + at * B * GH;
  }
};

// Gx = Xs·Wᵀ + bW: the step-ordered input, the packed (or viewed) W, and the biases.
void plan_projection(const ForwardCall& call, ForwardDir& fd, const float* layer_in, size_t I) {
  const size_t T = call.T, B = call.B, GH = call.GH;
  ForwardDirScratch& dw = *fd.ws;
  fd.xsp = layer_in;
  if (!call.map.identity(fd.reverse)) {
    dw.xs.resize(T * B * I);
    gather_steps(dw.xs.data(), layer_in, I, 0, I, call.map, fd.reverse);
    fd.xsp = dw.xs.data();
  }
  // Steps per input-projection block (see run_forward_dir); inference keeps two blocks.
  fd.proj_steps = T * B <= kDotMaxRows ? T : std::min(T, (kProjRows + B - 1) / B);
  if (fd.sv) {
    fd.z_all = call.saved + fd.sv->z;
  } else {
    dw.gx.resize(std::min(T, 2 * fd.proj_steps) * B * GH);
    fd.z_all = dw.gx.data();
  }
  // Biases: b = bW + bR (all but GRU reset_after's bR_n, which r multiplies). When W is
  // packed, b rides along as an extra row, [Xs | 1]·[W | b]ᵀ, so no pass over Gx or over
  // each step's z adds it; with one or two rows (streaming) it is added after the dots.
  fd.has_bias = fd.w.bW != nullptr;
  // bf16 and int8 products always pack W (to bf16 pairs, to s8) and keep the bias in
  // float32, added after.
  const bool reduced = call.c.precision != Precision::kFp32;
  fd.dot_path = T * B <= kDotMaxRows && !reduced;
  fd.bias_after = fd.has_bias && (fd.dot_path || reduced);
  fd.K = I;
  fd.x_src = nullptr;
  const bool cached_w = call.packed && !fd.dot_path;
  fd.w_in = cached_w ? &call.packed->dirs[fd.slot].w_in : &dw.packed_w;
  fd.bias_in = nullptr;
  if (fd.has_bias && cached_w) {
    fd.bias_in = call.packed->dirs[fd.slot].bias_in.data();
  } else if (fd.has_bias) {
    dw.bias_in.resize(GH);
    fold_input_bias(call.c, fd.w, dw.bias_in.data());
    fd.bias_in = dw.bias_in.data();
  }
  if (fd.dot_path) {
    dw.packed_w.view_transposed(I, GH, fd.w.W, I);
  } else if (reduced) {
    if (!cached_w) dw.jobs.pack_reduced(call.c.precision, dw.packed_w, true, I, GH, fd.w.W, I);
  } else {
    if (!cached_w) dw.jobs.pack(dw.packed_w, true, I, GH, fd.w.W, I, fd.bias_in);
    if (fd.has_bias) {  // the threads copy Xs into [Xs | 1]
      fd.K = I + 1;
      dw.xa.resize(T * B * fd.K);
      fd.x_src = fd.xsp;
      fd.xa = dw.xa.data();
      fd.xsp = fd.xa;
    }
  }
}

// Whether [a, a + na) and [b, b + nb) share memory (addresses compared as integers).
bool overlaps(const float* a, size_t na, const float* b, size_t nb) {
  const uintptr_t a0 = reinterpret_cast<uintptr_t>(a), b0 = reinterpret_cast<uintptr_t>(b);
  return a0 < b0 + nb * sizeof(float) && b0 < a0 + na * sizeof(float);
}

// State histories (training) or two rotating buffers (inference), from h0, c0 (or zeros).
// Inference reads h0 and c0 in place at step 0 (a streaming step then copies no state in),
// unless they share memory with the output the steps write.
void plan_states(const ForwardCall& call, ForwardDir& fd, const float* h0, const float* c0) {
  const size_t B = call.B, H = call.H, Hout = call.Hout;
  ForwardDirScratch& dw = *fd.ws;
  const float* h_init = h0 ? h0 + fd.slot * B * Hout : call.ws.zeros_h.data();
  const float* c_init = c0 ? c0 + fd.slot * B * H : call.ws.zeros_c.data();
  fd.hist_c = nullptr;
  fd.aux = nullptr;
  if (fd.sv) {
    fd.hist_h = call.saved + fd.sv->h;
    if (call.lstm) fd.hist_c = call.saved + fd.sv->c;
  } else {
    dw.hbuf.resize(2 * B * Hout);
    fd.hist_h = dw.hbuf.data();
    if (call.lstm) {
      dw.cbuf.resize(2 * B * H);
      fd.hist_c = dw.cbuf.data();
    }
    dw.aux.resize(B * H);
    fd.aux = dw.aux.data();
  }
  const size_t out_size = call.T * B * call.D * Hout;
  fd.h_first = !fd.sv && !overlaps(h_init, B * Hout, fd.layer_out, out_size) ? h_init : nullptr;
  fd.c_first = call.lstm && !fd.sv && !overlaps(c_init, B * H, fd.layer_out, out_size) ? c_init : nullptr;
  if (!fd.h_first) std::memcpy(fd.hist_h, h_init, B * Hout * sizeof(float));
  fd.h_out = !fd.sv && call.D == 1 && call.map.identity(fd.reverse) ? fd.layer_out : nullptr;
  if (call.lstm && !fd.c_first) std::memcpy(fd.hist_c, c_init, B * H * sizeof(float));
}

ForwardDir plan_forward_dir(const ForwardCall& call, size_t l, size_t d, const float* layer_in, float* layer_out,
                            const float* h0, const float* c0) {
  ForwardDir fd;
  fd.ws = &call.ws.dir[d];
  // Weights packed beforehand serve the products a call of this many rows would pack.
  const bool cached_rec = call.packed && (call.B > kDotMaxRows || call.c.precision != Precision::kFp32);
  static_cast<DirBase&>(fd) = plan_dir(call, l, d, false, fd.ws->jobs, fd.ws->packed, !cached_rec);
  fd.rec = cached_rec ? &call.packed->dirs[fd.slot].rec : &fd.ws->packed;
  fd.sv = call.saved ? &call.layout.dirs[fd.slot] : nullptr;
  fd.layer_out = layer_out;
  plan_projection(call, fd, layer_in, layer_input_size(call.c, (int)l));
  plan_states(call, fd, h0, c0);
  fd.fuse_input = !fd.sv && call.T == 1 && !fd.dot_path && fused_step_fits(fd.spec, *fd.rec) && gemm_single_pass(fd.K);
  fd.step_in = StepInput{fd.xsp, fd.K, fd.w_in};
  return fd;
}

// Columns of Gx a thread projects: its share of GH, or with a fused step the columns of its
// hidden units in every gate, the ones its steps read (z stays in its cache).
struct ProjCols {
  size_t n0, n1, stride;  // columns [g0 + n0, g0 + n1) for g0 = 0, stride, .. < GH
};

// Gx = Xs·Wᵀ + bW for the block of steps from s0, this thread's columns.
void project_block(const ForwardCall& call, const ForwardDir& fd, const ProjCols& pc, size_t s0) {
  const size_t B = call.B, GH = call.GH;
  const size_t rows = (std::min(call.T, s0 + fd.proj_steps) - s0) * B;
  float* z = fd.z_step(s0, B, GH);
  // bias_after: the product adds bW itself (bf16 and int8 in their kernels' epilogue).
  for (size_t g0 = 0; g0 < GH; g0 += pc.stride)
    gemm_packed(false, rows, fd.K, fd.xsp + s0 * B * fd.K, fd.K, *fd.w_in, z, GH, false, g0 + pc.n0, g0 + pc.n1,
                fd.bias_after ? fd.bias_in : nullptr);
}

// Step s: the cell (recurrent product + gate math), then this thread's columns of h to the
// layer output at each sequence's time.
void forward_step(const Par& par, const ForwardCall& call, const ForwardDir& fd, size_t s) {
  const size_t B = call.B, H = call.H, Hout = call.Hout;
  // Training keeps every step; inference alternates between two slots.
  const size_t prev = fd.sv ? s : s % 2, next = fd.sv ? s + 1 : (s + 1) % 2;
  const float* h_prev = s == 0 && fd.h_first ? fd.h_first
                       : fd.h_out && s > 0 ? fd.h_out + (s - 1) * B * Hout
                                           : fd.hist_h + prev * B * Hout;
  const float* c_prev = !call.lstm ? nullptr : s == 0 && fd.c_first ? fd.c_first : fd.hist_c + prev * B * H;
  float* h_new = fd.h_out ? fd.h_out + s * B * Hout : fd.hist_h + next * B * Hout;
  float* aux_s = !cell_needs_aux(call.c) ? nullptr : fd.sv ? call.saved + fd.sv->aux + s * B * H : fd.aux;
  StepIO io{fd.z_step(s, B, call.GH), aux_s, fd.fuse_input ? &fd.step_in : nullptr};
  const uint8_t* mask = call.map.mask(s);
  switch (call.c.cell) {
    case CellType::kLstm:
      lstm_step_forward(par, h_new, fd.hist_c + next * B * H, io, h_prev, c_prev, mask, fd.w,
                        *fd.rec, fd.spec, (int)B);
      break;
    case CellType::kGru: gru_step_forward(par, h_new, io, h_prev, mask, fd.w, *fd.rec, fd.spec, (int)B); break;
    case CellType::kRnn: rnn_step_forward(par, h_new, io, h_prev, mask, fd.w, *fd.rec, fd.spec, (int)B); break;
  }
  size_t j0, j1;
  step_output_range(par, fd.spec, &j0, &j1);
  if (fd.h_out) j1 = j0;  // already there
  for (size_t b = 0; b < B && j1 > j0; ++b) {
    if (!call.map.live(s, b)) continue;
    std::memcpy(fd.layer_out + (call.map.time(s, b, fd.reverse) * B + b) * call.D * Hout + fd.d * Hout + j0,
                h_new + b * Hout + j0, (j1 - j0) * sizeof(float));
  }
}

// One direction on a group of threads: the shared setup, the input projection, then step
// after step. Allocates nothing: it runs on the pool's threads.
void run_forward_dir(const Par& par, const ForwardCall& call, const ForwardDir& fd) {
  const size_t T = call.T, B = call.B;
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
  fd.ws->jobs.fill(par);  // (ends with a barrier)
  const bool fused = fused_step_fits(fd.spec, *fd.rec);
  ProjCols pc;
  pc.stride = fused ? call.H : call.GH;
  par.range(pc.stride, kSplitAlign, &pc.n0, &pc.n1);
  // A block is projected at the end of the step before it (before that step's barrier), so
  // its z rows are still in cache when the steps add the recurrent product to them.
  if (!fd.fuse_input) {
    project_block(call, fd, pc, 0);
    par.barrier();
  }
  for (size_t s = 0; s < T; ++s) {
    forward_step(par, call, fd, s);
    if ((s + 1) % fd.proj_steps == 0 && s + 1 < T) project_block(call, fd, pc, s + 1);
    par.barrier();
  }
}

// The final states hN, cN of one direction.
void finish_forward_dir(const ForwardCall& call, const ForwardDir& fd, float* hN, float* cN) {
  const size_t T = call.T, B = call.B, H = call.H, Hout = call.Hout;
  const size_t last = fd.sv ? T : T % 2;
  const float* h_last = fd.h_out ? fd.h_out + (T - 1) * B * Hout : fd.hist_h + last * B * Hout;
  if (hN) std::memcpy(hN + fd.slot * B * Hout, h_last, B * Hout * sizeof(float));
  if (call.lstm && cN) std::memcpy(cN + fd.slot * B * H, fd.hist_c + last * B * H, B * H * sizeof(float));
}

// Where layer l writes: y (time-major) for the last layer, the record in training, else one
// of two ping-pong buffers.
float* layer_output(const ForwardCall& call, size_t l, float* y_tm) {
  if (l + 1 == call.L) return y_tm;
  if (call.saved) return call.saved + call.layout.layer_out[l];
  std::vector<float>& buf = call.ws.layer_buf[l % 2];
  buf.resize(call.T * call.B * call.D * call.Hout);
  return buf.data();
}

}  // namespace

Status forward(const RnnConfig& c, const float* params, SeqDims dims, const float* x,
               const int32_t* lengths, const float* h0, const float* c0, float* y, float* hN,
               float* cN, float* saved, const PackedWeights* packed) {
  Status st = check_call(c, dims);
  if (st.ok && saved && c.precision == Precision::kInt8)
    st = Status::Error("int8 is inference only: a training forward needs fp32 or bf16");
  if (st.ok) st = check_lengths(dims, lengths);
  if (!st.ok) return st;
  thread_local ForwardScratch ws;
  const ForwardCall call(c, params, dims, lengths, saved, saved ? nullptr : packed, ws);
  const size_t T = call.T, B = call.B, D = call.D, Hout = call.Hout;
  // Time-major views of x and y.
  const float* layer_in = x;
  float* y_tm = y;
  if (dims.batch_first) {
    ws.x_tm.resize(T * B * c.input_size);
    swap_batch_time(ws.x_tm.data(), x, B, T, c.input_size);
    layer_in = ws.x_tm.data();
    ws.y_tm.resize(T * B * D * Hout);
    y_tm = ws.y_tm.data();
  }
  if (!h0) ws.zeros_h.assign(B * Hout, 0.0f);
  if (!c0) ws.zeros_c.assign(B * call.H, 0.0f);
  const int nth = num_threads();
  for (size_t l = 0; l < call.L; ++l) {
    float* layer_out = layer_output(call, l, y_tm);
    // Steps write the outputs of live (step, sequence) pairs: only finished sequences leave
    // rows that must read 0 (a 13 MB memset on `large` otherwise).
    if (!call.map.active.empty()) std::memset(layer_out, 0, T * B * D * Hout * sizeof(float));
    ForwardDir fds[2];
    for (size_t d = 0; d < D; ++d) fds[d] = plan_forward_dir(call, l, d, layer_in, layer_out, h0, c0);
    // The directions share nothing but disjoint columns of the layer output.
    run_directions(ThreadPool::instance(), nth, D,
                   [&](const Par& par, size_t d) { run_forward_dir(par, call, fds[d]); });
    for (size_t d = 0; d < D; ++d) finish_forward_dir(call, fds[d], hN, cN);
    layer_in = layer_out;
  }
  if (dims.batch_first) swap_batch_time(y, y_tm, T, B, D * Hout);
  return Status::Ok();
}

}  // namespace frnn
