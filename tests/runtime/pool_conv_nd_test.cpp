// N-D (3-D) pooling, Conv and ConvTranspose against direct loops written here, MaxPool's Indices output in
// both storage orders, and the pools' integer and f16 inputs.
#include <doctest/doctest.h>

#include <array>
#include <cmath>
#include <limits>

#include "edgec/core/error.hpp"
#include "test_helpers.hpp"

using namespace edgec;
using namespace edgec::runtime;
using namespace edgec::runtime::test;

namespace {

using Axes = std::array<int64_t, 3>;

std::vector<int64_t> ints(const Axes& a) { return {a[0], a[1], a[2]}; }

struct Pool3d {
  Axes kernel, strides, dilations, pad_begin, pad_end;
  bool ceil_mode = false, include_pad = false;
};

Axes pool_out(const Pool3d& p, const Axes& in) {
  Axes out{};
  for (size_t a = 0; a < 3; ++a) {
    const int64_t span = in[a] + p.pad_begin[a] + p.pad_end[a] - ((p.kernel[a] - 1) * p.dilations[a] + 1);
    out[a] = (p.ceil_mode ? (span + p.strides[a] - 1) / p.strides[a] : span / p.strides[a]) + 1;
    if (p.ceil_mode && (out[a] - 1) * p.strides[a] >= in[a] + p.pad_begin[a]) --out[a];
  }
  return out;
}

struct PoolResult {
  std::vector<float> max, average;
  std::vector<int64_t> row_major, column_major;  // MaxPool Indices
};

// The spec, one output at a time: every tap of the window, in row-major order.
PoolResult reference_pool(const Pool3d& p, const std::vector<float>& x, int64_t planes, const Axes& in) {
  const Axes out = pool_out(p, in);
  PoolResult r;
  for (int64_t plane = 0; plane < planes; ++plane)
    for (int64_t o0 = 0; o0 < out[0]; ++o0)
      for (int64_t o1 = 0; o1 < out[1]; ++o1)
        for (int64_t o2 = 0; o2 < out[2]; ++o2) {
          float best = -std::numeric_limits<float>::infinity();
          int64_t best_row = -1, best_column = -1, count = 0, padded = 0;
          double sum = 0;
          for (int64_t k0 = 0; k0 < p.kernel[0]; ++k0)
            for (int64_t k1 = 0; k1 < p.kernel[1]; ++k1)
              for (int64_t k2 = 0; k2 < p.kernel[2]; ++k2) {
                const Axes o{o0, o1, o2}, k{k0, k1, k2};
                Axes at{};
                bool inside = true, in_padded = true;
                for (size_t a = 0; a < 3; ++a) {
                  at[a] = o[a] * p.strides[a] - p.pad_begin[a] + k[a] * p.dilations[a];
                  inside = inside && at[a] >= 0 && at[a] < in[a];
                  in_padded = in_padded && at[a] >= -p.pad_begin[a] && at[a] < in[a] + p.pad_end[a];
                }
                padded += in_padded;
                if (!inside) continue;
                const int64_t row = (at[0] * in[1] + at[1]) * in[2] + at[2];
                const float v = x[static_cast<size_t>(plane * in[0] * in[1] * in[2] + row)];
                if (v > best) {
                  best = v;
                  best_row = row;
                  best_column = at[0] + at[1] * in[0] + at[2] * in[0] * in[1];
                }
                sum += v;
                ++count;
              }
          const int64_t base = plane * in[0] * in[1] * in[2];
          r.max.push_back(best);
          r.row_major.push_back(base + best_row);
          r.column_major.push_back(base + best_column);
          r.average.push_back(static_cast<float>(sum / static_cast<double>(p.include_pad ? padded : count)));
        }
  return r;
}

std::map<std::string, Attribute> pool_attributes(const Pool3d& p) {
  std::vector<int64_t> pads = ints(p.pad_begin);
  pads.insert(pads.end(), p.pad_end.begin(), p.pad_end.end());
  return {{"kernel_shape", ints(p.kernel)},
          {"strides", ints(p.strides)},
          {"dilations", ints(p.dilations)},
          {"pads", pads},
          {"ceil_mode", int64_t{p.ceil_mode}},
          {"count_include_pad", int64_t{p.include_pad}}};
}

}  // namespace

TEST_CASE("3-D MaxPool and AveragePool: pads, strides, dilations, ceil_mode, count_include_pad, Indices") {
  const Axes in{5, 6, 7};
  const int64_t n = 2, c = 3;
  const auto x = pattern(static_cast<size_t>(n * c * in[0] * in[1] * in[2]), 0.3);
  const std::vector<Pool3d> cases{
      {{2, 2, 2}, {1, 1, 1}, {1, 1, 1}, {0, 0, 0}, {0, 0, 0}},
      {{2, 3, 2}, {2, 1, 2}, {1, 2, 1}, {1, 0, 1}, {0, 1, 1}},
      {{3, 2, 3}, {2, 2, 2}, {1, 1, 1}, {1, 1, 1}, {1, 1, 1}, true, true},
      {{3, 2, 3}, {2, 3, 2}, {2, 1, 1}, {0, 1, 1}, {2, 0, 1}, true, false},
  };
  for (const Pool3d& p : cases) {
    const Axes out = pool_out(p, in);
    const std::vector<int64_t> out_dims{n, c, out[0], out[1], out[2]};
    const PoolResult want = reference_pool(p, x, n * c, in);
    const HostTensor input = f32({n, c, in[0], in[1], in[2]}, x);
    // AveragePool has dilations from opset 19.
    check_close(run1("AveragePool", {input}, pool_attributes(p), 19), out_dims, want.average, 1e-6);
    for (const int64_t order : {0, 1}) {
      auto attributes = pool_attributes(p);
      attributes.erase("count_include_pad");
      attributes["storage_order"] = order;
      const auto y = OneNode("MaxPool", {input}, attributes, 2).run();
      check_close(y[0], out_dims, want.max, 0);
      REQUIRE(y[1].dtype() == DType::i64);
      REQUIRE(y[1].dims() == out_dims);
      CHECK(y[1].to_i64() == (order == 0 ? want.row_major : want.column_major));
    }
  }
}

TEST_CASE("MaxPool Indices: flattened over N and C, row-major or column-major (storage_order)") {
  // Plane 0 holds 1..9, plane 1 holds 9..1; 2x2 windows, stride 1.
  const auto x = f32({1, 2, 3, 3}, {1, 2, 3, 4, 5, 6, 7, 8, 9, 9, 8, 7, 6, 5, 4, 3, 2, 1});
  const std::map<std::string, Attribute> attributes{{"kernel_shape", std::vector<int64_t>{2, 2}}};
  const auto rows = OneNode("MaxPool", {x}, attributes, 2).run();
  check_close(rows[0], {1, 2, 2, 2}, {5, 6, 8, 9, 9, 8, 6, 5});
  CHECK(rows[1].to_i64() == std::vector<int64_t>{4, 5, 7, 8, 9, 10, 12, 13});
  auto column = attributes;
  column["storage_order"] = int64_t{1};
  // (h, w) -> h + w * H within the plane, plus plane * H * W.
  CHECK(OneNode("MaxPool", {x}, column, 2).run()[1].to_i64() == std::vector<int64_t>{4, 7, 5, 8, 9, 12, 10, 13});
}

TEST_CASE("MaxPool takes i8, u8 and f16, AveragePool f16, global pools f16") {
  const std::map<std::string, Attribute> attributes{{"kernel_shape", std::vector<int64_t>{2}},
                                                    {"strides", std::vector<int64_t>{2}}};
  const auto u8 = HostTensor::from_values<uint8_t>(DType::u8, {1, 1, 4}, std::vector<uint8_t>{0, 255, 7, 3});
  const HostTensor y_u8 = run1("MaxPool", {u8}, attributes);
  CHECK(y_u8.dtype() == DType::u8);
  CHECK(y_u8.to_i64() == std::vector<int64_t>{255, 7});
  // A window of the type's lowest value still points at its first element.
  const auto zeros = HostTensor::from_values<uint8_t>(DType::u8, {1, 1, 4}, std::vector<uint8_t>{0, 0, 5, 0});
  CHECK(OneNode("MaxPool", {zeros}, attributes, 2).run()[1].to_i64() == std::vector<int64_t>{0, 2});
  const auto i8 = HostTensor::from_values<int8_t>(DType::i8, {1, 1, 4}, std::vector<int8_t>{-128, -100, -3, -7});
  CHECK(run1("MaxPool", {i8}, attributes).to_i64() == std::vector<int64_t>{-100, -3});
  const HostTensor half = f16({1, 1, 4}, {0.5f, -2, 1000, 3});
  const HostTensor y_half = run1("MaxPool", {half}, attributes);
  CHECK(y_half.dtype() == DType::f16);
  CHECK(y_half.to_f32() == std::vector<float>{0.5f, 1000});
  CHECK(run1("AveragePool", {half}, attributes).to_f32() == std::vector<float>{-0.75f, 501.5f});
  CHECK(run1("GlobalMaxPool", {half}).to_f32() == std::vector<float>{1000});
  // u8 is a MaxPool type only.
  CHECK_THROWS_WITH_AS(run1("AveragePool", {u8}, attributes), doctest::Contains("not supported"), Error);
}

TEST_CASE("3-D Conv (grouped, depthwise, pointwise) and ConvTranspose match direct loops") {
  const Axes in{4, 5, 6};
  SUBCASE("Conv") {
    struct Case {
      int64_t channels, maps, group;
      Axes kernel, strides, dilations, pad_begin, pad_end;
    };
    const std::vector<Case> cases{
        {4, 6, 2, {2, 3, 2}, {1, 2, 1}, {2, 1, 1}, {1, 0, 1}, {0, 1, 1}},  // grouped
        {3, 3, 3, {3, 3, 3}, {1, 1, 2}, {1, 1, 1}, {1, 1, 1}, {1, 1, 1}},  // depthwise
        {3, 5, 1, {1, 1, 1}, {1, 1, 1}, {1, 1, 1}, {0, 0, 0}, {0, 0, 0}},  // pointwise
    };
    for (const Case& p : cases) {
      const int64_t cg = p.channels / p.group, mg = p.maps / p.group;
      const auto x = pattern(static_cast<size_t>(2 * p.channels * in[0] * in[1] * in[2]), 0.1);
      const auto w = pattern(static_cast<size_t>(p.maps * cg * p.kernel[0] * p.kernel[1] * p.kernel[2]), 0.5);
      const auto bias = pattern(static_cast<size_t>(p.maps), 0.9);
      Axes out{};
      for (size_t a = 0; a < 3; ++a)
        out[a] = (in[a] + p.pad_begin[a] + p.pad_end[a] - ((p.kernel[a] - 1) * p.dilations[a] + 1)) / p.strides[a] + 1;
      std::vector<float> want;
      for (int64_t b = 0; b < 2; ++b)
        for (int64_t m = 0; m < p.maps; ++m)
          for (int64_t o0 = 0; o0 < out[0]; ++o0)
            for (int64_t o1 = 0; o1 < out[1]; ++o1)
              for (int64_t o2 = 0; o2 < out[2]; ++o2) {
                double acc = bias[static_cast<size_t>(m)];
                const int64_t g = m / mg;
                for (int64_t ci = 0; ci < cg; ++ci)
                  for (int64_t k0 = 0; k0 < p.kernel[0]; ++k0)
                    for (int64_t k1 = 0; k1 < p.kernel[1]; ++k1)
                      for (int64_t k2 = 0; k2 < p.kernel[2]; ++k2) {
                        const int64_t i0 = o0 * p.strides[0] - p.pad_begin[0] + k0 * p.dilations[0];
                        const int64_t i1 = o1 * p.strides[1] - p.pad_begin[1] + k1 * p.dilations[1];
                        const int64_t i2 = o2 * p.strides[2] - p.pad_begin[2] + k2 * p.dilations[2];
                        if (i0 < 0 || i0 >= in[0] || i1 < 0 || i1 >= in[1] || i2 < 0 || i2 >= in[2]) continue;
                        const int64_t channel = b * p.channels + g * cg + ci;
                        acc += static_cast<double>(x[static_cast<size_t>(((channel * in[0] + i0) * in[1] + i1) * in[2] + i2)]) *
                               w[static_cast<size_t>((((m * cg + ci) * p.kernel[0] + k0) * p.kernel[1] + k1) * p.kernel[2] + k2)];
                      }
                want.push_back(static_cast<float>(acc));
              }
      std::vector<int64_t> pads = ints(p.pad_begin);
      pads.insert(pads.end(), p.pad_end.begin(), p.pad_end.end());
      const HostTensor y = run1("Conv",
                                {f32({2, p.channels, in[0], in[1], in[2]}, x),
                                 f32({p.maps, cg, p.kernel[0], p.kernel[1], p.kernel[2]}, w), f32({p.maps}, bias)},
                                {{"group", p.group}, {"strides", ints(p.strides)}, {"dilations", ints(p.dilations)}, {"pads", pads}});
      check_close(y, {2, p.maps, out[0], out[1], out[2]}, want, 1e-5);
    }
  }
  SUBCASE("ConvTranspose") {
    const int64_t channels = 4, group = 2, mg = 3, cg = channels / group;
    const Axes kernel{2, 3, 2}, strides{2, 1, 2}, dilations{1, 2, 1}, pad_begin{1, 0, 0}, pad_end{0, 1, 1};
    const Axes output_padding{1, 0, 0};
    const auto x = pattern(static_cast<size_t>(channels * in[0] * in[1] * in[2]), 0.2);
    const auto w = pattern(static_cast<size_t>(channels * mg * kernel[0] * kernel[1] * kernel[2]), 0.6);
    const auto bias = pattern(static_cast<size_t>(group * mg), 1.0);
    Axes full{}, out{};
    for (size_t a = 0; a < 3; ++a) {
      full[a] = strides[a] * (in[a] - 1) + output_padding[a] + (kernel[a] - 1) * dilations[a] + 1;
      out[a] = full[a] - pad_begin[a] - pad_end[a];
    }
    // Scatter every input element through the kernel into the full output, then crop the pads.
    std::vector<double> acc(static_cast<size_t>(group * mg * full[0] * full[1] * full[2]));
    for (int64_t c = 0; c < channels; ++c)
      for (int64_t i0 = 0; i0 < in[0]; ++i0)
        for (int64_t i1 = 0; i1 < in[1]; ++i1)
          for (int64_t i2 = 0; i2 < in[2]; ++i2)
            for (int64_t m = 0; m < mg; ++m)
              for (int64_t k0 = 0; k0 < kernel[0]; ++k0)
                for (int64_t k1 = 0; k1 < kernel[1]; ++k1)
                  for (int64_t k2 = 0; k2 < kernel[2]; ++k2) {
                    const int64_t map = (c / cg) * mg + m;
                    const int64_t f0 = i0 * strides[0] + k0 * dilations[0], f1 = i1 * strides[1] + k1 * dilations[1];
                    const int64_t f2 = i2 * strides[2] + k2 * dilations[2];
                    acc[static_cast<size_t>(((map * full[0] + f0) * full[1] + f1) * full[2] + f2)] +=
                        static_cast<double>(x[static_cast<size_t>(((c * in[0] + i0) * in[1] + i1) * in[2] + i2)]) *
                        w[static_cast<size_t>((((c * mg + m) * kernel[0] + k0) * kernel[1] + k1) * kernel[2] + k2)];
                  }
    std::vector<float> want;
    for (int64_t map = 0; map < group * mg; ++map)
      for (int64_t o0 = 0; o0 < out[0]; ++o0)
        for (int64_t o1 = 0; o1 < out[1]; ++o1)
          for (int64_t o2 = 0; o2 < out[2]; ++o2) {
            const int64_t f0 = o0 + pad_begin[0], f1 = o1 + pad_begin[1], f2 = o2 + pad_begin[2];
            want.push_back(static_cast<float>(acc[static_cast<size_t>(((map * full[0] + f0) * full[1] + f1) * full[2] + f2)] +
                                              bias[static_cast<size_t>(map)]));
          }
    std::vector<int64_t> pads = ints(pad_begin);
    pads.insert(pads.end(), pad_end.begin(), pad_end.end());
    const HostTensor y = run1("ConvTranspose",
                              {f32({1, channels, in[0], in[1], in[2]}, x), f32({channels, mg, kernel[0], kernel[1], kernel[2]}, w),
                               f32({group * mg}, bias)},
                              {{"group", group}, {"strides", ints(strides)}, {"dilations", ints(dilations)}, {"pads", pads},
                               {"output_padding", ints(output_padding)}});
    check_close(y, {1, group * mg, out[0], out[1], out[2]}, want, 1e-5);
  }
}
