#!/usr/bin/env bash
# npm run test:sanitize:addon: the addon built with -fsanitize=address,undefined (plain CMake,
# FRNN_BUILD_ADDON + FRNN_SANITIZE, in build-asan-addon/; build/Release is left alone), then the JS
# suites that drive it: the fixtures (PyTorch / onnxruntime / ONNX / seed), optimizers, layers, I/O,
# the reliability tests (worker termination, refusals, non-finite values) and the fuzzer
# (FUZZ_RUNS=1000). lib/native.ts loads it through FUSED_RNN_ADDON.
# The ASan runtime is preloaded into node (node itself is not instrumented); leak detection is off
# for node's own allocations (ASAN_OPTIONS=detect_leaks=0). Any report aborts the process
# (halt_on_error, -fno-sanitize-recover=all), so zero reports = every test passes.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
cmake -S . -B build-asan-addon -DFRNN_SANITIZE=ON -DFRNN_BUILD_ADDON=ON -DFRNN_BUILD_TESTS=OFF -DFRNN_BUILD_BENCH=OFF \
  -DFRNN_ADDON_OUTPUT_DIR="$PWD/build-asan-addon"
cmake --build build-asan-addon -j 2 --target fused_rnn
export FUSED_RNN_ADDON="$PWD/build-asan-addon/fused_rnn.node"
export LD_PRELOAD="$(g++ -print-file-name=libasan.so)"
export ASAN_OPTIONS="detect_leaks=0:halt_on_error=1:abort_on_error=1"
export UBSAN_OPTIONS="halt_on_error=1:print_stacktrace=1"
export FUZZ_RUNS="${FUZZ_RUNS:-1000}"
npx vitest run --project default test/conformance test/optim test/layers test/io test/reliability test/fuzz test/model/bad_input.test.ts test/model/api.test.ts "$@"
