// Smoke test of the build plumbing: the kernel library links and its config API answers.
// Single-layer unidirectional LSTM, I=3, H=5: per direction W[4H,I] + R[4H,H] + bW[4H] + bR[4H].
#include <cstdio>

#include "fused_rnn.h"

namespace {

int failures = 0;

void expect(bool ok, const char* what) {
  if (!ok) {
    std::fprintf(stderr, "FAIL: %s\n", what);
    ++failures;
  }
}

}  // namespace

int main() {
  frnn::RnnConfig c;
  c.cell = frnn::CellType::kLstm;
  c.input_size = 3;
  c.hidden_size = 5;
  for (auto& dir : c.act) {
    dir[frnn::kActGate] = {frnn::ActKind::kSigmoid, 0.0f, 0.0f};
    dir[frnn::kActCell] = {frnn::ActKind::kTanh, 0.0f, 0.0f};
    dir[frnn::kActHidden] = {frnn::ActKind::kTanh, 0.0f, 0.0f};
  }

  const frnn::Status st = frnn::validate_config(c);
  expect(st.ok, "validate_config accepts a plain LSTM");
  if (!st.ok) std::fprintf(stderr, "  message: %s\n", st.message.c_str());

  const size_t expected = 4 * 5 * 3 + 4 * 5 * 5 + 4 * 5 + 4 * 5;
  expect(frnn::param_count(c) == expected, "param_count of LSTM(I=3, H=5)");

  frnn::RnnConfig bad = c;
  bad.hidden_size = 0;
  const frnn::Status bad_st = frnn::validate_config(bad);
  expect(!bad_st.ok && !bad_st.message.empty(), "validate_config rejects hiddenSize 0 with a message");

  if (failures == 0) std::printf("smoke_test: all checks passed\n");
  return failures == 0 ? 0 : 1;
}
