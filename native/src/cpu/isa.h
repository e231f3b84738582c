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

// Instructions beyond an ISA's baseline that the reduced-precision kernels use.
enum class Feature : int { kAvx512Bf16, kAvx512Vnni, kAvxVnni };

// Whether this CPU and OS can run them (x86: cpuid leaf 7 and XGETBV, as for the ISAs).
bool cpu_has(Feature feature);

}  // namespace frnn
