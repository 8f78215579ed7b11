#include <doctest/doctest.h>

#include "edgec/core/error.hpp"
#include "test_helpers.hpp"

using namespace edgec;
using namespace edgec::runtime;
using namespace edgec::runtime::test;

namespace {
std::vector<float> iota(int n) {
  std::vector<float> v(static_cast<size_t>(n));
  for (int i = 0; i < n; ++i) v[static_cast<size_t>(i)] = static_cast<float>(i);
  return v;
}
}  // namespace

TEST_CASE("Shape, Reshape, Flatten") {
  const auto x = f32({2, 3, 4}, iota(24));
  CHECK(run1("Shape", {x}).to_i64() == std::vector<int64_t>{2, 3, 4});
  CHECK(run1("Shape", {x}, {{"start", int64_t{-2}}}, 15).to_i64() == std::vector<int64_t>{3, 4});
  CHECK(run1("Reshape", {x, i64({3}, {0, -1, 2})}).dims() == std::vector<int64_t>{2, 6, 2});
  CHECK(run1("Reshape", {f32({0, 3}, {}), i64({2}, {3, 0})}, {{"allowzero", int64_t{1}}}).dims() ==
        std::vector<int64_t>{3, 0});
  CHECK_THROWS_WITH_AS(run1("Reshape", {x, i64({2}, {5, -1})}), doctest::Contains("cannot infer"), Error);
  CHECK(run1("Flatten", {x}, {{"axis", int64_t{-1}}}).dims() == std::vector<int64_t>{6, 4});
  CHECK(run1("Flatten", {x}, {{"axis", int64_t{0}}}).dims() == std::vector<int64_t>{1, 24});
}

TEST_CASE("Squeeze and Unsqueeze: attributes before opset 13, inputs after") {
  const auto x = f32({1, 3, 1}, {1, 2, 3});
  CHECK(run1("Squeeze", {x}, {{"axes", std::vector<int64_t>{0}}}, 11).dims() == std::vector<int64_t>{3, 1});
  CHECK(run1("Squeeze", {x, i64({1}, {-1})}, {}, 13).dims() == std::vector<int64_t>{1, 3});
  CHECK(run1("Squeeze", {x}, {}, 13).dims() == std::vector<int64_t>{3});
  CHECK(run1("Unsqueeze", {x}, {{"axes", std::vector<int64_t>{0, 4}}}, 11).dims() == std::vector<int64_t>{1, 1, 3, 1, 1});
  CHECK(run1("Unsqueeze", {f32({}, {5}), i64({2}, {1, 0})}, {}, 13).dims() == std::vector<int64_t>{1, 1});
  CHECK_THROWS_AS(run1("Squeeze", {x, i64({1}, {1})}, {}, 13), Error);
}

TEST_CASE("Transpose moves elements by perm") {
  // x[i][j][k] = i*12 + j*4 + k; perm (2,0,1): y[k][i][j]
  const auto y = run1("Transpose", {f32({2, 3, 4}, iota(24))}, {{"perm", std::vector<int64_t>{2, 0, 1}}});
  std::vector<float> expected;
  for (int k = 0; k < 4; ++k)
    for (int i = 0; i < 2; ++i)
      for (int j = 0; j < 3; ++j) expected.push_back(static_cast<float>(i * 12 + j * 4 + k));
  check_close(y, {4, 2, 3}, expected);
  check_close(run1("Transpose", {f32({2, 2}, {1, 2, 3, 4})}), {2, 2}, {1, 3, 2, 4});  // default: reversed
}

TEST_CASE("Slice clamps like the ONNX spec, with negative steps, and opset 9 attributes") {
  const auto x = f32({10}, iota(10));
  check_close(run1("Slice", {x, i64({1}, {2}), i64({1}, {1000})}), {8}, {2, 3, 4, 5, 6, 7, 8, 9});
  check_close(run1("Slice", {x, i64({1}, {-1}), i64({1}, {INT64_MIN}), i64({1}, {0}), i64({1}, {-3})}), {4}, {9, 6, 3, 0});
  check_close(run1("Slice", {x, i64({1}, {5}), i64({1}, {2})}), {0}, {});
  const auto m = f32({3, 4}, iota(12));
  check_close(run1("Slice", {m, i64({2}, {1, 1}), i64({2}, {-1, 3}), i64({2}, {1, 0})}), {2, 2}, {5, 6, 9, 10});
  check_close(run1("Slice", {m}, {{"starts", std::vector<int64_t>{1}}, {"ends", std::vector<int64_t>{3}},
                                  {"axes", std::vector<int64_t>{1}}}, 9),
              {3, 2}, {1, 2, 5, 6, 9, 10});
}

TEST_CASE("Concat, Split, Gather, Expand, Tile") {
  check_close(run1("Concat", {f32({2, 1}, {1, 2}), f32({2, 2}, {3, 4, 5, 6})}, {{"axis", int64_t{-1}}}), {2, 3},
              {1, 3, 4, 2, 5, 6});
  const auto parts = OneNode("Split", {f32({5}, iota(5)), i64({2}, {2, 3})}, {}, 2, 13).run();
  check_close(parts[0], {2}, {0, 1});
  check_close(parts[1], {3}, {2, 3, 4});
  const auto equal = OneNode("Split", {f32({2, 4}, iota(8))}, {{"axis", int64_t{1}}}, 2, 11).run();
  check_close(equal[1], {2, 2}, {2, 3, 6, 7});
  const auto uneven = OneNode("Split", {f32({5}, iota(5))}, {{"num_outputs", int64_t{2}}}, 2, 18).run();
  check_close(uneven[0], {3}, {0, 1, 2});
  check_close(uneven[1], {2}, {3, 4});
  // Gather on axis 1 with negative and 2-D indices
  check_close(run1("Gather", {f32({2, 3}, iota(6)), i64({2, 2}, {0, -1, 1, 1})}, {{"axis", int64_t{1}}}), {2, 2, 2},
              {0, 2, 1, 1, 3, 5, 4, 4});
  CHECK(run1("Gather", {i64({3}, {7, 8, 9}), i64({}, {2})}).to_i64() == std::vector<int64_t>{9});
  CHECK_THROWS_WITH_AS(run1("Gather", {f32({2}, {1, 2}), i64({1}, {2})}), doctest::Contains("out of range"), Error);
  check_close(run1("Expand", {f32({3, 1}, {1, 2, 3}), i64({3}, {2, 1, 2})}), {2, 3, 2}, {1, 1, 2, 2, 3, 3, 1, 1, 2, 2, 3, 3});
  check_close(run1("Tile", {f32({2}, {1, 2}), i64({1}, {3})}), {6}, {1, 2, 1, 2, 1, 2});
}

TEST_CASE("Constant, ConstantOfShape, Range, Trilu, Pad") {
  check_close(run1("Constant", {}, {{"value", ir_f32({2}, {1.5f, 2.5f})}}), {2}, {1.5f, 2.5f});
  CHECK(run1("Constant", {}, {{"value_ints", std::vector<int64_t>{4, 5}}}).to_i64() == std::vector<int64_t>{4, 5});
  const auto ones = run1("ConstantOfShape", {i64({2}, {2, 2})},
                         {{"value", Tensor::from_values<int64_t>(DType::i64, {1}, std::vector<int64_t>{1})}});
  CHECK(ones.dtype() == DType::i64);
  CHECK(ones.to_i64() == std::vector<int64_t>{1, 1, 1, 1});
  check_close(run1("ConstantOfShape", {i64({1}, {3})}), {3}, {0, 0, 0});
  CHECK(run1("Range", {i64({}, {10}), i64({}, {1}), i64({}, {-3})}).to_i64() == std::vector<int64_t>{10, 7, 4});
  check_close(run1("Range", {f32({}, {0}), f32({}, {1}), f32({}, {0.25f})}), {4}, {0, 0.25f, 0.5f, 0.75f});
  check_close(run1("Trilu", {f32({3, 3}, iota(9))}, {{"upper", int64_t{0}}}), {3, 3}, {0, 0, 0, 3, 4, 0, 6, 7, 8});
  check_close(run1("Trilu", {f32({2, 3}, iota(6)), i64({}, {1})}), {2, 3}, {0, 1, 2, 0, 0, 5});
  const auto x = f32({1, 3}, {1, 2, 3});
  check_close(run1("Pad", {x, i64({4}, {0, 2, 0, 1}), f32({}, {9})}), {1, 6}, {9, 9, 1, 2, 3, 9});
  check_close(run1("Pad", {x, i64({4}, {0, 2, 0, 2})}, {{"mode", std::string("reflect")}}), {1, 7}, {3, 2, 1, 2, 3, 2, 1});
  check_close(run1("Pad", {x, i64({4}, {0, 2, 0, 1})}, {{"mode", std::string("edge")}}), {1, 6}, {1, 1, 1, 2, 3, 3});
  check_close(run1("Pad", {x}, {{"pads", std::vector<int64_t>{0, 1, 0, -1}}, {"value", 5.0f}}, 9), {1, 3}, {5, 1, 2});
}
