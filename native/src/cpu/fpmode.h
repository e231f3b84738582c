// Flush-to-zero and denormals-are-zero for the duration of a kernel call.
//
// Denormal operands and results can cost ~100 cycles each on x86; an RNN whose state decays
// toward 0 (a vanishing gradient, the linear RNN with |w| < 1) produces them step after step.
// Each thread sets the mode when it enters a parallel region and restores it on leaving, so
// the caller's thread (Node's main thread or a libuv worker) runs JavaScript with IEEE
// semantics again afterwards.
#pragma once

#include <cstdint>

namespace frnn {

class FlushDenormals {
 public:
  FlushDenormals() {
#if defined(__x86_64__) || defined(__i386__)
    saved_ = __builtin_ia32_stmxcsr();
    __builtin_ia32_ldmxcsr(saved_ | kFtz | kDaz);
#elif defined(__aarch64__)
    __asm__ volatile("mrs %0, fpcr" : "=r"(saved_));  // inline asm: GCC and clang alike
    const uint64_t flushed = saved_ | kFz;
    __asm__ volatile("msr fpcr, %0" : : "r"(flushed));
#endif
  }
  ~FlushDenormals() {
#if defined(__x86_64__) || defined(__i386__)
    __builtin_ia32_ldmxcsr(saved_);
#elif defined(__aarch64__)
    __asm__ volatile("msr fpcr, %0" : : "r"(saved_));
#endif
  }
  FlushDenormals(const FlushDenormals&) = delete;
  FlushDenormals& operator=(const FlushDenormals&) = delete;

 private:
#if defined(__x86_64__) || defined(__i386__)
  static constexpr unsigned kFtz = 1u << 15, kDaz = 1u << 6;  // MXCSR
  unsigned saved_ = 0;
#elif defined(__aarch64__)
  static constexpr uint64_t kFz = uint64_t{1} << 24;  // FPCR.FZ
  uint64_t saved_ = 0;
#endif
};

}  // namespace frnn
