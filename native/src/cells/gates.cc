// Chooses the SIMD gate kernels for a cell: the active ISA's table when every activation
// is a standard one, else none (the scalar code handles any activation).
#include "cells/cells.h"
#include "cpu/isa.h"

namespace frnn {

#if defined(__x86_64__) || defined(__i386__)
extern const GateKernels kGatesAvx2;
extern const GateKernels kGatesAvx512;
#endif
#if defined(__aarch64__)
extern const GateKernels kGatesNeon;
#endif

const GateKernels* simd_gates(CellType cell, const Activation* act) {
  if (cell == CellType::kRnn) return nullptr;
  if (act[kActGate].kind != ActKind::kSigmoid || act[kActCell].kind != ActKind::kTanh) return nullptr;
  if (cell == CellType::kLstm && act[kActHidden].kind != ActKind::kTanh) return nullptr;
  switch (active_isa()) {
#if defined(__x86_64__) || defined(__i386__)
    case Isa::kAvx2: return &kGatesAvx2;
    case Isa::kAvx512: return &kGatesAvx512;
#endif
#if defined(__aarch64__)
    case Isa::kNeon: return &kGatesNeon;
#endif
    default: return nullptr;
  }
}

}  // namespace frnn
