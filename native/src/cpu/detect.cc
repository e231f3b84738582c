// CPU feature detection and the ISA the kernels run on. Only the portable scalar path
// exists so far; SIMD paths are chosen here once they land.
#include "fused_rnn.h"

namespace frnn {

const char* isa_name() { return "scalar"; }

}  // namespace frnn
