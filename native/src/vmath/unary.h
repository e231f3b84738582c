// The one loop behind every y[i] = f(x[i]) kernel, written once against the simd traits
// (one source for every ISA): full vectors, then one masked partial vector for the n % kLanes tail.
//
//   unary_map<simd::Avx2>(n, x, y, [](simd::Avx2::vf v) { return simd::Avx2::sigmoid(v); });
//
// Generic header (no intrinsics): include the traits header of S before it.
#pragma once

#include <cstddef>

namespace frnn {

// y[i] = f(x[i]) for i in [0, n). Lanes past the tail are computed on zeros and discarded;
// memory past x[n-1] and y[n-1] is never touched. y == x is fine (each vector is loaded
// before it is stored); other overlaps are not.
template <class S, class F>
inline void unary_map(size_t n, const float* x, float* y, F f) {
  constexpr size_t kLanes = static_cast<size_t>(S::kLanes);
  for (; n >= kLanes; n -= kLanes, x += kLanes, y += kLanes) S::storeu(y, f(S::loadu(x)));
  if (n != 0) S::store_partial(y, f(S::load_partial(x, n)), n);
}

}  // namespace frnn
