// The instruction sets the kernels are built for, and the one chosen at run time.
#pragma once

namespace frnn {

enum class Isa : int { kScalar = 0, kAvx2 = 1, kAvx512 = 2, kNeon = 3 };

// Whether this CPU and OS can run kernels built for `isa` (cpuid + XGETBV on x86).
bool cpu_supports(Isa isa);

// The ISA in use: the best one the CPU supports, or FUSED_RNN_ISA when it names a
// supported one. Chosen once; FUSED_RNN_DEBUG=isa logs the choice to stderr.
Isa active_isa();

const char* isa_to_string(Isa isa);

}  // namespace frnn
