// The SIMD gate-math tables of cells/gates.inc as an array: what dispatch (simd_gates())
// and the tests (gates_test) iterate over.
#pragma once

#include "cells/cells.h"
#include "cpu/isa.h"

namespace frnn {

#define FRNN_GATES(isa, table) extern const GateKernels table;
#include "cells/gates.inc"
#undef FRNN_GATES

struct GateEntry {
  Isa isa;
  const char* name;
  const GateKernels* kernels;  // nullptr: the scalar code of cells/*.cc
};

inline constexpr GateEntry kGateTables[] = {
#define FRNN_GATES(kisa, table) {Isa::kisa, #table, &table},
#include "cells/gates.inc"
#undef FRNN_GATES
    {Isa::kScalar, "scalar", nullptr},  // (also keeps the array non-empty where no row is built)
};

}  // namespace frnn
