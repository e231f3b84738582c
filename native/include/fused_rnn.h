// fused-rnn kernel library: the C++ API (plain pointers and sizes, no Node types).
//
// One call runs a whole stack (layers x directions) over a whole sequence.
// Weights of the stack live in ONE flat float buffer whose layout param_layout()
// describes; gradients use the same layout. Internal gate order is PyTorch's
// (LSTM i,f,g,o; GRU r,z,n); importers in lib/ permute other orders into it.
#pragma once

#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

namespace frnn {

enum class CellType : int32_t { kLstm = 0, kGru = 1, kRnn = 2 };

// Number format of the matrix products of forward() and backward(). kBf16: weights and the
// products' inputs rounded to bfloat16, every sum, the gate math and the states in float32
// (README, Precision); backward() must get the precision of the forward that wrote `saved`,
// and keeps its weight-gradient products in float32. kInt8 (inference only: a training
// forward or backward is refused): weights s8 per output row, x and h u8 per row with
// dynamic scales, exact int32 sums dequantized in float32 (gemm/int8.h).
enum class Precision : int32_t { kFp32 = 0, kBf16 = 1, kInt8 = 2 };

// Activation functions: the ONNX list plus identity. alpha/beta as ONNX defines them.
enum class ActKind : int32_t {
  kSigmoid = 0,
  kTanh,
  kRelu,
  kIdentity,
  kHardSigmoid,      // min(max(alpha*x + beta, 0), 1)
  kAffine,           // alpha*x + beta
  kLeakyRelu,        // x >= 0 ? x : alpha*x
  kThresholdedRelu,  // x > alpha ? x : 0
  kScaledTanh,       // alpha*tanh(beta*x)
  kElu,              // x >= 0 ? x : alpha*(exp(x) - 1)
  kSoftsign,         // x / (1 + |x|)
  kSoftplus,         // log(1 + exp(x))
  kCount
};

struct Activation {
  ActKind kind = ActKind::kSigmoid;
  float alpha = 0.0f;
  float beta = 0.0f;
};

// Activation slots per direction: LSTM {gate: i,f,o; cell: g; hidden: h(c)},
// GRU {gate: z,r; cell: n}, RNN {gate: the nonlinearity}.
enum ActSlot : int { kActGate = 0, kActCell = 1, kActHidden = 2, kActSlots = 3 };

struct RnnConfig {
  CellType cell = CellType::kLstm;
  int32_t input_size = 0;      // I of layer 0
  int32_t hidden_size = 0;     // H
  int32_t proj_size = 0;       // P (LSTM projection, PyTorch LSTMP); 0 = none
  int32_t num_layers = 1;      // L
  int32_t num_directions = 1;  // D: 1 or 2
  bool reverse = false;        // D == 1 only: run the single direction backwards in time
  bool bias = true;            // false: no bias entries in the parameter buffer
  bool peephole = false;       // LSTM: ONNX peepholes (i,f on c[t-1]; o on c[t])
  bool input_forget = false;   // LSTM: ONNX coupled gates, f = 1 - i
  bool reset_after = true;     // GRU: true = PyTorch / ONNX linear_before_reset=1
  float gate_clip = 0.0f;      // > 0: clamp every gate pre-activation to [-clip, clip] (ONNX clip)
  float cell_clip = 0.0f;      // > 0: clamp c after each update (TF cell_clip)
  float forget_bias = 0.0f;    // LSTM: added to the f pre-activation at run time (TF)
  Precision precision = Precision::kFp32;  // of the matrix products (see Precision)
  Activation act[2][kActSlots];  // [direction][slot]
};

// Outcome of a call. The library never aborts on user data: it names what was wrong.
struct Status {
  bool ok = true;
  std::string message;
  static Status Ok() { return {}; }
  static Status Error(std::string msg) { return {false, std::move(msg)}; }
};

// Derived sizes of a config.
int gate_count(CellType cell);                         // G: 4, 3, 1
inline int out_size(const RnnConfig& c) { return c.proj_size > 0 ? c.proj_size : c.hidden_size; }
int layer_input_size(const RnnConfig& c, int layer);  // I for layer 0, D*Hout after
Status validate_config(const RnnConfig& c);

// ---- Parameter layout ---------------------------------------------------------------
// Per layer l, per direction d, in this order:
//   W  [G*H, I_l]   input weights            R  [G*H, Hout]  recurrent weights
//   bW [G*H]        input bias (if bias)     bR [G*H]        recurrent bias (if bias)
//   P  [3*H]        peepholes i,f,o (if peephole)
//   Wp [P, H]       projection (if proj_size)
enum class ParamKind : int32_t { kW = 0, kR, kBiasW, kBiasR, kPeephole, kProj };

struct ParamEntry {
  ParamKind kind;
  int32_t layer, direction;
  size_t offset;      // in floats from the start of the buffer
  int32_t rows, cols;  // cols = 1 for vectors
};

std::vector<ParamEntry> param_layout(const RnnConfig& c);
size_t param_count(const RnnConfig& c);

// ---- Sequence calls ---------------------------------------------------------------------
// Shapes (time-major unless batch_first; states always [L*D, B, *], slot l*D + d):
//   x [T, B, I]   y [T, B, D*Hout]   h0/hN [L*D, B, Hout]   c0/cN [L*D, B, H] (LSTM)
// lengths: nullptr (all T) or B ints in 1..T (PyTorch packed / ONNX sequence_lens).
// h0, c0: nullptr = zeros. cN: LSTM only (may be nullptr when not wanted).
struct SeqDims {
  int32_t T = 0, B = 0;
  bool batch_first = false;
};

// Floats of the training record forward() fills and backward() reads.
size_t saved_size(const RnnConfig& c, SeqDims dims);

// Weights packed once for many inference forwards (seq/packed_weights.h): what a forward
// of more than two rows per step (any rows in bf16) would pack from these params, in
// c.precision. Immutable: calls on any threads may share one. Stale as soon as the params
// change; a pack made for one precision serves calls of that precision only.
struct PackedWeights;
std::shared_ptr<const PackedWeights> pack_weights(const RnnConfig& c, const float* params);
// Whether an inference forward of these dims packs weights (else it reads them in place).
bool forward_packs(const RnnConfig& c, SeqDims dims);

// saved: nullptr for inference (nothing recorded), else saved_size() floats.
// packed: nullptr, or pack_weights(c, params) for an inference call: the products read it
// instead of packing (same bits).
Status forward(const RnnConfig& c, const float* params, SeqDims dims, const float* x,
               const int32_t* lengths, const float* h0, const float* c0, float* y, float* hN,
               float* cN, float* saved, const PackedWeights* packed = nullptr);

// After a training forward with the same config, params, x, lengths, h0, c0 and saved.
// dy, dhN, dcN: nullptr = zero upstream gradient. Writes dx, dh0, dc0 (dc0 LSTM only,
// either may be nullptr when not wanted) and ACCUMULATES every weight gradient into dparams.
Status backward(const RnnConfig& c, const float* params, SeqDims dims, const float* x,
                const int32_t* lengths, const float* h0, const float* c0, const float* saved,
                const float* dy, const float* dhN, const float* dcN, float* dx, float* dh0,
                float* dc0, float* dparams);

// ---- Dense products ----------------------------------------------------------------------
// C[m×n] = op(A)[m×k] · op(B)[k×n] (+ C when accumulate), row-major, contiguous, with the
// packed micro-kernels of the sequence calls (one thread; denormals flushed). For the
// dense layers around the recurrent ones: each C element sums k in a fixed order.
//   op(A) = trans_a ? Aᵀ (A stored [k×m]) : A;  op(B) = trans_b ? Bᵀ (B stored [n×k]) : B.
void matmul(bool trans_a, bool trans_b, size_t m, size_t n, size_t k, const float* a, const float* b, float* c,
            bool accumulate);

// ---- Losses --------------------------------------------------------------------------------
// Softmax cross-entropy with logits [rows × classes] and class ids `targets` (floats holding
// integers; checked first: a bad id returns an error before anything is written). Rows with
// valid[r] == 0 (nullptr: all valid) add nothing and get a zero gradient. For each valid row:
//   sums.loss += log Σ_c e^z_c − z_target;  grad = (softmax(z) − onehot(target)) · grad_scale.
// grad_scale is 1 / (terms of the mean); sums accumulate across calls (rows in slices).
struct CrossEntropySums {
  double loss = 0;
  double correct = 0;  // rows whose arg-max is the target
};
Status softmax_cross_entropy(const float* logits, size_t rows, size_t classes, const float* targets,
                             const uint8_t* valid, float grad_scale, float* grad, CrossEntropySums* sums);

// The instruction set the kernels run on: "avx512", "avx2", "neon" or "scalar". Chosen
// once from the CPU; FUSED_RNN_ISA=scalar|avx2|avx512|neon forces a path the CPU supports.
const char* isa_name();

// Whether `p` runs on this CPU's own instructions (true), or through the portable code that
// gives the same bits, slower (false). fp32 is always native; bf16 needs AVX512_BF16, int8
// AVX512_VNNI or AVX-VNNI.
bool precision_native(Precision p);
// The micro-kernel a precision's products run on (e.g. "frnn_bf16_gemm_ukernel_8x32__avx512bf16").
const char* precision_kernel(Precision p);

// Worker threads used by forward/backward (results are bitwise identical for any count).
// Default: FUSED_RNN_NUM_THREADS, else 1.
void set_num_threads(int n);
int num_threads();

}  // namespace frnn
