// softmax_cross_entropy against a float64 reference: loss sum, arg-max count, gradient; masks,
// bad class ids refused before anything is written, extreme logits.
#include <algorithm>
#include <cmath>
#include <cstdint>
#include <string>
#include <vector>

#include "fused_rnn.h"
#include "test_util.h"

namespace {

struct Ref {
  double loss = 0, correct = 0;
  std::vector<double> grad;
};

Ref reference(const std::vector<float>& z, size_t rows, size_t C, const std::vector<float>& t, const std::vector<uint8_t>& valid,
              double scale) {
  Ref r;
  r.grad.assign(rows * C, 0.0);
  for (size_t i = 0; i < rows; ++i) {
    if (!valid.empty() && !valid[i]) continue;
    double max = -INFINITY;
    size_t arg = 0;
    for (size_t c = 0; c < C; ++c)
      if (z[i * C + c] > max) max = z[i * C + c], arg = c;
    double se = 0;
    for (size_t c = 0; c < C; ++c) se += std::exp(double(z[i * C + c]) - max);
    const size_t cls = size_t(t[i]);
    r.loss += std::log(se) + max - z[i * C + cls];
    r.correct += arg == cls;
    for (size_t c = 0; c < C; ++c) r.grad[i * C + c] = (std::exp(double(z[i * C + c]) - max) / se - (c == cls)) * scale;
  }
  return r;
}

void check_case(size_t rows, size_t C, float spread, bool masked, uint32_t seed) {
  frnn_test::count_case();
  uint32_t s = seed;
  auto rnd = [&] { s = s * 1664525u + 1013904223u; return float(s >> 8) / float(1u << 24); };
  std::vector<float> z(rows * C), t(rows);
  std::vector<uint8_t> valid(masked ? rows : 0);
  for (float& v : z) v = (2 * rnd() - 1) * spread;
  for (size_t i = 0; i < rows; ++i) t[i] = std::floor(rnd() * C);
  for (uint8_t& v : valid) v = rnd() < 0.7f;
  const float scale = 1.0f / float(rows);
  std::vector<float> grad(rows * C, 123.0f);
  frnn::CrossEntropySums sums;
  const frnn::Status st = frnn::softmax_cross_entropy(z.data(), rows, C, t.data(), masked ? valid.data() : nullptr, scale, grad.data(), &sums);
  CHECK(st.ok);
  const Ref ref = reference(z, rows, C, t, valid, scale);
  CHECK_NEAR(sums.loss, ref.loss, 1e-5 * std::max(1.0, std::fabs(ref.loss)));
  CHECK_EQ(sums.correct, ref.correct);
  double worst = 0;
  for (size_t k = 0; k < grad.size(); ++k) worst = std::max(worst, std::fabs(grad[k] - ref.grad[k]));
  CHECK_MSG(worst <= 1e-6 * scale + 1e-9, "rows %zu classes %zu: max grad error %g", rows, C, worst);
}

}  // namespace

FRNN_TEST(cross_entropy_matches_a_float64_reference) {
  for (size_t C : {1, 2, 7, 8, 9, 33, 1000})
    for (size_t rows : {1, 5, 16})
      for (bool masked : {false, true}) check_case(rows, C, 5.0f, masked, uint32_t(C * 131 + rows * 7 + masked));
  check_case(4, 50, 80.0f, false, 7);  // logits far apart: e^(z - max) underflows, no NaN
}

FRNN_TEST(a_bad_class_id_is_refused_before_anything_is_written) {
  std::vector<float> z(3 * 4, 0.5f), grad(3 * 4, 7.0f);
  for (float bad : {4.0f, -1.0f, 1.5f, NAN}) {
    std::vector<float> t = {0, bad, 2};
    frnn::CrossEntropySums sums;
    const frnn::Status st = frnn::softmax_cross_entropy(z.data(), 3, 4, t.data(), nullptr, 1.0f, grad.data(), &sums);
    CHECK(!st.ok);
    CHECK(st.message.find("row 1") != std::string::npos);
    for (float g : grad) CHECK_EQ(g, 7.0f);
    CHECK_EQ(sums.loss, 0.0);
  }
  // A masked row's id is not looked at.
  std::vector<float> t = {0, 99, 2};
  std::vector<uint8_t> valid = {1, 0, 1};
  frnn::CrossEntropySums sums;
  CHECK(frnn::softmax_cross_entropy(z.data(), 3, 4, t.data(), valid.data(), 1.0f, grad.data(), &sums).ok);
  for (size_t c = 0; c < 4; ++c) CHECK_EQ(grad[4 + c], 0.0f);
}
int main(int argc, char** argv) { return frnn_test::run_all("loss_test", argc, argv); }
