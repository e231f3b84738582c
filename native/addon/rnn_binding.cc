// NativeRnn: one configured stack of LSTM / GRU / RNN layers, exposed to JS.
//
// JS owns every buffer (weights, gradients, inputs, outputs, the training record) as
// Float32Arrays; calls pass them in and the kernels read and write them in place.
// Async calls keep their arrays referenced and run Napi-free on a worker thread; lib/ passes
// them only memory JS cannot take away meanwhile (ARCHITECTURE.md, "Concurrency").
#include <napi.h>

#include <cmath>
#include <cstdint>
#include <cstring>
#include <limits>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include "args.h"
#include "async_job.h"
#include "fused_rnn.h"

namespace frnn_addon {
namespace {

using frnn::RnnConfig;

// Every size a kernel indexes with, derived once per call and checked for overflow.
struct Sizes {
  size_t x, y, h, c, saved, params;
};

constexpr int64_t kMaxSteps = int64_t{1} << 24;
constexpr int64_t kMaxSize = int64_t{1} << 24;  // inputSize, hiddenSize, projSize (lib: MAX_SIZE)
constexpr double kMaxElements = 4.0e9;  // beyond any Float32Array

// `with_saved`: also the training record's size (it walks the layout: skipped per step).
Sizes sizes_for(Napi::Env env, const RnnConfig& c, int32_t T, int32_t B, size_t param_count, bool with_saved) {
  const double D = c.num_directions, L = c.num_layers, Hout = frnn::out_size(c);
  const double x = double(T) * B * c.input_size, y = double(T) * B * D * Hout;
  const double h = L * D * B * Hout, cs = L * D * B * c.hidden_size;
  if (x > kMaxElements || y > kMaxElements || h > kMaxElements || cs > kMaxElements)
    throw_range(env, "Expected T*B*features below 4e9 elements");
  Sizes s{size_t(x), size_t(y), size_t(h), size_t(cs), 0, param_count};
  if (with_saved) {
    const double saved_est = double(T + 1) * B * L * D * (5.0 * c.hidden_size + 2.0 * Hout) + y;
    if (saved_est > kMaxElements) throw_range(env, "Expected a training record below 4e9 elements");
    s.saved = frnn::saved_size(c, frnn::SeqDims{T, B, false});
  }
  return s;
}

frnn::ActKind act_kind(Napi::Env env, double k) {
  if (!(k >= 0 && k < static_cast<double>(frnn::ActKind::kCount)) || k != static_cast<int>(k))
    throw_range(env, "Expected activation kind in 0.." +
                         std::to_string(static_cast<int>(frnn::ActKind::kCount) - 1));
  return static_cast<frnn::ActKind>(static_cast<int>(k));
}

// Config object built by lib/layers (see lib/layers/config.ts).
RnnConfig parse_config(Napi::Object o) {
  Napi::Env env = o.Env();
  RnnConfig c;
  const double cell = num_prop(o, "cell", -1);
  if (cell != 0 && cell != 1 && cell != 2) throw_range(env, "Expected cell 0, 1 or 2");
  c.cell = static_cast<frnn::CellType>(static_cast<int>(cell));
  // Range first: casting a double outside int32 (2**31, 2**40, NaN) to int32 is undefined behaviour.
  auto int_prop = [&](const char* key, double fallback) {
    const double v = num_prop(o, key, fallback);
    if (!(v >= 0 && v <= static_cast<double>(kMaxSize)) || std::floor(v) != v)
      throw_range(env, std::string("Expected integer in 0..") + std::to_string(kMaxSize) + " for " + key);
    return static_cast<int32_t>(v);
  };
  // A double beyond float's range converts to +-Infinity here, not by an undefined cast.
  auto float_prop = [&](const char* key) {
    const double v = num_prop(o, key, 0);
    if (!std::isfinite(v) || std::fabs(v) > static_cast<double>(std::numeric_limits<float>::max()))
      throw_range(env, std::string("Expected finite float32 for ") + key);
    return static_cast<float>(v);
  };
  c.input_size = int_prop("inputSize", 0);
  c.hidden_size = int_prop("hiddenSize", 0);
  c.proj_size = int_prop("projSize", 0);
  c.num_layers = int_prop("numLayers", 1);
  c.num_directions = int_prop("numDirections", 1);
  c.reverse = bool_prop(o, "reverse", false);
  c.bias = bool_prop(o, "bias", true);
  c.peephole = bool_prop(o, "peephole", false);
  c.input_forget = bool_prop(o, "inputForget", false);
  c.reset_after = bool_prop(o, "resetAfter", true);
  c.gate_clip = float_prop("gateClip");
  c.cell_clip = float_prop("cellClip");
  c.forget_bias = float_prop("forgetBias");
  // activations: [direction][slot] of { kind, alpha, beta }
  Napi::Value acts = o.Get("activations");
  if (!acts.IsArray()) throw_type(env, "Expected array for activations");
  Napi::Array dirs = acts.As<Napi::Array>();
  if (dirs.Length() != 2) throw_range(env, "Expected 2 directions of activations");
  for (uint32_t d = 0; d < 2; ++d) {
    Napi::Value slots_v = dirs.Get(d);
    if (!slots_v.IsArray() || slots_v.As<Napi::Array>().Length() != frnn::kActSlots)
      throw_range(env, "Expected 3 activation slots per direction");
    Napi::Array slots = slots_v.As<Napi::Array>();
    for (uint32_t s = 0; s < frnn::kActSlots; ++s) {
      Napi::Value a = slots.Get(s);
      if (!a.IsObject()) throw_type(env, "Expected activation object");
      Napi::Object ao = a.As<Napi::Object>();
      c.act[d][s].kind = act_kind(env, num_prop(ao, "kind", -1));
      const double alpha = num_prop(ao, "alpha", 0), beta = num_prop(ao, "beta", 0);
      constexpr double kFloatMax = static_cast<double>(std::numeric_limits<float>::max());
      if (!(std::fabs(alpha) <= kFloatMax) || !(std::fabs(beta) <= kFloatMax))
        throw_range(env, "Expected finite float32 activation alpha and beta");
      c.act[d][s].alpha = static_cast<float>(alpha);
      c.act[d][s].beta = static_cast<float>(beta);
    }
  }
  frnn::Status st = frnn::validate_config(c);
  if (!st.ok) throw_range(env, st.message);
  return c;
}

// What forward and backward calls share, in the same argument positions (lib/native.ts):
//   (params, x, T, B, batchFirst, lengths?, h0?, c0?, ...)
struct SequenceArgs {
  frnn::SeqDims dims;
  Sizes sizes;
  const float* params;
  const float* x;
  const int32_t* lengths;
  const float *h0, *c0;
};

// Pointers and dims of one forward call (plain data: safe to use off the main thread).
struct ForwardArgs : SequenceArgs {
  float *y, *hN, *cN, *saved;
  frnn::Precision precision;  // of this call's products (the handle's config is shared by calls)
  bool use_pack;              // read weights packed once for (`version`, precision) (PackCache)
  double version;
};

// Weights packed once per weight version for the calls that ask for it (streaming steps: a
// T = 1 call would otherwise pack W and R every time, a quarter of a B = 256 step). Keyed by
// the params pointer, the version lib/ passes (its WeightStore's: an update, or loadStateDict,
// makes a new one) and the precision. A few entries, because one layer is read through more
// than one params pointer at once (sync steps read the live weights, async ones a snapshot of
// the same version) and in more than one precision; with one entry, interleaved calls would
// repack every time. Jobs on several libuv threads read it at once: a pack is immutable and
// shared by shared_ptr, and a pack a running call still reads is freed only when that call
// lets go of it.
class PackCache {
 public:
  struct Key {
    const float* params;
    double version;
    frnn::Precision precision;
    bool operator==(const Key& o) const {
      return params == o.params && version == o.version && precision == o.precision;
    }
  };

  // c.precision is the call's: a bf16 pack serves bf16 calls only.
  std::shared_ptr<const frnn::PackedWeights> get(const RnnConfig& c, const float* params, double version) {
    const Key key{params, version, c.precision};
    {
      std::lock_guard<std::mutex> lock(mu_);
      if (Entry* e = find(key)) return e->packed;
    }
    // Packed outside the lock: readers of other versions do not wait for it. Two first
    // readers of one version may both pack it (same bits); the first one in is kept.
    std::shared_ptr<const frnn::PackedWeights> p = frnn::pack_weights(c, params);
    std::lock_guard<std::mutex> lock(mu_);
    ++made_;
    if (Entry* e = find(key)) return e->packed;
    Entry& slot = victim(key);
    if (slot.packed && slot.key.params == key.params && slot.key.precision == key.precision &&
        slot.key.version > key.version) {
      return p;  // a late reader of an old snapshot does not push out a newer version
    }
    slot = Entry{key, std::move(p), ++clock_};
    return slot.packed;
  }

  // Packs made so far (the tests' proof that calls hit the cache).
  double made() {
    std::lock_guard<std::mutex> lock(mu_);
    return static_cast<double>(made_);
  }

 private:
  static constexpr size_t kEntries = 4;
  struct Entry {
    Key key{nullptr, 0, frnn::Precision::kFp32};
    std::shared_ptr<const frnn::PackedWeights> packed;
    uint64_t used = 0;  // clock_ at the last hit: the least recently used entry goes first
  };

  Entry* find(const Key& key) {
    for (Entry& e : entries_) {
      if (e.packed && e.key == key) {
        e.used = ++clock_;
        return &e;
      }
    }
    return nullptr;
  }
  // Where a new pack goes: an older version of the same (params, precision) — stale once a
  // newer one exists — else an empty entry, else the least recently used.
  Entry& victim(const Key& key) {
    for (Entry& e : entries_) {
      if (e.packed && e.key.params == key.params && e.key.precision == key.precision) return e;
    }
    Entry* lru = &entries_[0];
    for (Entry& e : entries_) {
      if (!e.packed) return e;
      if (e.used < lru->used) lru = &e;
    }
    return *lru;
  }

  std::mutex mu_;
  Entry entries_[kEntries];
  uint64_t clock_ = 0;
  uint64_t made_ = 0;
};

// The precision argument of forward and backward: undefined, 'fp32', 'bf16' or 'int8' (a training
// forward or a backward in int8 is refused by the library: inference only).
frnn::Precision precision_arg(const Napi::CallbackInfo& info, size_t i) {
  if (info[i].IsUndefined()) return frnn::Precision::kFp32;
  if (!info[i].IsString()) throw_type(info.Env(), "Expected string for precision");
  char p[8] = {};  // on the stack: Utf8Value() would allocate a std::string per call
  size_t n = 0;
  napi_get_value_string_utf8(info.Env(), info[i], p, sizeof p, &n);
  if (std::strcmp(p, "fp32") == 0) return frnn::Precision::kFp32;
  if (std::strcmp(p, "bf16") == 0) return frnn::Precision::kBf16;
  if (std::strcmp(p, "int8") == 0) return frnn::Precision::kInt8;
  throw_range(info.Env(), "Expected precision 'fp32', 'bf16' or 'int8', got '" + info[i].As<Napi::String>().Utf8Value() + "'");
}

// Pointers and dims of one backward call.
struct BackwardArgs : SequenceArgs {
  const float *saved, *dy, *dhN, *dcN;
  float *dx, *dh0, *dc0, *dparams;
  frnn::Precision precision;  // the one the training forward that wrote `saved` ran in
};

class NativeRnn : public Napi::ObjectWrap<NativeRnn> {
 public:
  static Napi::Function Define(Napi::Env env) {
    return DefineClass(env, "NativeRnn",
                       {InstanceMethod("paramLayout", &NativeRnn::ParamLayout),
                        InstanceMethod("paramCount", &NativeRnn::ParamCount),
                        InstanceMethod("savedSize", &NativeRnn::SavedSize),
                        InstanceMethod("forward", &NativeRnn::Forward),
                        InstanceMethod("forwardAsync", &NativeRnn::ForwardAsync),
                        InstanceMethod("backward", &NativeRnn::Backward),
                        InstanceMethod("backwardAsync", &NativeRnn::BackwardAsync),
                        InstanceMethod("packsMade", &NativeRnn::PacksMade)});
  }

  explicit NativeRnn(const Napi::CallbackInfo& info) : Napi::ObjectWrap<NativeRnn>(info) {
    if (!info[0].IsObject()) throw_type(info.Env(), "Expected config object");
    config_ = parse_config(info[0].As<Napi::Object>());
    param_count_ = frnn::param_count(config_);
  }

  const RnnConfig& config() const { return config_; }

 private:

  Napi::Value ParamLayout(const Napi::CallbackInfo& info) {
    Napi::Env env = info.Env();
    const auto entries = frnn::param_layout(config_);
    Napi::Array out = Napi::Array::New(env, entries.size());
    for (size_t i = 0; i < entries.size(); ++i) {
      const auto& e = entries[i];
      Napi::Object o = Napi::Object::New(env);
      o.Set("kind", static_cast<int>(e.kind));
      o.Set("layer", e.layer);
      o.Set("direction", e.direction);
      o.Set("offset", static_cast<double>(e.offset));
      o.Set("rows", e.rows);
      o.Set("cols", e.cols);
      out.Set(static_cast<uint32_t>(i), o);
    }
    return out;
  }

  Napi::Value PacksMade(const Napi::CallbackInfo& info) { return Napi::Number::New(info.Env(), packs_->made()); }

  Napi::Value ParamCount(const Napi::CallbackInfo& info) {
    return Napi::Number::New(info.Env(), static_cast<double>(param_count_));
  }

  // savedSize(T, B)
  Napi::Value SavedSize(const Napi::CallbackInfo& info) {
    const int32_t T = int_arg(info, 0, "T", kMaxSteps), B = int_arg(info, 1, "B", kMaxSteps);
    return Napi::Number::New(info.Env(), static_cast<double>(sizes_for(info.Env(), config_, T, B, param_count_, true).saved));
  }

  // The arguments at positions 0..7, checked against the sizes the call implies.
  void read_sequence_args(const Napi::CallbackInfo& info, bool training, SequenceArgs& a) const {
    const int32_t T = int_arg(info, 2, "T", kMaxSteps), B = int_arg(info, 3, "B", kMaxSteps);
    a.dims = frnn::SeqDims{T, B, bool_arg(info, 4)};
    a.sizes = sizes_for(info.Env(), config_, T, B, param_count_, training);
    const Sizes& s = a.sizes;
    a.params = f32_arg(info, 0, "params", s.params, "parameter count");
    a.x = f32_arg(info, 1, "x", s.x, "T*B*I");
    a.lengths = lengths_arg(info, 5, B, T);
    a.h0 = f32_arg(info, 6, "h0", s.h, "L*D*B*Hout", true);
    a.c0 = lstm() ? f32_arg(info, 7, "c0", s.c, "L*D*B*H", true) : nullptr;
  }

  bool lstm() const { return config_.cell == frnn::CellType::kLstm; }

  // forward(params, x, T, B, batchFirst, lengths?, h0?, c0?, y, hN, cN?, saved?, precision?, packVersion?)
  ForwardArgs forward_args(const Napi::CallbackInfo& info) {
    ForwardArgs a{};
    read_sequence_args(info, !(info[11].IsNull() || info[11].IsUndefined()), a);
    const Sizes& s = a.sizes;
    a.y = f32_arg(info, 8, "output", s.y, "T*B*D*Hout");
    a.hN = f32_arg(info, 9, "hN", s.h, "L*D*B*Hout");
    a.cN = lstm() ? f32_arg(info, 10, "cN", s.c, "L*D*B*H", true) : nullptr;
    a.saved = f32_arg(info, 11, "saved", s.saved, "savedSize(T, B)", true);
    a.precision = precision_arg(info, 12);
    a.version = version_arg(info, 13);
    RnnConfig c = config_;
    c.precision = a.precision;
    a.use_pack = a.version >= 0 && !a.saved && frnn::forward_packs(c, a.dims);
    return a;
  }

  // The weight version of an inference call that reuses packed weights: a non-negative
  // integer, or -1 for null/undefined (pack per call).
  static double version_arg(const Napi::CallbackInfo& info, size_t i) {
    Napi::Value v = info[i];
    if (v.IsNull() || v.IsUndefined()) return -1;
    if (!v.IsNumber()) throw_type(info.Env(), "Expected number or null for packVersion");
    const double d = v.As<Napi::Number>().DoubleValue();
    if (!(d >= 0 && d <= 9007199254740991.0) || std::floor(d) != d)
      throw_range(info.Env(), "Expected a non-negative integer for packVersion");
    return d;
  }

  Napi::Value Forward(const Napi::CallbackInfo& info) {
    const frnn::Status st = run_forward(config_, forward_args(info), *packs_);
    if (!st.ok) throw_range(info.Env(), st.message);
    return info.Env().Undefined();
  }

  Napi::Value ForwardAsync(const Napi::CallbackInfo& info);

  // backward(params, x, T, B, batchFirst, lengths?, h0?, c0?, saved, dy?, dhN?, dcN?, dx?, dh0?, dc0?, dparams, precision?)
  BackwardArgs backward_args(const Napi::CallbackInfo& info) {
    BackwardArgs a{};
    read_sequence_args(info, true, a);
    const Sizes& s = a.sizes;
    a.saved = f32_arg(info, 8, "saved", s.saved, "savedSize(T, B)");
    a.dy = f32_arg(info, 9, "gradOutput", s.y, "T*B*D*Hout", true);
    a.dhN = f32_arg(info, 10, "gradHN", s.h, "L*D*B*Hout", true);
    a.dcN = lstm() ? f32_arg(info, 11, "gradCN", s.c, "L*D*B*H", true) : nullptr;
    a.dx = f32_arg(info, 12, "gradInput", s.x, "T*B*I", true);
    a.dh0 = f32_arg(info, 13, "gradH0", s.h, "L*D*B*Hout", true);
    a.dc0 = lstm() ? f32_arg(info, 14, "gradC0", s.c, "L*D*B*H", true) : nullptr;
    a.dparams = f32_arg(info, 15, "grads", s.params, "parameter count");
    a.precision = precision_arg(info, 16);
    return a;
  }

  Napi::Value Backward(const Napi::CallbackInfo& info) {
    const frnn::Status st = run_backward(config_, backward_args(info));
    if (!st.ok) throw_range(info.Env(), st.message);
    return info.Env().Undefined();
  }

  Napi::Value BackwardAsync(const Napi::CallbackInfo& info);

  static frnn::Status run_forward(RnnConfig c, const ForwardArgs& a, PackCache& packs) {
    c.precision = a.precision;
    // Held until the call returns, even if another version replaces it in the cache meanwhile.
    const std::shared_ptr<const frnn::PackedWeights> packed = a.use_pack ? packs.get(c, a.params, a.version) : nullptr;
    return frnn::forward(c, a.params, a.dims, a.x, a.lengths, a.h0, a.c0, a.y, a.hN, a.cN, a.saved, packed.get());
  }
  static frnn::Status run_backward(RnnConfig c, const BackwardArgs& a) {
    c.precision = a.precision;
    return frnn::backward(c, a.params, a.dims, a.x, a.lengths, a.h0, a.c0, a.saved, a.dy, a.dhN, a.dcN, a.dx,
                          a.dh0, a.dc0, a.dparams);
  }

  RnnConfig config_;
  size_t param_count_ = 0;
  std::shared_ptr<PackCache> packs_ = std::make_shared<PackCache>();
};

// Any number of jobs may run at once on one handle (it holds the config and the PackCache;
// scratch is per thread). Which calls may overlap is lib/'s business (readers and writers); the job keeps every
// argument referenced until it settles, and lib/ passes only memory JS cannot take away meanwhile
// (SharedArrayBuffers, or private copies).
Napi::Value NativeRnn::ForwardAsync(const Napi::CallbackInfo& info) {
  const ForwardArgs a = forward_args(info);
  return queue_job(info, "fused-rnn:forward", [c = config_, a, packs = packs_] { return run_forward(c, a, *packs); });
}

Napi::Value NativeRnn::BackwardAsync(const Napi::CallbackInfo& info) {
  const BackwardArgs a = backward_args(info);
  return queue_job(info, "fused-rnn:backward", [c = config_, a] { return run_backward(c, a); });
}

}  // namespace

Napi::Function define_native_rnn(Napi::Env env) { return NativeRnn::Define(env); }

}  // namespace frnn_addon
