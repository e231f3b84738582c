// oneDNN as a benchmark peer (optional: compiled only when CMake finds oneDNN and defines
// FRNN_HAVE_DNNL). No oneDNN types leak out, so bench_rnn.cc builds the same either way.
#pragma once

#include <memory>
#include <string>

namespace frnn_bench {

// One layer, one direction, with bias; time-major x [T,B,I], y [T,B,H], states [1,B,H].
struct PeerShape {
  bool lstm = true;          // false: GRU
  bool reset_after = true;   // GRU: true = lbr_gru (PyTorch), false = vanilla gru
  int T = 0, B = 0, I = 0, H = 0;
  // Inference in bf16: x, weights, y and h in bf16 (oneDNN's bf16 configuration; bias and c
  // stay f32). x is converted once at construction, y and hN back to f32 by outputs_to_f32(),
  // both outside the timed calls.
  bool bf16 = false;
  // Inference in int8 (oneDNN's u8 data / s8 weights configuration): static data scale 127 and
  // shift 128 (x and h in [-1, 1]), weights scaled per gate and output channel (max|w| -> 127),
  // bias, c and y f32, hN u8 (converted by outputs_to_f32()). x and h0 are quantized once at
  // construction, outside the timed calls.
  bool int8 = false;
};

// "oneDNN 2.6.3 (OpenMP, ...)"; or why it is absent.
std::string dnnl_description();
bool dnnl_compiled_in();
// Threads for the next oneDNN calls (OpenMP runtime: omp_set_num_threads).
void dnnl_set_num_threads(int n);

// A oneDNN forward (inference or training) + backward for one shape, on the caller's
// buffers (wrapped, never copied): x, y, hN, cN (LSTM), and for training dy, dx.
// Weights come in fused-rnn's flat layout (W [G*H,I], R [G*H,H], bW [G*H], bR [G*H];
// gate order LSTM i,f,g,o, GRU r,z,n) and are permuted + reordered ONCE here into the
// formats the primitives choose (format_tag::any), outside any timing.
class DnnlRnn {
 public:
  DnnlRnn(const PeerShape& s, bool train, const float* params, const float* x, float* y,
          float* hN, float* cN, const float* dy, float* dx);  // throws std::exception
  ~DnnlRnn();
  void run_infer();   // forward_inference primitive
  void outputs_to_f32();  // bf16, int8: y, hN of the last run_infer into the caller's f32 buffers
  void run_train();   // forward_training + backward (diff weights ACCUMULATE, like ours)
  void zero_diff_weights();
  // Diff weights of W and R converted to fused-rnn's layout (dW [G*H,I], dR [G*H,H]).
  void diff_weights_ours(float* dW, float* dR);
  // Diff bias in fused-rnn's layout (dbW [G*H], dbR [G*H]): where oneDNN has one bias block for
  // bW + bR, both get its gradient; lbr_gru's n gate has one block each.
  void diff_bias_ours(float* dbW, float* dbR);
  // dh0 [B*H] and (LSTM) dc0 [B*H] of the last backward.
  void diff_states(float* dh0, float* dc0) const;
  std::string formats() const;  // memory formats the primitives picked, for the log
  std::string impl_name() const;  // the forward primitive's implementation (e.g. "ref:any" on a fallback)

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace frnn_bench
