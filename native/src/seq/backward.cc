// backward(): every layer from the top, both directions, T steps back (see driver.h).
#include <algorithm>
#include <cstring>
#include <vector>

#include "gemm/gemm_bf16.h"
#include "seq/driver.h"

namespace frnn {
namespace {

// Per-thread scratch of backward() (capacity kept between calls, see forward.cc).
struct BackwardDirScratch {
  std::vector<float> xs, dxs, dz, dzr, dh_hist, dh, dh_prev, dh_tot, dc, scratch, bias_sums;
  AlignedFloats dz_strips, dzr_strips;  // dZᵀ (and GRU reset_after's recurrent dZᵀ) in ppmm strips
  // bf16: dZ (and dZr) packed a step at a time as the B of the transposed weight-gradient
  // products; their A: [Xᵀ; Hᵀ; (GRU reset_before) Qᵀ] as bf16 rows; dZr's column sums.
  // dZ's rows in bf16 too (the A of dX = dZ·W, converted as the step writes them; dZ itself
  // then needs only one step's rows).
  PackedBf16 dz16, dzr16;
  std::vector<bf16> at16, dz_rows16;
  std::vector<float> bias_r_sums;
  PackedDir packed;
  PackedMatrix pk_x, pk_h, pk_aux, pk_wt;
  PackJobs jobs;
};
struct BackwardScratch {
  std::vector<float> x_tm, dY, dX;
  BackwardDirScratch dir[2];
};

// The call: sizes, the record, the upstream gradients and how dZᵀ reaches the products.
struct BackwardCall : SeqCall {
  const float* saved;
  const float* dhN;
  const float* dcN;
  float* dh0;
  float* dc0;
  float* dparams;
  bool proj;      // LSTM with a projection
  // The weight gradients' dZᵀ goes into ppmm strips as each step writes dZ (hot in cache),
  // instead of a packing pass over all of dZ after the loop, when every product's first
  // row starts a strip: threads' rows start at multiples of kSplitAlign, GRU reset_before's
  // n rows at 2H.
  size_t mr;      // the strips' MR, or 0
  bool strips;
  size_t strip_floats;
  // The recurrent side's dZ of a GRU is kept for dR only with reset_after and no strips;
  // otherwise the step's own rows suffice.
  bool keep_dzr;
  // bf16: the weight gradients are bf16 products too (gemm_bf16_tn_add), dZ packed to bf16
  // as each step writes it; the strips are not used.
  bool bf16w;
  BackwardCall(const RnnConfig& c, const float* params, SeqDims dims, const int32_t* lengths, const float* saved_,
               const float* dhN_, const float* dcN_, float* dh0_, float* dc0_, float* dparams_)
      : SeqCall(c, params, dims, lengths), saved(saved_), dhN(dhN_), dcN(dcN_), dh0(dh0_), dc0(dc0_), dparams(dparams_) {
    proj = lstm && c.proj_size > 0;
    bf16w = c.precision == Precision::kBf16;
    mr = gemm_config().pack_strips ? gemm_config().mr : 0;
    strips = !bf16w && mr && kSplitAlign % mr == 0 && (!gru || c.reset_after || 2 * H % mr == 0);
    strip_floats = strips ? (GH + mr - 1) / mr * mr * T * B : 0;
    keep_dzr = gru && c.reset_after && !strips && !bf16w;
  }
};

// One direction of one layer, ready to back-propagate.
struct BackwardDir : DirBase {
  size_t I;              // the layer's input size
  DirGrads g;
  const float* z_all;    // (T, B, GH) saved pre-activations
  const float* hist_h;   // (T+1, B, Hout)
  const float* hist_c;   // (T+1, B, H) LSTM
  const float* aux_all;  // (T, B, H) or nullptr
  const float* xs;       // (T, B, I) the layer's input in step order
  size_t ld16;           // bf16: at16's row stride (T·B rounded up to even)
  BackwardDirScratch* ws;
};

// The direction's record, its step buffers and upstream state gradients, and (planned in
// its jobs, packed by the threads) the operands of the weight-gradient products.
BackwardDir plan_backward_dir(const BackwardCall& call, BackwardScratch& ws, size_t li, size_t d,
                              const float* layer_in) {
  const RnnConfig& c = call.c;
  const size_t TB = call.T * call.B, B = call.B, H = call.H, Hout = call.Hout, GH = call.GH;
  const size_t I = layer_input_size(c, (int)li);
  BackwardDir bd;
  BackwardDirScratch& dw = ws.dir[d];
  bd.ws = &dw;
  static_cast<DirBase&>(bd) = plan_dir(call, li, d, true, dw.jobs, dw.packed);
  bd.I = I;
  bd.g = dir_grads(c, call.dparams, (int)li, (int)d);
  const SavedLayout::Dir& sv = call.layout.dirs[bd.slot];
  bd.z_all = call.saved + sv.z;
  bd.hist_h = call.saved + sv.h;
  bd.hist_c = call.lstm ? call.saved + sv.c : nullptr;
  bd.aux_all = cell_needs_aux(c) ? call.saved + sv.aux : nullptr;
  dw.dz.resize(call.bf16w ? B * GH : TB * GH);
  dw.dzr.resize(call.keep_dzr ? TB * GH : call.gru ? B * GH : 0);
  dw.dz_strips.resize(call.strip_floats);
  dw.dzr_strips.resize(call.gru && c.reset_after ? call.strip_floats : 0);
  dw.dh_hist.resize(call.proj ? TB * Hout : 0);
  dw.dh_prev.resize(B * Hout);
  dw.dh_tot.resize(B * Hout);
  dw.scratch.resize(B * H);
  dw.bias_sums.resize(GH);
  if (call.dhN)
    dw.dh.assign(call.dhN + bd.slot * B * Hout, call.dhN + (bd.slot + 1) * B * Hout);
  else
    dw.dh.assign(B * Hout, 0.0f);
  if (call.lstm && call.dcN)
    dw.dc.assign(call.dcN + bd.slot * B * H, call.dcN + (bd.slot + 1) * B * H);
  else
    dw.dc.assign(call.lstm ? B * H : 0, 0.0f);

  // Operands of the weight-gradient products, packed by the threads as they start.
  const float* xsp = layer_in;
  if (!call.map.identity(bd.reverse)) {
    dw.xs.resize(TB * I);
    gather_steps(dw.xs.data(), layer_in, I, 0, I, call.map, bd.reverse);
    xsp = dw.xs.data();
  }
  bd.xs = xsp;
  bd.ld16 = (TB + 1) / 2 * 2;
  if (call.bf16w) {
    // dX = dZ·W and the weight gradients in bf16; dWp (projection) stays an fp32 product.
    const size_t nr = bf16_gemm_config().nr;
    dw.dz16.shape(TB, GH, nr);
    if (call.gru && c.reset_after) dw.dzr16.shape(TB, GH, nr);
    dw.at16.resize((I + Hout + (call.gru && !c.reset_after ? H : 0)) * bd.ld16);
    const size_t ldz = (GH + 1) / 2 * 2;
    dw.dz_rows16.resize(TB * ldz);
    for (size_t r = 0; ldz > GH && r < TB; ++r) dw.dz_rows16[r * ldz + GH] = 0;  // odd GH: k's padding
    dw.bias_sums.assign(GH, 0.0f);
    dw.bias_r_sums.assign(call.gru && c.reset_after ? GH : 0, 0.0f);
    if (call.proj) dw.jobs.pack(dw.pk_aux, false, TB, H, bd.aux_all, H);
    dw.jobs.pack_bf16(dw.pk_wt, false, GH, I, bd.w.W, I);
  } else {
    dw.jobs.pack(dw.pk_x, false, TB, I, xsp, I);
    dw.jobs.pack(dw.pk_h, false, TB, Hout, bd.hist_h, Hout);
    if (bd.aux_all && (call.proj || (call.gru && !c.reset_after))) dw.jobs.pack(dw.pk_aux, false, TB, H, bd.aux_all, H);
    dw.jobs.pack(dw.pk_wt, false, GH, I, bd.w.W, I);
  }
  dw.dxs.resize(TB * I);
  return bd;
}

// This thread's columns [j0, j1) of dh_tot = dh (from step s+1) + dY at step s's time.
void add_output_grad(const BackwardCall& call, const BackwardDir& bd, size_t s, const float* dh_cur,
                     const float* dy_layer, float* dht, size_t j0, size_t j1) {
  const size_t B = call.B, Hout = call.Hout;
  for (size_t b = 0; b < B; ++b) {
    float* row = dht + b * Hout;
    const float* carry = dh_cur + b * Hout;
    if (!call.map.live(s, b)) {
      std::memcpy(row + j0, carry + j0, (j1 - j0) * sizeof(float));
      continue;
    }
    const float* up = dy_layer + (call.map.time(s, b, bd.reverse) * B + b) * call.D * Hout + bd.d * Hout;
    for (size_t j = j0; j < j1; ++j) row[j] = carry[j] + up[j];
  }
}

// The step's dZ is complete (the cell's last barrier): this thread's strips, the columns of
// its hidden units in every gate when they start strips (the dZ it wrote itself, still in
// its cache), else its share of GH.
void write_strips(const Par& par, const BackwardCall& call, BackwardDirScratch& dw, size_t s, const float* dzs) {
  const size_t H = call.H, GH = call.GH, TB = call.T * call.B;
  const size_t part = H % call.mr == 0 ? H : GH;
  size_t c0, c1;
  par.range(part, kSplitAlign, &c0, &c1);
  for (size_t g0 = 0; g0 < GH && c1 > c0; g0 += part) {
    pack_strip_rows(dw.dz_strips.data(), TB, s * call.B, call.B, dzs, GH, g0 + c0, g0 + c1);
    if (call.gru && call.c.reset_after)
      pack_strip_rows(dw.dzr_strips.data(), TB, s * call.B, call.B, dw.dzr.data(), GH, g0 + c0, g0 + c1);
  }
}

// bf16: the step's dZ is complete: this thread's columns (its hidden units in every gate)
// of its rows into the bf16 panels, and their column sums (the bias gradients: steps in
// decreasing s, rows in increasing b, whichever thread owns a column).
void pack_step_bf16(const Par& par, const BackwardCall& call, BackwardDirScratch& dw, size_t s, const float* dzs) {
  const size_t B = call.B, H = call.H, GH = call.GH;
  size_t c0, c1;
  par.range(H, kSplitAlign, &c0, &c1);
  const bool rec = call.gru && call.c.reset_after;
  const Bf16ConvertFn convert = bf16_gemm_config().convert;
  const size_t ldz = (GH + 1) / 2 * 2;
  for (size_t g0 = 0; g0 < GH && c1 > c0; g0 += H) {
    dw.dz16.pack_rows(s * B, B, dzs, GH, g0 + c0, g0 + c1);
    for (size_t b = 0; b < B; ++b)  // one row at a time: the converter pads up to ldo
      convert(1, c1 - c0, dzs + b * GH + g0 + c0, GH, dw.dz_rows16.data() + (s * B + b) * ldz + g0 + c0, c1 - c0);
    if (rec) dw.dzr16.pack_rows(s * B, B, dw.dzr.data(), GH, g0 + c0, g0 + c1);
    for (size_t b = 0; b < B; ++b) {
      const float* row = dzs + b * GH;
      float* sums = dw.bias_sums.data();
      for (size_t j = g0 + c0; j < g0 + c1; ++j) sums[j] += row[j];
      if (!rec) continue;
      const float* rrow = dw.dzr.data() + b * GH;
      float* rsums = dw.bias_r_sums.data();
      for (size_t j = g0 + c0; j < g0 + c1; ++j) rsums[j] += rrow[j];
    }
  }
}

// bf16: this thread's rows of [Xᵀ; Hᵀ; Qᵀ] (the A of the weight-gradient products), from the
// layer's input, the h record (h_prev of each step) and GRU reset_before's q = r⊙h_prev.
void transpose_inputs_bf16(const Par& par, const BackwardCall& call, const BackwardDir& bd) {
  const size_t TB = call.T * call.B, I = bd.I, Hout = call.Hout;
  BackwardDirScratch& dw = *bd.ws;
  const size_t rows = dw.at16.size() / bd.ld16;
  size_t r0, r1;
  par.range(rows, 16, &r0, &r1);
  struct Part {
    const float* src;
    size_t ld, begin, end;
  };
  const Part parts[3] = {{bd.xs, I, 0, I}, {bd.hist_h, Hout, I, I + Hout}, {bd.aux_all, call.H, I + Hout, rows}};
  for (const Part& pt : parts) {
    const size_t a = std::max(r0, pt.begin), e = std::min(r1, pt.end);
    if (a < e) bf16_gemm_config().convert_cols(TB, a - pt.begin, e - pt.begin, pt.src, pt.ld, dw.at16.data() + a * bd.ld16, bd.ld16);
  }
}

// Step s back: dh_tot, the cell's dz and dh_prev (into dh_nxt), dZᵀ strips.
void backward_step(const Par& par, const BackwardCall& call, const BackwardDir& bd, size_t s, const float* dh_cur,
                   float* dh_nxt, const float* dy_layer, DirGrads& g, size_t j0, size_t j1) {
  const size_t B = call.B, H = call.H, Hout = call.Hout, GH = call.GH;
  BackwardDirScratch& dw = *bd.ws;
  float* dht = call.proj ? dw.dh_hist.data() + s * B * Hout : dw.dh_tot.data();
  add_output_grad(call, bd, s, dh_cur, dy_layer, dht, j0, j1);
  if (call.proj) par.barrier();  // the projection reads every column
  const uint8_t* mask = call.map.mask(s);
  const float* z = bd.z_all + s * B * GH;
  const float* h_prev = bd.hist_h + s * B * Hout;
  const float* aux = bd.aux_all ? bd.aux_all + s * B * H : nullptr;
  float* dzs = dw.dz.data() + (call.bf16w ? 0 : s * B * GH);
  switch (call.c.cell) {
    case CellType::kLstm:
      lstm_step_backward(par, dh_nxt, dw.dc.data(), dzs, dw.scratch.data(), dht, z, bd.hist_c + s * B * H,
                         bd.hist_c + (s + 1) * B * H, mask, bd.w, dw.packed, g, bd.spec, (int)B);
      break;
    case CellType::kGru:
      gru_step_backward(par, dh_nxt, dzs, dw.dzr.data() + (call.keep_dzr ? s * B * GH : 0), dw.scratch.data(), dht,
                        z, aux, h_prev, mask, dw.packed, bd.spec, (int)B);
      break;
    case CellType::kRnn: rnn_step_backward(par, dh_nxt, dzs, dht, z, mask, dw.packed, bd.spec, (int)B); break;
  }
  if (call.strips) write_strips(par, call, dw, s, dzs);
  if (call.bf16w) pack_step_bf16(par, call, dw, s, dzs);
  // Finished rows carried dh through; they must not reach dWp (their m is stale).
  if (call.proj && mask)
    for (size_t b = 0; b < B; ++b)
      if (!mask[b]) std::memset(dht + b * Hout + j0, 0, (j1 - j0) * sizeof(float));
}

// Rows [row0, row0 + rows) of dZᵀ (rec: of GRU reset_after's recurrent side) times each
// output's B: from the strips, or packed from dZ.
void dzt_product(const BackwardCall& call, const BackwardDirScratch& dw, bool rec, size_t row0, size_t rows,
                 const GemmOutput* outs, size_t n_outs, float* sums) {
  const size_t TB = call.T * call.B;
  rec = rec && call.gru && call.c.reset_after;
  if (call.strips)
    gemm_strips(rows, TB, (rec ? dw.dzr_strips : dw.dz_strips).data() + row0 * TB, outs, n_outs, true, sums);
  else
    gemm_packed(true, rows, TB, (rec ? dw.dzr.data() : dw.dz.data()) + row0, call.GH, outs, n_outs, true, sums);
}

// Weight gradients over all steps at once, each thread on its rows of the result; then
// dXs = dZ·W on this thread's rows (in step order; finish_backward_layer puts them in time).
void weight_grads(const Par& par, const BackwardCall& call, const BackwardDir& bd, DirGrads g) {
  const size_t TB = call.T * call.B, H = call.H, Hout = call.Hout, GH = call.GH;
  const size_t I = bd.I;
  BackwardDirScratch& dw = *bd.ws;
  // GRU reset_after's recurrent side has a dZ of its own; reset_before's equals dZ (r
  // multiplies h before R).
  const bool own_rec = call.gru && call.c.reset_after;
  size_t r0, r1;
  par.range(GH, kSplitAlign, &r0, &r1);
  // r and u rows of a GRU see h_prev, the n rows (reset_before) q = r⊙h_prev (aux).
  const size_t split = call.gru && !call.c.reset_after ? std::min(std::max(r0, 2 * H), r1) : r1;
  if (call.bf16w && r1 > r0) {
    // Transposed (gemm_bf16_tn_add): rows [r0, r1) of dW, dR are columns of dZ's panels.
    const bf16* xt = dw.at16.data();
    const bf16* ht = xt + I * bd.ld16;
    gemm_bf16_tn_add(I, xt, bd.ld16, dw.dz16, r0, r1, g.W, I);
    gemm_bf16_tn_add(Hout, ht, bd.ld16, own_rec ? dw.dzr16 : dw.dz16, r0, split, g.R, Hout);
    if (r1 > split) gemm_bf16_tn_add(H, ht + Hout * bd.ld16, bd.ld16, dw.dz16, split, r1, g.R, Hout);
    const float* rsums = own_rec ? dw.bias_r_sums.data() : dw.bias_sums.data();
    for (size_t r = r0; g.bW && r < r1; ++r) {
      g.bW[r] += dw.bias_sums[r];
      g.bR[r] += rsums[r];
    }
  } else if (r1 > r0 && !own_rec) {
    // dW and dR read the same dZᵀ (all but GRU reset_after, whose recurrent side has a dZ
    // of its own): one product per row range, A read once; bW and bR get the same sums.
    float* sums = g.bW ? dw.bias_sums.data() + r0 : nullptr;
    if (sums) std::memset(sums, 0, (r1 - r0) * sizeof(float));
    const GemmOutput h_outs[2] = {{&dw.pk_x, g.W + r0 * I, I}, {&dw.pk_h, g.R + r0 * Hout, Hout}};
    const GemmOutput q_outs[2] = {{&dw.pk_x, g.W + split * I, I}, {&dw.pk_aux, g.R + split * Hout, Hout}};
    if (split > r0) dzt_product(call, dw, false, r0, split - r0, h_outs, 2, sums);
    if (r1 > split) dzt_product(call, dw, false, split, r1 - split, q_outs, 2, sums ? sums + (split - r0) : nullptr);
    for (size_t r = 0; sums && r < r1 - r0; ++r) {
      g.bW[r0 + r] += sums[r];
      g.bR[r0 + r] += sums[r];
    }
  } else if (r1 > r0) {
    // Bias gradients (column sums of dZ) are taken as the products read dZᵀ.
    const GemmOutput w_out{&dw.pk_x, g.W + r0 * I, I}, h_out{&dw.pk_h, g.R + r0 * Hout, Hout};
    dzt_product(call, dw, false, r0, r1 - r0, &w_out, 1, g.bW ? g.bW + r0 : nullptr);
    dzt_product(call, dw, true, r0, r1 - r0, &h_out, 1, g.bR ? g.bR + r0 : nullptr);
  }
  if (call.proj) {
    par.range(Hout, kSplitAlign, &r0, &r1);
    if (r1 > r0) gemm_packed(true, r1 - r0, TB, dw.dh_hist.data() + r0, Hout, dw.pk_aux, g.Wp + r0 * H, H, true);
  }
  par.range(TB, kSplitAlign, &r0, &r1);
  if (r1 > r0 && call.bf16w) {
    const size_t ldz = (GH + 1) / 2 * 2;
    gemm_bf16_packed16(r1 - r0, dw.dz_rows16.data() + r0 * ldz, ldz, dw.pk_wt.bf16_panels(), dw.dxs.data() + r0 * I, I,
                       false);
  } else if (r1 > r0) {
    gemm_packed(false, r1 - r0, GH, dw.dz.data() + r0 * GH, GH, dw.pk_wt, dw.dxs.data() + r0 * I, I, false);
  }
}

// One direction on a group of threads: the steps backwards, dh0 and dc0, then the weight
// gradients and dXs. Allocates nothing.
void run_backward_dir(const Par& par, const BackwardCall& call, const BackwardDir& bd, const float* dy_layer) {
  const size_t B = call.B, H = call.H, Hout = call.Hout;
  BackwardDirScratch& dw = *bd.ws;
  dw.jobs.fill(par);  // this thread's panels of every packed operand (ends with a barrier)
  if (call.bf16w) transpose_inputs_bf16(par, call, bd);  // read after the steps' barriers
  DirGrads g = bd.g;
  float* dh_cur = dw.dh.data();  // gradient of h at the current step (from later steps)
  float* dh_nxt = dw.dh_prev.data();
  size_t j0, j1;
  step_output_range(par, bd.spec, &j0, &j1);
  for (size_t s = call.T; s-- > 0;) {
    backward_step(par, call, bd, s, dh_cur, dh_nxt, dy_layer, g, j0, j1);
    std::swap(dh_cur, dh_nxt);
    par.barrier();
  }
  if (par.ith == 0) {
    if (call.dh0) std::memcpy(call.dh0 + bd.slot * B * Hout, dh_cur, B * Hout * sizeof(float));
    if (call.lstm && call.dc0) std::memcpy(call.dc0 + bd.slot * B * H, dw.dc.data(), B * H * sizeof(float));
  }
  weight_grads(par, call, bd, g);
}

// dX[t, b] = Σ_d dXs_d at the step that read time t (forward first, a fixed order), into
// dx_layer (T, B, I).
void finish_backward_layer(const BackwardCall& call, const BackwardDir* bds, size_t I, float* dx_layer) {
  const size_t TB = call.T * call.B, B = call.B;
  ThreadPool& pool = ThreadPool::instance();
  pool.run(num_threads(), [&](int ith, int nthr) {
    const Par par{&pool.barrier(), ith, nthr};
    size_t r0, r1;
    par.range(TB, kSplitAlign, &r0, &r1);
    for (size_t row = r0; row < r1; ++row) {
      const size_t t = row / B, b = row % B;
      float* dst = dx_layer + row * I;
      std::memset(dst, 0, I * sizeof(float));
      if (!call.map.live(t, b)) continue;  // t < len_b: live in both directions
      for (size_t d = 0; d < call.D; ++d) {
        const float* src = bds[d].ws->dxs.data() + (call.map.time(t, b, bds[d].reverse) * B + b) * I;
        for (size_t j = 0; j < I; ++j) dst[j] += src[j];
      }
    }
  });
}

}  // namespace

Status backward(const RnnConfig& c, const float* params, SeqDims dims, const float* x,
                const int32_t* lengths, const float* h0, const float* c0, const float* saved,
                const float* dy, const float* dhN, const float* dcN, float* dx, float* dh0,
                float* dc0, float* dparams) {
  (void)h0;
  (void)c0;
  Status st = check_call(c, dims);
  if (st.ok && !saved) st = Status::Error("Expected the training record of a forward pass");
  if (st.ok && c.precision == Precision::kInt8)
    st = Status::Error("int8 is inference only: backward needs fp32 or bf16");
  if (st.ok) st = check_lengths(dims, lengths);
  if (!st.ok) return st;
  const BackwardCall call(c, params, dims, lengths, saved, dhN, dcN, dh0, dc0, dparams);
  const size_t T = call.T, B = call.B, TB = T * B, DHout = call.D * call.Hout;
  thread_local BackwardScratch ws;
  const float* x_layer = x;  // time-major x
  if (dims.batch_first) {
    ws.x_tm.resize(T * B * c.input_size);
    swap_batch_time(ws.x_tm.data(), x, B, T, c.input_size);
    x_layer = ws.x_tm.data();
  }
  // Gradient of the current layer's output, time-major (T, B, D*Hout): the caller's dy when
  // it is time-major, else in dY (zeros when dy is absent). Lower layers read dY, what the
  // layer above left in dX.
  const float* dy_layer = dy;
  if (!dy || dims.batch_first) {
    ws.dY.resize(TB * DHout);
    if (!dy)
      std::fill(ws.dY.begin(), ws.dY.end(), 0.0f);
    else
      swap_batch_time(ws.dY.data(), dy, B, T, DHout);
    dy_layer = ws.dY.data();
  }
  const int nth = num_threads();
  for (size_t li = call.L; li-- > 0;) {
    const size_t I = layer_input_size(c, (int)li);
    const float* layer_in = li == 0 ? x_layer : saved + call.layout.layer_out[li - 1];
    BackwardDir bds[2];
    for (size_t d = 0; d < call.D; ++d) bds[d] = plan_backward_dir(call, ws, li, d, layer_in);
    // The directions write disjoint gradients; their input gradients meet below.
    run_directions(ThreadPool::instance(), nth, call.D,
                   [&](const Par& par, size_t d) { run_backward_dir(par, call, bds[d], dy_layer); });
    // The first layer's dX goes straight into the caller's dx when it is time-major.
    const bool into_dx = li == 0 && dx && !dims.batch_first;
    if (!into_dx) ws.dX.resize(TB * I);
    finish_backward_layer(call, bds, I, into_dx ? dx : ws.dX.data());
    if (li > 0) {
      ws.dY.swap(ws.dX);
      dy_layer = ws.dY.data();
    }
  }
  if (dx && dims.batch_first) swap_batch_time(dx, ws.dX.data(), T, B, c.input_size);
  return Status::Ok();
}

}  // namespace frnn
