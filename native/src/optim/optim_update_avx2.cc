// The optimizer update loops built with -mavx2 -mfma (native/sources.json "isa"; ISA
// flags go on per-ISA files only): std::fma inlines, the loops vectorise. Only called when
// the CPU has the ISA (optimizers.cc).
#include "optim/update_loops.h"

namespace frnn {

void optim_update__avx2(OptimKind kind, const OptimHyper& h, int64_t step, float* param, const float* grad,
                        float* const* state, size_t n, float grad_scale, float clip_value, bool fresh_state) {
  run_update(kind, h, step, param, grad, state, n, grad_scale, clip_value, fresh_state);
}

}  // namespace frnn
