// FMA throughput loops for bench_rnn's "% of peak" column. Each lives in its own ISA file
// (fma_peak_avx512.cc: -mavx512f, fma_peak_avx2.cc: -mavx2 -mfma; flags set in CMakeLists.txt)
// and must only be called when __builtin_cpu_supports says the CPU has that ISA.
#pragma once

#include <cstdint>

namespace frnn_bench {

// Runs `iters` iterations of independent FMA chains on full vectors, adds a value depending on
// every result to *sink (so nothing is optimised away) and returns the FLOPs done
// (iters * chains * lanes * 2).
double fma_loop_avx512(int64_t iters, float* sink);
double fma_loop_avx2(int64_t iters, float* sink);

}  // namespace frnn_bench
