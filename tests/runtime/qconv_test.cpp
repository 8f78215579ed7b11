// edgec.QConv (docs/ir-ops.md): every code path against Conv on the dequantized weight, for plain, strided and
// padded, 1x1, 1-D, grouped and depthwise convolutions, with bias, ragged groups and int8 activations; and the
// node's errors.
#include <doctest/doctest.h>

#include <cmath>
#include <optional>
#include <string>
#include <vector>

#include "edgec/core/error.hpp"
#include "qlinear_reference.hpp"
#include "test_helpers.hpp"

using namespace edgec;
using namespace edgec::runtime;
using namespace edgec::runtime::test;

namespace {

struct ConvCase {
  std::string name;
  std::vector<int64_t> x_dims;   // [N, C, spatial...]
  int64_t maps = 0;
  std::vector<int64_t> kernel;
  int64_t group = 1;
  std::map<std::string, Attribute> window;  // strides, pads, dilations, auto_pad
  int bits = 4;
  int64_t group_size = 32;
};

int64_t product(const std::vector<int64_t>& dims) {
  int64_t p = 1;
  for (const int64_t d : dims) p *= d;
  return p;
}

struct Prepared {
  HostTensor x;
  Quantized q;
  std::vector<float> bias;
  std::vector<int64_t> weight_dims;
};

Prepared prepare(const ConvCase& c, uint64_t seed) {
  Random random(seed);
  Prepared p;
  p.x = f32(c.x_dims, random.values(static_cast<size_t>(product(c.x_dims))));
  const int64_t k = c.x_dims[1] / c.group * product(c.kernel);
  const auto weight = random.values(static_cast<size_t>(c.maps * k));
  p.q = quantize(weight, c.maps, k, c.bits, std::min(c.group_size, k), false, true);
  p.bias = random.values(static_cast<size_t>(c.maps), 0.5f);
  p.weight_dims = {c.maps, c.x_dims[1] / c.group};
  p.weight_dims.insert(p.weight_dims.end(), c.kernel.begin(), c.kernel.end());
  return p;
}

std::map<std::string, Attribute> qconv_attrs(const ConvCase& c, const Quantized& q, const std::string& activations) {
  std::map<std::string, Attribute> attrs = c.window;
  attrs["kernel_shape"] = c.kernel;
  attrs["group"] = c.group;
  attrs["bits"] = int64_t{q.layout.bits};
  attrs["group_size"] = q.layout.group_size;
  attrs["in_features"] = q.layout.in_features;
  attrs["activations"] = activations;
  return attrs;
}

HostTensor run_qconv(const ConvCase& c, const Prepared& p, const std::string& activations = "float") {
  return run1("QConv", {p.x, p.q.qweight(), p.q.scale_tensor(), p.q.zero_tensor(), f32({c.maps}, p.bias)},
              qconv_attrs(c, p.q, activations), 17, "edgec");
}

HostTensor run_reference(const ConvCase& c, const Prepared& p) {
  std::map<std::string, Attribute> attrs = c.window;
  attrs["group"] = c.group;
  return run1("Conv", {p.x, f32(p.weight_dims, p.q.dequant), f32({c.maps}, p.bias)}, attrs);
}

const std::vector<ConvCase> kCases{
    {"3x3 stride 2 pad 1, w4 g32 (ragged last group)", {2, 8, 9, 7}, 12, {3, 3}, 1,
     {{"strides", std::vector<int64_t>{2, 2}}, {"pads", std::vector<int64_t>{1, 1, 1, 1}}}, 4, 32},
    {"3x3 w8 per channel", {1, 5, 6, 6}, 7, {3, 3}, 1, {}, 8, 45},
    {"3x3 w2 g16 dilation 2", {1, 4, 10, 9}, 9, {3, 3}, 1, {{"dilations", std::vector<int64_t>{2, 2}}}, 2, 16},
    {"3x3 w3 g32 SAME_UPPER", {1, 8, 7, 5}, 10, {3, 3}, 1, {{"auto_pad", std::string("SAME_UPPER")}}, 3, 32},
    {"1x1 w4 g32", {2, 64, 4, 5}, 16, {1, 1}, 1, {}, 4, 32},
    {"1-D kernel 3, w4 g16", {2, 16, 20}, 8, {3}, 1, {{"pads", std::vector<int64_t>{1, 1}}}, 4, 16},
    {"grouped 3x3, 2 groups, w4", {1, 8, 6, 6}, 6, {3, 3}, 2, {{"pads", std::vector<int64_t>{1, 1, 1, 1}}}, 4, 32},
    {"depthwise 3x3 w8 per channel", {2, 6, 7, 7}, 6, {3, 3}, 6, {{"pads", std::vector<int64_t>{1, 1, 1, 1}}}, 8, 9},
    {"depthwise 5x5 w4", {1, 3, 8, 8}, 3, {5, 5}, 3, {{"strides", std::vector<int64_t>{2, 2}}}, 4, 25},
};

}  // namespace

TEST_CASE("QConv matches Conv on the dequantized weight on every code path") {
  uint64_t seed = 1;
  for (const ConvCase& c : kCases) {
    const Prepared p = prepare(c, seed++);
    const HostTensor expected = run_reference(c, p);
    const double tolerance = 4e-6 * static_cast<double>(p.q.layout.in_features) + 1e-6;
    for (const std::string& isa : kIsas) {
      const IsaScope scope(isa);
      CAPTURE(c.name);
      CAPTURE(isa);
      const HostTensor actual = run_qconv(c, p);
      REQUIRE(actual.dims() == expected.dims());
      CHECK(max_abs_diff(actual.to_f32(), expected.to_f32()) <= tolerance);
    }
  }
}

TEST_CASE("QConv with int8 activations: close to the float convolution, identical on every code path") {
  const ConvCase c{"3x3 w8 int8", {2, 16, 8, 8}, 24, {3, 3}, 1, {{"pads", std::vector<int64_t>{1, 1, 1, 1}}}, 8, 48};
  const Prepared p = prepare(c, 42);
  const auto expected = run_reference(c, p).to_f32();
  std::optional<std::vector<float>> first;
  for (const std::string& isa : kIsas) {
    const IsaScope scope(isa);
    CAPTURE(isa);
    const auto actual = run_qconv(c, p, "int8_dynamic").to_f32();
    // int8 per-pixel activations: the error is a small fraction of the output's scale.
    double err = 0, energy = 0;
    for (size_t i = 0; i < actual.size(); ++i) {
      err += (actual[i] - expected[i]) * (actual[i] - expected[i]);
      energy += expected[i] * expected[i];
    }
    CHECK(err / energy < 1e-3);
    CHECK(err > 0.0);  // the activations really were quantized
    if (!first) first = actual;
    else CHECK(*first == actual);
  }
}

TEST_CASE("QConv errors name what is wrong") {
  ConvCase c = kCases.front();
  const Prepared p = prepare(c, 7);
  auto attrs = qconv_attrs(c, p.q, "float");
  auto run_with = [&](std::map<std::string, Attribute> a, const HostTensor& x) {
    return run1("QConv", {x, p.q.qweight(), p.q.scale_tensor(), p.q.zero_tensor()}, std::move(a), 17, "edgec");
  };
  {
    auto missing = attrs;
    missing.erase("kernel_shape");
    CHECK_THROWS_WITH_AS(run_with(missing, p.x), doctest::Contains("kernel_shape"), Error);
  }
  {
    auto wrong = attrs;
    wrong["kernel_shape"] = std::vector<int64_t>{2, 2};
    CHECK_THROWS_WITH_AS(run_with(wrong, p.x), doctest::Contains("in_features=72 must be C/group x kernel taps = 8 x 4"), Error);
  }
  CHECK_THROWS_WITH_AS(run_with(attrs, f32({2, 8, 9}, std::vector<float>(144, 0.0f))), doctest::Contains("x must be f32 [N, C, 2 spatial dims]"), Error);
  {
    const ConvCase d = kCases.back();
    const Prepared dp = prepare(d, 3);
    auto a = qconv_attrs(d, dp.q, "int8_dynamic");
    a["bits"] = int64_t{4};
    CHECK_THROWS_WITH_AS(run1("QConv", {dp.x, dp.q.qweight(), dp.q.scale_tensor(), dp.q.zero_tensor()}, a, 17, "edgec"),
                         doctest::Contains("requires bits=8"), Error);
  }
}
