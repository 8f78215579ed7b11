#include <doctest/doctest.h>

#include <cmath>

#include "edgec/core/error.hpp"
#include "test_helpers.hpp"

using namespace edgec;
using namespace edgec::runtime;
using namespace edgec::runtime::test;

TEST_CASE("BatchNormalization, InstanceNormalization and LayerNormalization") {
  const auto x = f32({1, 2, 1, 2}, {1, 3, 10, 20});
  const auto y = run1("BatchNormalization", {x, f32({2}, {2, 1}), f32({2}, {1, 0}), f32({2}, {1, 10}), f32({2}, {4, 1})},
                      {{"epsilon", 0.0f}});
  check_close(y, {1, 2, 1, 2}, {1, 3, 0, 10});
  const float s = 1 / std::sqrt(1 + 1e-5f);
  check_close(run1("InstanceNormalization", {x, f32({2}, {1, 2}), f32({2}, {0, 1})}), {1, 2, 1, 2},
              {-s, s, 1 - 2 * (5 / std::sqrt(25 + 1e-5f)), 1 + 2 * (5 / std::sqrt(25 + 1e-5f))}, 1e-4);
  const auto ln = OneNode("LayerNormalization", {f32({2, 2}, {1, 3, 0, 4}), f32({2}, {1, 2}), f32({2}, {0, 1})},
                          {{"epsilon", 0.0f}}, 3)
                      .run();
  check_close(ln[0], {2, 2}, {-1, 3, -1, 3});
  check_close(ln[1], {2, 1}, {2, 2});
  check_close(ln[2], {2, 1}, {1, 0.5f});
}

TEST_CASE("BatchNormalization training mode: batch statistics and running averages") {
  // Channel 0 holds 1, 2 | 3, 6 (mean 3, population variance 3.5); channel 1 holds 0, 0 | 4, 4 (mean 2, var 4).
  const auto x = f32({2, 2, 2}, {1, 2, 0, 0, 3, 6, 4, 4});
  const std::vector<HostTensor> inputs{x, f32({2}, {2, 1}), f32({2}, {1, 0}), f32({2}, {10, 0}), f32({2}, {1, 2})};
  const std::map<std::string, Attribute> attributes{{"epsilon", 0.0f}, {"momentum", 0.5f}, {"training_mode", int64_t{1}}};
  const auto norm = [](double v, double mean, double var, double scale, double bias) {
    return static_cast<float>((v - mean) / std::sqrt(var) * scale + bias);
  };
  const std::vector<float> y{norm(1, 3, 3.5, 2, 1), norm(2, 3, 3.5, 2, 1), -1, -1,
                             norm(3, 3, 3.5, 2, 1), norm(6, 3, 3.5, 2, 1), 1,  1};
  const auto out = OneNode("BatchNormalization", inputs, attributes, 3, 15).run();
  check_close(out[0], {2, 2, 2}, y);
  check_close(out[1], {2}, {6.5f, 1});     // 10 * 0.5 + 3 * 0.5, 0 * 0.5 + 2 * 0.5
  check_close(out[2], {2}, {2.25f, 3});    // 1 * 0.5 + 3.5 * 0.5, 2 * 0.5 + 4 * 0.5
  // Opset 14 has the attribute too; before 14 asking for the mean/var outputs means training.
  check_close(OneNode("BatchNormalization", inputs, attributes, 3, 14).run()[2], {2}, {2.25f, 3});
  const auto legacy = OneNode("BatchNormalization", inputs, {{"epsilon", 0.0f}, {"momentum", 0.5f}}, 3, 9).run();
  check_close(legacy[0], {2, 2, 2}, y);
  check_close(legacy[1], {2}, {6.5f, 1});
  // Training mode with only Y wanted, and inference (training_mode=0) still uses the given statistics.
  check_close(OneNode("BatchNormalization", inputs, attributes, 1, 15).run()[0], {2, 2, 2}, y);
  check_close(OneNode("BatchNormalization", inputs, {{"epsilon", 0.0f}}, 1, 15).run()[0], {2, 2, 2},
              {-17, -15, 0, 0, -13, -7, 2.828427f, 2.828427f}, 1e-5);
  // Running statistics without training_mode=1 are refused before running.
  CHECK_THROWS_WITH_AS(OneNode("BatchNormalization", inputs, {{"epsilon", 0.0f}}, 3, 15).run(),
                       doctest::Contains("training_mode"), Error);
}

TEST_CASE("Resize nearest and linear with coordinate transforms") {
  const auto x = f32({1, 1, 2, 2}, {1, 2, 3, 4});
  const auto scales = f32({4}, {1, 1, 2, 2});
  // nearest, asymmetric + floor: each pixel repeated
  check_close(run1("Resize", {x, HostTensor{}, scales},
                   {{"mode", std::string("nearest")}, {"coordinate_transformation_mode", std::string("asymmetric")},
                    {"nearest_mode", std::string("floor")}}),
              {1, 1, 4, 4}, {1, 1, 2, 2, 1, 1, 2, 2, 3, 3, 4, 4, 3, 3, 4, 4});
  // linear, half_pixel: the ONNX test case resize_upsample_scales_linear
  check_close(run1("Resize", {x, HostTensor{}, scales}, {{"mode", std::string("linear")}}), {1, 1, 4, 4},
              {1, 1.25f, 1.75f, 2, 1.5f, 1.75f, 2.25f, 2.5f, 2.5f, 2.75f, 3.25f, 3.5f, 3, 3.25f, 3.75f, 4});
  // linear, align_corners (resize_upsample_scales_linear_align_corners)
  check_close(run1("Resize", {x, HostTensor{}, scales},
                   {{"mode", std::string("linear")}, {"coordinate_transformation_mode", std::string("align_corners")}}),
              {1, 1, 4, 4},
              {1, 1.333333f, 1.666667f, 2, 1.666667f, 2, 2.333333f, 2.666667f, 2.333333f, 2.666667f, 3, 3.333333f, 3,
               3.333333f, 3.666667f, 4});
  // sizes instead of scales, nearest round_prefer_floor half_pixel (resize_downsample_sizes_nearest)
  const auto big = f32({1, 1, 2, 4}, {1, 2, 3, 4, 5, 6, 7, 8});
  check_close(run1("Resize", {big, HostTensor{}, HostTensor{}, i64({4}, {1, 1, 1, 2})}, {{"mode", std::string("nearest")}}),
              {1, 1, 1, 2}, {1, 3});
  // tf_half_pixel_for_nn: x_original = (x + 0.5) / scale, no -0.5; 2x2 -> 3x3 reads rows and columns 0, 1, 1.
  check_close(run1("Resize", {x, HostTensor{}, HostTensor{}, i64({4}, {1, 1, 3, 3})},
                   {{"mode", std::string("nearest")}, {"coordinate_transformation_mode", std::string("tf_half_pixel_for_nn")}}),
              {1, 1, 3, 3}, {1, 2, 2, 3, 4, 4, 3, 4, 4});
  // opset 11 signature with an empty roi and scales
  check_close(run1("Resize", {x, f32({0}, {}), scales}, {{"mode", std::string("nearest")}}, 11).reshaped({16}), {16},
              {1, 1, 2, 2, 1, 1, 2, 2, 3, 3, 4, 4, 3, 3, 4, 4});
}

TEST_CASE("Resize cubic matches the ONNX conformance values") {
  // resize_upsample_scales_cubic: 4x4 input 1..16, scales 2, A = -0.75, half_pixel; first row of the output.
  std::vector<float> values(16);
  for (int i = 0; i < 16; ++i) values[static_cast<size_t>(i)] = static_cast<float>(i + 1);
  const auto y = run1("Resize", {f32({1, 1, 4, 4}, values), HostTensor{}, f32({4}, {1, 1, 2, 2})}, {{"mode", std::string("cubic")}});
  REQUIRE(y.dims() == std::vector<int64_t>{1, 1, 8, 8});
  const std::vector<float> first_row{0.47265625f, 0.76953125f, 1.24609375f, 1.875f, 2.28125f, 2.91015625f, 3.38671875f, 3.68359375f};
  const auto out = y.to_f32();
  for (size_t i = 0; i < 8; ++i) CHECK(std::abs(out[i] - first_row[i]) < 1e-5);
}

TEST_CASE("QuantizeLinear / DequantizeLinear: per tensor, per axis, rounding half to even, saturation") {
  const auto q = run1("QuantizeLinear", {f32({6}, {0, 2, 3, 1000, -254, -1000}), f32({}, {2}), HostTensor::from_values<uint8_t>(DType::u8, {}, std::vector<uint8_t>{128})});
  CHECK(q.dtype() == DType::u8);
  CHECK(q.to_i64() == std::vector<int64_t>{128, 129, 130, 255, 1, 0});
  const auto qi = run1("QuantizeLinear", {f32({2, 2}, {1, -1, 5, 2.5f}), f32({2}, {1, 2}),
                                          HostTensor::from_values<int8_t>(DType::i8, {2}, std::vector<int8_t>{0, -1})},
                       {{"axis", int64_t{0}}});
  CHECK(qi.to_i64() == std::vector<int64_t>{1, -1, 1, 0});
  const auto d = run1("DequantizeLinear", {HostTensor::from_values<int8_t>(DType::i8, {2, 2}, std::vector<int8_t>{1, -1, 3, 4}),
                                           f32({2}, {0.5f, 2}), HostTensor::from_values<int8_t>(DType::i8, {2}, std::vector<int8_t>{1, 0})},
                      {{"axis", int64_t{1}}});
  check_close(d, {2, 2}, {0, -2, 1, 8});
  const auto blocked = run1("DequantizeLinear", {HostTensor::from_values<uint8_t>(DType::u8, {1, 4}, std::vector<uint8_t>{1, 2, 3, 4}),
                                                 f32({1, 2}, {1, 10})},
                            {{"axis", int64_t{1}}, {"block_size", int64_t{2}}}, 21);
  check_close(blocked, {1, 4}, {1, 2, 30, 40});
}
