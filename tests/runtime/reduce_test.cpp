#include <doctest/doctest.h>

#include <cmath>

#include "test_helpers.hpp"

using namespace edgec;
using namespace edgec::runtime;
using namespace edgec::runtime::test;

TEST_CASE("Reduce* over contiguous and non-adjacent axes, attribute and input forms") {
  // x[i][j][k] = i*6 + j*2 + k, shape [2,3,2]
  std::vector<float> x(12);
  for (int i = 0; i < 12; ++i) x[static_cast<size_t>(i)] = static_cast<float>(i);
  const auto t = f32({2, 3, 2}, x);
  check_close(run1("ReduceMean", {t}, {{"axes", std::vector<int64_t>{1}}}, 13), {2, 1, 2}, {2, 3, 8, 9});
  check_close(run1("ReduceSum", {t, i64({2}, {0, 2})}, {{"keepdims", int64_t{0}}}, 13), {3}, {14, 22, 30});
  check_close(run1("ReduceSum", {t}, {{"axes", std::vector<int64_t>{0, 2}}, {"keepdims", int64_t{0}}}, 11), {3}, {14, 22, 30});
  check_close(run1("ReduceMax", {t, i64({1}, {-1})}, {}, 18), {2, 3, 1}, {1, 3, 5, 7, 9, 11});
  check_close(run1("ReduceMin", {t}, {{"keepdims", int64_t{0}}}, 13), {}, {0});
  check_close(run1("ReduceSum", {t, i64({0}, {})}, {{"noop_with_empty_axes", int64_t{1}}}, 13), {2, 3, 2}, x);
  check_close(run1("ReduceL2", {f32({2}, {3, 4})}, {{"keepdims", int64_t{0}}}, 13), {}, {5});
  check_close(run1("ReduceLogSumExp", {f32({2}, {1, 2})}, {{"keepdims", int64_t{0}}}, 13), {},
              {static_cast<float>(std::log(std::exp(1.0) + std::exp(2.0)))});
  CHECK(run1("ArgMax", {f32({2, 3}, {1, 5, 5, 7, 2, 7})}, {{"axis", int64_t{1}}, {"keepdims", int64_t{0}}}).to_i64() ==
        std::vector<int64_t>{1, 0});
  CHECK(run1("ArgMax", {f32({2, 3}, {1, 5, 5, 7, 2, 7})},
             {{"axis", int64_t{1}}, {"keepdims", int64_t{0}}, {"select_last_index", int64_t{1}}})
            .to_i64() == std::vector<int64_t>{2, 2});
}

TEST_CASE("Softmax: one axis from opset 13, flattened 2-D before") {
  const auto x = f32({2, 2}, {0, 1, 2, 4});
  const float e1 = static_cast<float>(1 / (1 + std::exp(-1.0))), e2 = static_cast<float>(1 / (1 + std::exp(-2.0)));
  check_close(run1("Softmax", {x}, {}, 13), {2, 2}, {1 - e1, e1, 1 - e2, e2});
  check_close(run1("Softmax", {x}, {{"axis", int64_t{0}}}, 13), {2, 2}, {1 - e2, 1 - static_cast<float>(1 / (1 + std::exp(-3.0))), e2, static_cast<float>(1 / (1 + std::exp(-3.0)))});
  // Opset 11, axis 0 on [2,2]: the whole tensor is one row.
  double total = 1 + std::exp(1.0) + std::exp(2.0) + std::exp(4.0);
  check_close(run1("Softmax", {x}, {{"axis", int64_t{0}}}, 11), {2, 2},
              {static_cast<float>(1 / total), static_cast<float>(std::exp(1.0) / total),
               static_cast<float>(std::exp(2.0) / total), static_cast<float>(std::exp(4.0) / total)});
  check_close(run1("LogSoftmax", {f32({2}, {0, 0})}, {}, 13), {2}, {-static_cast<float>(std::log(2.0)), -static_cast<float>(std::log(2.0))});
}
