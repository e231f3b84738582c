// Chooses the SIMD gate kernels for a cell: the active ISA's table (cells/gates.inc) when
// every activation is a standard one, else none (the scalar code handles any activation).
#include "cells/cells.h"
#include "cpu/isa.h"

namespace frnn {

#define FRNN_GATES(isa, table) extern const GateKernels table;
#include "cells/gates.inc"
#undef FRNN_GATES

namespace {
struct GateEntry {
  Isa isa;
  const GateKernels* kernels;
};
constexpr GateEntry kGateTables[] = {
#define FRNN_GATES(kisa, table) {Isa::kisa, &table},
#include "cells/gates.inc"
#undef FRNN_GATES
    {Isa::kScalar, nullptr},  // (keeps the array non-empty where no row is built)
};
}  // namespace

const GateKernels* simd_gates(CellType cell, const Activation* act) {
  if (cell == CellType::kRnn) return nullptr;
  if (act[kActGate].kind != ActKind::kSigmoid || act[kActCell].kind != ActKind::kTanh) return nullptr;
  if (cell == CellType::kLstm && act[kActHidden].kind != ActKind::kTanh) return nullptr;
  const Isa isa = active_isa();
  for (const GateEntry& e : kGateTables)
    if (e.isa == isa) return e.kernels;
  return nullptr;
}

}  // namespace frnn
