// CPU feature detection and the ISA the kernels run on, chosen once per process.
//
// x86: a feature is usable only when cpuid reports it AND the OS saves its registers on
// context switch (XGETBV: XCR0 bits 1-2 for AVX's ymm state, 5-7 for AVX-512's opmask
// and zmm state).
//
// AArch64: Advanced SIMD (NEON) is mandatory in the architecture (and the OS always saves
// the q registers), so it is supported wherever this file is built for __aarch64__.
#include <cstdio>
#include <cstdlib>
#include <cstring>

#include "cpu/isa.h"
#include "fused_rnn.h"

#if defined(__x86_64__) || defined(__i386__)
#include <cpuid.h>
#define FRNN_X86 1
#endif

namespace frnn {
namespace {

#if FRNN_X86
struct X86Features {
  bool avx2_fma = false;
  bool avx512f = false;
  bool avx512_bf16 = false;  // VDPBF16PS, VCVTNE2PS2BF16 (with AVX512BW/VL for their byte and 256-bit forms)
  bool avx512_vnni = false;  // VPDPBUSD on zmm
  bool avx_vnni = false;     // VPDPBUSD on ymm, VEX-encoded
};

unsigned long long xgetbv0() {
  unsigned int lo, hi;
  __asm__ volatile("xgetbv" : "=a"(lo), "=d"(hi) : "c"(0));
  return (static_cast<unsigned long long>(hi) << 32) | lo;
}

X86Features detect_x86() {
  X86Features f;
  unsigned int a, b, c, d;
  if (!__get_cpuid(1, &a, &b, &c, &d)) return f;
  const bool osxsave = c & (1u << 27), fma = c & (1u << 12), avx = c & (1u << 28);
  if (!osxsave || !avx) return f;
  const unsigned long long xcr0 = xgetbv0();
  const bool os_avx = (xcr0 & 0x6) == 0x6;
  const bool os_avx512 = os_avx && (xcr0 & 0xe0) == 0xe0;
  if (!__get_cpuid_count(7, 0, &a, &b, &c, &d)) return f;
  f.avx2_fma = os_avx && fma && (b & (1u << 5));
  f.avx512f = os_avx512 && f.avx2_fma && (b & (1u << 16));
  const bool avx512bw = b & (1u << 30), avx512vl = b & (1u << 31);
  f.avx512_vnni = f.avx512f && avx512bw && avx512vl && (c & (1u << 11));
  unsigned int a1 = 0, b1 = 0, c1 = 0, d1 = 0;
  if (__get_cpuid_count(7, 1, &a1, &b1, &c1, &d1)) {
    f.avx512_bf16 = f.avx512f && avx512bw && avx512vl && (a1 & (1u << 5));
    f.avx_vnni = f.avx2_fma && (a1 & (1u << 4));
  }
  return f;
}
#endif

Isa best_isa() {
#if FRNN_X86
  const X86Features f = detect_x86();
  if (f.avx512f) return Isa::kAvx512;
  if (f.avx2_fma) return Isa::kAvx2;
#elif defined(__aarch64__)
  return Isa::kNeon;
#endif
  return Isa::kScalar;
}

Isa choose_isa() {
  Isa isa = best_isa();
  const char* forced = std::getenv("FUSED_RNN_ISA");
  if (forced && *forced) {
    bool known = false;
    for (Isa candidate : {Isa::kScalar, Isa::kAvx2, Isa::kAvx512, Isa::kNeon}) {
      if (std::strcmp(forced, isa_to_string(candidate)) != 0) continue;
      known = true;
      if (cpu_supports(candidate))
        isa = candidate;
      else
        std::fprintf(stderr, "fused-rnn: FUSED_RNN_ISA=%s is not supported by this CPU; using %s\n", forced,
                     isa_to_string(isa));
    }
    if (!known)
      std::fprintf(stderr, "fused-rnn: unknown FUSED_RNN_ISA=%s (scalar, avx2, avx512, neon); using %s\n", forced,
                   isa_to_string(isa));
  }
  const char* debug = std::getenv("FUSED_RNN_DEBUG");
  if (debug && std::strstr(debug, "isa")) std::fprintf(stderr, "fused-rnn: isa %s\n", isa_to_string(isa));
  return isa;
}

}  // namespace

bool cpu_supports(Isa isa) {
  switch (isa) {
    case Isa::kScalar: return true;
    case Isa::kAvx2:
    case Isa::kAvx512: {
#if FRNN_X86
      static const X86Features f = detect_x86();
      return isa == Isa::kAvx2 ? f.avx2_fma : f.avx512f;
#else
      return false;
#endif
    }
    case Isa::kNeon:
#if defined(__aarch64__)
      return true;  // baseline on AArch64
#else
      return false;
#endif
  }
  return false;
}

bool cpu_has(Feature feature) {
#if FRNN_X86
  static const X86Features f = detect_x86();
  switch (feature) {
    case Feature::kAvx512Bf16: return f.avx512_bf16;
    case Feature::kAvx512Vnni: return f.avx512_vnni;
    case Feature::kAvxVnni: return f.avx_vnni;
  }
#endif
  (void)feature;
  return false;
}

Isa active_isa() {
  static const Isa isa = choose_isa();  // a local static, not std::call_once: see gemm_config()
  return isa;
}

const char* isa_to_string(Isa isa) {
  switch (isa) {
    case Isa::kScalar: return "scalar";
    case Isa::kAvx2: return "avx2";
    case Isa::kAvx512: return "avx512";
    case Isa::kNeon: return "neon";
  }
  return "scalar";
}

const char* isa_name() { return isa_to_string(active_isa()); }

}  // namespace frnn
