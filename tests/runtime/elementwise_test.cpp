#include <doctest/doctest.h>

#include <algorithm>
#include <cmath>

#include "edgec/core/error.hpp"
#include "test_helpers.hpp"

using namespace edgec;
using namespace edgec::runtime;
using namespace edgec::runtime::test;

TEST_CASE("binary ops broadcast like numpy") {
  // [2,1,3] + [4,1] -> [2,4,3]
  std::vector<float> a(6), b(4), expected;
  for (int i = 0; i < 6; ++i) a[static_cast<size_t>(i)] = static_cast<float>(i);
  for (int i = 0; i < 4; ++i) b[static_cast<size_t>(i)] = static_cast<float>(10 * i);
  for (int x = 0; x < 2; ++x)
    for (int y = 0; y < 4; ++y)
      for (int z = 0; z < 3; ++z) expected.push_back(a[static_cast<size_t>(x * 3 + z)] + b[static_cast<size_t>(y)]);
  check_close(run1("Add", {f32({2, 1, 3}, a), f32({4, 1}, b)}), {2, 4, 3}, expected);
  // scalar on the left, rank-0 result of two scalars, and an empty dimension
  check_close(run1("Sub", {f32({}, {10}), f32({3}, {1, 2, 3})}), {3}, {9, 8, 7});
  check_close(run1("Mul", {f32({}, {3}), f32({}, {4})}), {}, {12});
  check_close(run1("Add", {f32({0, 3}, {}), f32({1, 3}, {1, 2, 3})}), {0, 3}, {});
  // middle-axis broadcast on both sides: [3,1] * [1,2]
  check_close(run1("Mul", {f32({3, 1}, {1, 2, 3}), f32({1, 2}, {10, 100})}), {3, 2}, {10, 100, 20, 200, 30, 300});
  CHECK_THROWS_WITH_AS(run1("Add", {f32({2, 3}, {1, 2, 3, 4, 5, 6}), f32({2}, {1, 2})}),
                       doctest::Contains("cannot be broadcast"), Error);
}

TEST_CASE("integer arithmetic for shape computations") {
  const auto q = run1("Div", {i64({3}, {7, -7, 9}), i64({}, {2})});
  CHECK(q.to_i64() == std::vector<int64_t>{3, -3, 4});  // truncation, as C++ and onnxruntime
  CHECK(run1("Mul", {i64({2}, {3, 4}), i64({1}, {5})}).to_i64() == std::vector<int64_t>{15, 20});
  CHECK_THROWS_WITH_AS(run1("Div", {i64({1}, {1}), i64({1}, {0})}), doctest::Contains("division by zero"), Error);
  CHECK(run1("Mod", {i64({4}, {5, -5, 5, -5}), i64({4}, {3, 3, -3, -3})}).to_i64() == std::vector<int64_t>{2, 1, -1, -2});
  CHECK(run1("Mod", {i64({2}, {5, -5}), i64({1}, {3})}, {{"fmod", int64_t{1}}}).to_i64() == std::vector<int64_t>{2, -2});
}

TEST_CASE("activations match their formulas") {
  const std::vector<float> x{-4, -1, -0.25f, 0, 0.5f, 3};
  auto expect = [&](const char* op, auto f, std::map<std::string, Attribute> attrs = {}) {
    std::vector<float> want;
    for (const float v : x) want.push_back(static_cast<float>(f(static_cast<double>(v))));
    INFO(op);
    check_close(run1(op, {f32({6}, x)}, std::move(attrs)), {6}, want, 1e-6);
  };
  expect("Relu", [](double v) { return v > 0 ? v : 0; });
  expect("Sigmoid", [](double v) { return 1 / (1 + std::exp(-v)); });
  expect("HardSigmoid", [](double v) { return std::clamp(0.2 * v + 0.5, 0.0, 1.0); });
  expect("HardSigmoid", [](double v) { return std::clamp(0.1666667 * v + 0.5, 0.0, 1.0); },
         {{"alpha", 0.1666667f}, {"beta", 0.5f}});
  expect("HardSwish", [](double v) { return v * std::clamp(v / 6 + 0.5, 0.0, 1.0); });
  expect("Erf", [](double v) { return std::erf(v); });
  expect("Tanh", [](double v) { return std::tanh(v); });
  expect("LeakyRelu", [](double v) { return v >= 0 ? v : 0.1 * v; }, {{"alpha", 0.1f}});
  expect("Gelu", [](double v) { return 0.5 * v * (1 + std::erf(v / std::sqrt(2.0))); });
  expect("Gelu", [](double v) { return 0.5 * v * (1 + std::tanh(std::sqrt(2 / M_PI) * (v + 0.044715 * v * v * v))); },
         {{"approximate", std::string("tanh")}});
  expect("Neg", [](double v) { return -v; });
  expect("Round", [](double v) { return std::nearbyint(v); });
  check_close(run1("Round", {f32({4}, {0.5f, 1.5f, 2.5f, -0.5f})}), {4}, {0, 2, 2, -0.0f});
}

TEST_CASE("Pow, Sqrt, Div and Reciprocal") {
  check_close(run1("Pow", {f32({3}, {2, 3, -2}), f32({}, {2})}), {3}, {4, 9, 4});
  check_close(run1("Pow", {f32({2}, {4, 9}), i64({}, {2})}), {2}, {16, 81});  // int exponent (opset 12+)
  check_close(run1("Pow", {f32({2}, {4, 9}), f32({1}, {0.5f})}), {2}, {2, 3});
  check_close(run1("Sqrt", {f32({2}, {4, 2})}), {2}, {2, std::sqrt(2.0f)});
  check_close(run1("Div", {f32({2}, {1, 3}), f32({2}, {4, 2})}), {2}, {0.25f, 1.5f});
}

TEST_CASE("Clip takes attributes before opset 11 and inputs after") {
  check_close(run1("Clip", {f32({4}, {-2, 0.5f, 3, 7})}, {{"min", 0.0f}, {"max", 6.0f}}, 9), {4}, {0, 0.5f, 3, 6});
  check_close(run1("Clip", {f32({4}, {-2, 0.5f, 3, 7}), f32({}, {0}), f32({}, {6})}, {}, 11), {4}, {0, 0.5f, 3, 6});
  check_close(run1("Clip", {f32({2}, {-2, 7}), HostTensor{}, f32({}, {1})}, {}, 13), {2}, {-2, 1});
}

TEST_CASE("comparisons, logic and Where broadcast to bool masks") {
  const auto eq = run1("Equal", {i64({3}, {1, 2, 3}), i64({}, {2})});
  CHECK(eq.dtype() == DType::boolean);
  CHECK(eq.to_i64() == std::vector<int64_t>{0, 1, 0});
  CHECK(run1("Less", {f32({2}, {1, 5}), f32({2}, {2, 2})}).to_i64() == std::vector<int64_t>{1, 0});
  CHECK(run1("And", {boolean({2}, {1, 1}), boolean({2}, {0, 1})}).to_i64() == std::vector<int64_t>{0, 1});
  CHECK(run1("Not", {boolean({2}, {1, 0})}).to_i64() == std::vector<int64_t>{0, 1});
  // Where(cond [2,1], x [1,3], y scalar)
  check_close(run1("Where", {boolean({2, 1}, {1, 0}), f32({1, 3}, {1, 2, 3}), f32({}, {-1})}), {2, 3},
              {1, 2, 3, -1, -1, -1});
}

TEST_CASE("Cast converts with truncation, saturation and bool rules") {
  CHECK(run1("Cast", {f32({4}, {1.9f, -1.9f, 0, 1e10f})}, {{"to", int64_t{7}}}).to_i64() ==
        std::vector<int64_t>{1, -1, 0, 10000000000});
  CHECK(run1("Cast", {f32({3}, {300, -5, 2.7f})}, {{"to", int64_t{2}}}).to_i64() == std::vector<int64_t>{255, 0, 2});
  CHECK(run1("Cast", {f32({3}, {0, -0.5f, 2})}, {{"to", int64_t{9}}}).to_i64() == std::vector<int64_t>{0, 1, 1});
  check_close(run1("Cast", {i64({2}, {-3, 1 << 20})}, {{"to", int64_t{1}}}), {2}, {-3, 1048576});
  const auto half = run1("Cast", {f32({2}, {1.5f, -2})}, {{"to", int64_t{10}}});
  CHECK(half.dtype() == DType::f16);
  check_close(run1("Cast", {half}, {{"to", int64_t{1}}}), {2}, {1.5f, -2});
}

TEST_CASE("variadic Sum, Max, Min and Mean") {
  check_close(run1("Sum", {f32({2}, {1, 2}), f32({}, {10}), f32({2}, {100, 200})}), {2}, {111, 212});
  check_close(run1("Max", {f32({2}, {1, 5}), f32({2}, {3, 2})}), {2}, {3, 5});
  check_close(run1("Min", {f32({2}, {1, 5}), f32({1}, {3})}), {2}, {1, 3});
  check_close(run1("Mean", {f32({2}, {1, 5}), f32({2}, {3, 2})}), {2}, {2, 3.5f});
}

TEST_CASE("f16 arithmetic, Max, Min and Mod compute in f32 and round once") {
  // 2048 + 1 and 2048 + 3 are ties in f16 (spacing 2): to even.
  const HostTensor sum = run1("Add", {f16({2}, {2048, 2048}), f16({2}, {1, 3})});
  CHECK(sum.dtype() == DType::f16);
  CHECK(sum.to_f32() == std::vector<float>{2048, 2052});
  CHECK(run1("Max", {f16({3}, {1.5f, -2, 7}), f16({3}, {0.25f, -1, 7}), f16({1}, {2})}).to_f32() == std::vector<float>{2, 2, 7});
  CHECK(run1("Min", {f16({2}, {1.5f, -2}), f16({2}, {0.25f, -1})}).to_f32() == std::vector<float>{0.25f, -2});
  const HostTensor nan = run1("Max", {f16({1}, {NAN}), f16({1}, {1})});
  CHECK(std::isnan(nan.to_f32()[0]));
  // fmod keeps the sign of the dividend.
  const HostTensor mod = run1("Mod", {f16({3}, {5.5f, -5.5f, 7}), f16({3}, {2, 2, -3})}, {{"fmod", int64_t{1}}});
  CHECK(mod.dtype() == DType::f16);
  CHECK(mod.to_f32() == std::vector<float>{1.5f, -1.5f, 1});
  CHECK_THROWS_WITH_AS(run1("Mod", {f16({1}, {1}), f16({1}, {2})}), doctest::Contains("fmod=1"), Error);
}

TEST_CASE("Dropout: identity in inference, numpy's seeded mask in training mode") {
  std::vector<float> x(10);
  for (size_t i = 0; i < x.size(); ++i) x[i] = static_cast<float>(i + 1);
  const HostTensor input = f32({2, 5}, x);
  const HostTensor on = boolean({}, {1});
  // np.random.seed(0); np.random.uniform(0, 1, 10) = 0.549 0.715 0.603 0.545 0.424 0.646 0.438 0.892 0.964 0.383
  auto expect = [&](const std::vector<uint8_t>& mask, double ratio) {
    std::vector<float> y;
    for (size_t i = 0; i < mask.size(); ++i) y.push_back(mask[i] ? static_cast<float>(x[i] / (1 - ratio)) : 0.0f);
    return y;
  };
  const std::vector<uint8_t> seed0_half{1, 1, 1, 1, 0, 1, 0, 1, 1, 0};
  for (const auto& attributes : {std::map<std::string, Attribute>{{"seed", int64_t{0}}}, std::map<std::string, Attribute>{}}) {
    // An absent seed is seed 0: edgec is deterministic.
    const auto out = OneNode("Dropout", {input, f32({}, {0.5f}), on}, attributes, 2, 13).run();
    check_close(out[0], {2, 5}, expect(seed0_half, 0.5));
    CHECK(out[1].dtype() == DType::boolean);
    CHECK(out[1].to_i64() == std::vector<int64_t>(seed0_half.begin(), seed0_half.end()));
  }
  // np.random.seed(1): 0.417 0.720 0.000114 0.302 0.147 0.0923 0.186 0.346 0.397 0.539
  const std::vector<uint8_t> seed1_03{1, 1, 0, 1, 0, 0, 0, 1, 1, 1};
  const auto seeded = OneNode("Dropout", {input, f32({}, {0.3f}), on}, {{"seed", int64_t{1}}}, 2, 13).run();
  check_close(seeded[0], {2, 5}, expect(seed1_03, 0.3f), 1e-4);
  CHECK(seeded[1].to_i64() == std::vector<int64_t>(seed1_03.begin(), seed1_03.end()));
  // f16 data: the same mask, scaled in f32 and rounded.
  const HostTensor half = run1("Dropout", {f16({2, 5}, x), f32({}, {0.5f}), on}, {}, 13);
  CHECK(half.dtype() == DType::f16);
  CHECK(half.to_f32() == expect(seed0_half, 0.5));
  // Inference (no training_mode, or false), ratio 0, and opset < 12: the identity and an all-true mask.
  const std::vector<int64_t> all(10, 1);
  for (const auto& inputs : {std::vector<HostTensor>{input}, std::vector<HostTensor>{input, f32({}, {0.5f}), boolean({}, {0})},
                             std::vector<HostTensor>{input, f32({}, {0}), on}}) {
    const auto out = OneNode("Dropout", inputs, {}, 2, 13).run();
    check_close(out[0], {2, 5}, x);
    CHECK(out[1].to_i64() == all);
  }
  check_close(run1("Dropout", {input}, {{"ratio", 0.5f}}, 10), {2, 5}, x);
  CHECK_THROWS_WITH_AS(run1("Dropout", {input, f32({}, {1}), on}, {}, 13), doctest::Contains("ratio"), Error);
}
