// Chooses the SIMD gate kernels for a cell: the active ISA's row of cells/gates.inc when
// every activation is a standard one, else none (the scalar code handles any activation).
#include "cells/gates_list.h"

namespace frnn {

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
