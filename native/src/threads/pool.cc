// Thread count setting. The kernels are single-threaded so far; the persistent pool that
// splits each step by hidden block lands here.
#include <algorithm>
#include <atomic>
#include <cstdlib>

#include "fused_rnn.h"

namespace frnn {

static int initial_threads() {
  const char* env = std::getenv("FUSED_RNN_NUM_THREADS");
  const int n = env ? std::atoi(env) : 1;
  return std::clamp(n, 1, 256);
}

static std::atomic<int> g_threads{initial_threads()};

void set_num_threads(int n) { g_threads = std::clamp(n, 1, 256); }
int num_threads() { return g_threads; }

}  // namespace frnn
