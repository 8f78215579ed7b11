// edgec.QLinear (docs/ir-ops.md): every code path (EDGEC_ISA = portable, avx2, avx512) against edgec.Linear on the
// dequantized weight (weight-only) and against a straight transcription of the contract (W8A8, bit-exact), for
// bits 2/3/4/8, group sizes 16..per-channel, ragged last groups, f16/f32 scales, symmetric/asymmetric, one row
// (GEMV) and many (GEMM); thread-count determinism; errors.
#include <doctest/doctest.h>

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <cstdlib>
#include <cstring>
#include <optional>
#include <string>
#include <vector>

#include "edgec/core/dtype.hpp"
#include "edgec/core/error.hpp"
#include "edgec/core/quant_layout.hpp"
#include "qlinear_reference.hpp"
#include "test_helpers.hpp"
#include "threads.hpp"

using namespace edgec;
using namespace edgec::runtime;
using namespace edgec::runtime::test;

namespace {

bool cpu_has_avx512() {
  __builtin_cpu_init();
  return __builtin_cpu_supports("avx512f") && __builtin_cpu_supports("avx512bw") && __builtin_cpu_supports("avx512vl") &&
         __builtin_cpu_supports("avx512dq");
}

std::map<std::string, Attribute> qlinear_attrs(const Quantized& q, const std::string& activations = "float") {
  return {{"bits", int64_t{q.layout.bits}},
          {"group_size", q.layout.group_size},
          {"in_features", q.layout.in_features},
          {"activations", activations}};
}

OneNode qlinear_node(const Quantized& q, const HostTensor& x, const std::optional<std::vector<float>>& bias,
                     const std::string& activations = "float", std::optional<float> act_scale = std::nullopt) {
  std::vector<HostTensor> inputs{x, q.qweight(), q.scale_tensor(), q.zero_tensor()};
  if (bias || act_scale) inputs.push_back(bias ? f32({q.layout.out_features}, *bias) : HostTensor{});
  if (act_scale) inputs.push_back(f32({1}, {*act_scale}));
  return OneNode("QLinear", inputs, qlinear_attrs(q, activations), 1, 17, "edgec");
}

HostTensor run_linear_reference(const Quantized& q, const HostTensor& x, const std::optional<std::vector<float>>& bias) {
  std::vector<HostTensor> inputs{x, f32({q.layout.out_features, q.layout.in_features}, q.dequant)};
  if (bias) inputs.push_back(f32({q.layout.out_features}, *bias));
  return run1("Linear", inputs, {}, 17, "edgec");
}

// |qlinear - linear| <= 2e-6 * sum_k |x_k w_nk| + 1e-6 for every element: both sum the same f32 products in
// different orders (relative error a few ulps of the absolute sum; ~1e-4 of typical outputs).
void check_matches_linear(const Quantized& q, const std::vector<float>& xv, int64_t rows, const HostTensor& actual,
                          const HostTensor& expected) {
  const int64_t n = q.layout.out_features, k = q.layout.in_features;
  REQUIRE(actual.dims() == expected.dims());
  const auto a = actual.to_f32(), e = expected.to_f32();
  int bad = 0;
  for (int64_t t = 0; t < rows; ++t)
    for (int64_t o = 0; o < n; ++o) {
      double magnitude = 0;
      for (int64_t i = 0; i < k; ++i)
        magnitude += std::fabs(static_cast<double>(xv[static_cast<size_t>(t * k + i)]) * q.dequant[static_cast<size_t>(o * k + i)]);
      const double diff = std::fabs(static_cast<double>(a[static_cast<size_t>(t * n + o)]) - e[static_cast<size_t>(t * n + o)]);
      if (!(diff <= 2e-6 * magnitude + 1e-6) && bad++ < 5) {
        INFO("row " << t << " channel " << o << ": qlinear " << a[static_cast<size_t>(t * n + o)] << " linear "
                    << e[static_cast<size_t>(t * n + o)] << " (sum |x w| " << magnitude << ")");
        CHECK(false);
      }
    }
  CHECK(bad == 0);
}

bool same_bytes(const HostTensor& a, const HostTensor& b) {
  return a.dims() == b.dims() && a.size_bytes() == b.size_bytes() && std::memcmp(a.raw(), b.raw(), a.size_bytes()) == 0;
}

// The contract's W8A8 formula, straight (the float steps in the documented order).
std::vector<float> reference_w8a8(const Quantized& q, const std::vector<float>& x, int64_t rows,
                                  const std::optional<std::vector<float>>& bias, std::optional<float> act_scale) {
  const int64_t n = q.layout.out_features, k = q.layout.in_features, G = q.layout.group_size, groups = q.layout.groups();
  std::vector<float> y(static_cast<size_t>(rows * n));
  for (int64_t t = 0; t < rows; ++t) {
    const float* row = x.data() + t * k;
    float sx = 1.0f;
    if (act_scale) {
      sx = *act_scale;
    } else {
      float amax = 0.0f;
      for (int64_t i = 0; i < k; ++i) amax = std::max(amax, std::fabs(row[i]));
      if (amax > 0.0f) sx = amax / 127.0f;
    }
    std::vector<int> xq(static_cast<size_t>(k));
    for (int64_t i = 0; i < k; ++i) xq[static_cast<size_t>(i)] = static_cast<int>(std::clamp(std::nearbyint(row[i] / sx), -127.0f, 127.0f));
    for (int64_t o = 0; o < n; ++o) {
      float acc = 0.0f;
      for (int64_t g = 0; g < groups; ++g) {
        int32_t isum = 0;
        for (int64_t i = g * G; i < std::min(k, (g + 1) * G); ++i) isum += (q.code(o, i) - q.zero(o, g)) * xq[static_cast<size_t>(i)];
        acc = std::fma(q.scales[static_cast<size_t>(o * groups + g)], static_cast<float>(isum), acc);
      }
      y[static_cast<size_t>(t * n + o)] = std::fma(sx, acc, bias ? (*bias)[static_cast<size_t>(o)] : 0.0f);
    }
  }
  return y;
}

HostTensor run_threads(const OneNode& node, int threads) {
  return edgec::test::with_threads(threads, [&] { return node.run().at(0); });
}

}  // namespace

TEST_CASE("QLinear weight-only equals Linear on the dequantized weight, every bits / group size / path") {
  struct Shape {
    int64_t k, group_size;
  };
  // group sizes 16, 32, 64, 128, per channel; ragged last groups (172 = 5*32 + 12; 232 = 3*64 + 40; 172 = 10*16 + 12;
  // 200 = 3*64 + 8, no full SIMD step in the last group); an odd K (4-bit rows end in a half byte).
  const std::vector<Shape> shapes{{256, 16}, {256, 32}, {256, 64}, {256, 128}, {256, 256}, {172, 32},
                                  {232, 64}, {172, 16}, {200, 64}, {7, 7},     {45, 20}};
  const int64_t n = 37;  // not a multiple of any tile or block
  int combination = 0;
  for (const int bits : {2, 3, 4, 8})
    for (const Shape& shape : shapes)
      for (const bool symmetric : {false, true}) {
        ++combination;
        const bool f16_scales = combination % 2 == 0;
        Random random(static_cast<uint64_t>(combination));
        const auto w = random.values(static_cast<size_t>(n * shape.k), 0.5f);
        const Quantized q = quantize(w, n, shape.k, bits, shape.group_size, symmetric, f16_scales);
        for (const int64_t rows : {int64_t{1}, int64_t{2}, int64_t{3}, int64_t{4}, int64_t{7}}) {
          // Some activations far from zero mean: the 8-bit GEMV kernels compute s * (sum q x - z sum x).
          const float offset = rows <= 2 && combination % 3 == 0 ? 2.0f : rows == 2 ? 0.5f : 0.0f;
          const auto xv = random.values(static_cast<size_t>(rows * shape.k), 1.0f, offset);
          const HostTensor x = rows == 7 ? f32({1, rows, shape.k}, xv) : f32({rows, shape.k}, xv);
          std::optional<std::vector<float>> bias;
          if ((combination + rows) % 2) bias = random.values(static_cast<size_t>(n));
          const HostTensor expected = run_linear_reference(q, x, bias);
          for (const std::string& isa : kIsas) {
            INFO("bits " << bits << " K " << shape.k << " group " << shape.group_size << (symmetric ? " symmetric" : " asymmetric")
                         << (f16_scales ? " f16" : " f32") << " scales, rows " << rows << (bias ? ", bias" : "") << ", EDGEC_ISA=" << isa);
            const IsaScope scope(isa);
            check_matches_linear(q, xv, rows, qlinear_node(q, x, bias).run().at(0), expected);
          }
        }
      }
}

TEST_CASE("QLinear weight-only on a 4096-wide layer: GEMV and GEMM, 4 and 8 bits, every path") {
  const int64_t n = 96, k = 4096;
  Random random(7);
  const auto w = random.values(static_cast<size_t>(n * k), 0.2f);
  for (const int bits : {4, 8})
    for (const int64_t group_size : {int64_t{32}, int64_t{128}}) {
      const Quantized q = quantize(w, n, k, bits, group_size, false, true);
      for (const int64_t rows : {int64_t{1}, int64_t{2}, int64_t{3}, int64_t{64}}) {
        const auto xv = random.values(static_cast<size_t>(rows * k));
        const HostTensor x = f32({rows, k}, xv);
        const auto bias = random.values(static_cast<size_t>(n));
        const HostTensor expected = run_linear_reference(q, x, bias);
        for (const std::string& isa : kIsas) {
          INFO("bits " << bits << " group " << group_size << " rows " << rows << " EDGEC_ISA=" << isa);
          const IsaScope scope(isa);
          check_matches_linear(q, xv, rows, qlinear_node(q, x, bias).run().at(0), expected);
        }
      }
    }
}

TEST_CASE("EDGEC_ISA selects different code paths (their f32 sums are ordered differently)") {
  if (!cpu_has_avx512()) {
    MESSAGE("SKIP: this CPU has no AVX-512");
    return;
  }
  const int64_t n = 64, k = 1024;
  Random random(11);
  const Quantized q = quantize(random.values(static_cast<size_t>(n * k)), n, k, 4, 32, false, false);
  const HostTensor x = f32({1, k}, random.values(static_cast<size_t>(k)));
  std::vector<HostTensor> outputs;
  for (const std::string& isa : kIsas) {
    const IsaScope scope(isa);
    outputs.push_back(qlinear_node(q, x, std::nullopt).run().at(0));
  }
  CHECK_FALSE(same_bytes(outputs[0], outputs[1]));
  CHECK_FALSE(same_bytes(outputs[0], outputs[2]));
  CHECK_FALSE(same_bytes(outputs[1], outputs[2]));
}

TEST_CASE("QLinear W8A8 is bit-identical on every path and equals the contract's formula") {
  struct Case {
    int64_t k, group_size, rows;
    bool symmetric, f16_scales, bias;
    std::optional<float> act_scale;
  };
  const std::vector<Case> cases{
      {256, 256, 1, false, false, false, std::nullopt},  // per channel, one row (GEMV tiles)
      {256, 256, 9, true, true, true, std::nullopt},
      {256, 128, 1, false, true, true, std::nullopt},
      {256, 128, 6, false, false, false, std::nullopt},
      {256, 32, 5, true, false, true, std::nullopt},
      {172, 32, 3, false, true, false, std::nullopt},    // ragged last group (12)
      {172, 16, 4, false, false, true, std::nullopt},
      {200, 100, 2, true, true, false, std::nullopt},    // groups not a multiple of any SIMD chunk
      {130, 130, 17, false, false, true, std::nullopt},  // per channel, K not a multiple of 64
      {256, 64, 7, false, false, true, 0.012f},          // static scale: some values clamp at +-127
      {256, 64, 1, true, true, false, 0.05f},
  };
  const int64_t n = 37;
  int index = 0;
  for (const Case& c : cases) {
    ++index;
    Random random(static_cast<uint64_t>(100 + index));
    const Quantized q = quantize(random.values(static_cast<size_t>(n * c.k), 0.3f), n, c.k, 8, c.group_size, c.symmetric, c.f16_scales);
    auto xv = random.values(static_cast<size_t>(c.rows * c.k), 2.0f);
    if (c.rows > 2) std::fill(xv.begin() + c.k, xv.begin() + 2 * c.k, 0.0f);  // an all-zero row: sx = 1
    const HostTensor x = f32({c.rows, c.k}, xv);
    std::optional<std::vector<float>> bias;
    if (c.bias) bias = random.values(static_cast<size_t>(n));
    const std::vector<float> expected = reference_w8a8(q, xv, c.rows, bias, c.act_scale);
    const std::string activations = c.act_scale ? "int8_static" : "int8_dynamic";
    std::vector<HostTensor> outputs;
    for (const std::string& isa : kIsas) {
      INFO("case " << index << " K " << c.k << " group " << c.group_size << " rows " << c.rows << " " << activations << " EDGEC_ISA=" << isa);
      const IsaScope scope(isa);
      const HostTensor y = qlinear_node(q, x, bias, activations, c.act_scale).run().at(0);
      REQUIRE(y.dims() == std::vector<int64_t>{c.rows, n});
      const auto values = y.to_f32();
      int mismatches = 0;
      for (size_t i = 0; i < values.size(); ++i)
        if (std::memcmp(&values[i], &expected[i], sizeof(float)) != 0 && mismatches++ < 3) {
          INFO("element " << i << ": " << values[i] << " vs reference " << expected[i]);
          CHECK(false);
        }
      CHECK(mismatches == 0);
      outputs.push_back(y);
    }
    CHECK(same_bytes(outputs[0], outputs[1]));
    CHECK(same_bytes(outputs[0], outputs[2]));
    // And it is a fair approximation of the float layer (8-bit weights, 8-bit activations).
    if (!c.act_scale) {
      const auto linear = run_linear_reference(q, x, bias).to_f32();
      const auto w8a8 = outputs[0].to_f32();
      double err = 0, ref = 0;
      for (size_t i = 0; i < linear.size(); ++i) {
        err += std::pow(static_cast<double>(w8a8[i]) - linear[i], 2);
        ref += std::pow(static_cast<double>(linear[i]), 2);
      }
      CHECK(std::sqrt(err / ref) < 0.02);
    }
  }
}

TEST_CASE("QLinear gives the same bytes with 1 and 2 threads on every path") {
  const int64_t n = 512, k = 1024;
  Random random(21);
  const auto w = random.values(static_cast<size_t>(n * k), 0.3f);
  const Quantized q4 = quantize(w, n, k, 4, 128, false, true);
  const Quantized q8 = quantize(w, n, k, 8, 64, true, false);
  const Quantized q3 = quantize(w, n, k, 3, 64, false, false);
  for (const int64_t rows : {int64_t{1}, int64_t{2}, int64_t{33}}) {
    const HostTensor x = f32({rows, k}, random.values(static_cast<size_t>(rows * k)));
    const auto bias = random.values(static_cast<size_t>(n));
    for (const std::string& isa : kIsas) {
      const IsaScope scope(isa);
      const std::vector<OneNode> nodes{qlinear_node(q4, x, bias), qlinear_node(q3, x, std::nullopt),
                                       qlinear_node(q8, x, bias, "int8_dynamic")};
      for (const OneNode& node : nodes) {
        INFO("rows " << rows << " EDGEC_ISA=" << isa << " node " << (&node - nodes.data()));
        CHECK(same_bytes(run_threads(node, 1), run_threads(node, 2)));
      }
    }
  }
}

TEST_CASE("QLinear notifies linear observers like Linear") {
  struct Counter : Observer {
    int inputs = 0, outputs = 0;
    void linear_input(const Node&, const HostTensor& x) override { inputs += x.dims().back() == 64 ? 1 : 100; }
    void linear_output(const Node&, const HostTensor& y) override { outputs += y.dims().back() == 8 ? 1 : 100; }
  } counter;
  Random random(3);
  const Quantized q = quantize(random.values(8 * 64), 8, 64, 4, 32, false, false);
  const OneNode node = qlinear_node(q, f32({2, 64}, random.values(128)), std::nullopt);
  Executor executor(node.graph);
  executor.add_observer(counter);
  executor.run(node.feeds);
  CHECK(counter.inputs == 1);
  CHECK(counter.outputs == 1);
}

TEST_CASE("QLinear rejects bad attributes and inputs with clear errors") {
  Random random(5);
  const Quantized q = quantize(random.values(8 * 64), 8, 64, 4, 32, false, false);
  const HostTensor x = f32({1, 64}, random.values(64));
  auto error_of = [](const OneNode& node) -> std::string {
    try {
      node.run();
    } catch (const Error& e) {
      CHECK(e.category() == ErrorCategory::input);
      return e.what();
    }
    return "(no error)";
  };
  auto with_attr = [&](const std::string& key, Attribute value) {
    OneNode node = qlinear_node(q, x, std::nullopt);
    node.graph.nodes[0].attributes[key] = std::move(value);
    return node;
  };
  // Attributes: refused by the static check, before anything runs.
  CHECK(error_of(with_attr("bits", int64_t{5})).find("bits=5 is not supported") != std::string::npos);
  CHECK(error_of(with_attr("group_size", int64_t{0})).find("group_size=0") != std::string::npos);
  CHECK(error_of(with_attr("group_size", int64_t{65})).find("group_size=65") != std::string::npos);
  CHECK(error_of(with_attr("activations", std::string("fp8"))).find("activations='fp8'") != std::string::npos);
  CHECK(error_of(with_attr("activations", std::string("int8_dynamic"))).find("requires bits=8") != std::string::npos);
  CHECK(error_of(with_attr("in_features", std::string("64"))).find("'in_features' must be an int") != std::string::npos);
  {
    OneNode node = qlinear_node(q, x, std::nullopt);
    node.graph.nodes[0].attributes.erase("bits");
    CHECK(error_of(node).find("'bits' is missing") != std::string::npos);
  }
  CHECK(error_of(with_attr("bits", int64_t{5})).find("not supported") != std::string::npos);
  // Inputs: checked when the node runs.
  auto with_input = [&](size_t index, HostTensor value) {
    OneNode node = qlinear_node(q, x, std::vector<float>(8, 0.0f));
    node.feeds.at("in" + std::to_string(index)) = std::move(value);
    return node;
  };
  CHECK(error_of(with_input(2, f32({8, 3}, std::vector<float>(24, 1.0f)))).find("scales must be f32 or f16 [8,2]") != std::string::npos);
  CHECK(error_of(with_input(2, HostTensor::from_values<uint8_t>(DType::u8, {8, 2}, std::vector<uint8_t>(16, 1)))).find("scales must be") !=
        std::string::npos);
  CHECK(error_of(with_input(0, f32({1, 63}, std::vector<float>(63, 1.0f)))).find("x must be f32 [..., 64]") != std::string::npos);
  CHECK(error_of(with_input(1, HostTensor::from_values<uint8_t>(DType::u8, {8, 31}, std::vector<uint8_t>(8 * 31, 0)))).find("qweight must be u8 [N, 32]") !=
        std::string::npos);
  CHECK(error_of(with_input(3, HostTensor::from_values<uint8_t>(DType::u8, {8, 3}, std::vector<uint8_t>(24, 0)))).find("zeros must be u8 [8,2]") !=
        std::string::npos);
  CHECK(error_of(with_input(4, f32({7}, std::vector<float>(7, 0.0f)))).find("bias must be f32 [8]") != std::string::npos);
  {
    const Quantized q8 = quantize(random.values(8 * 64), 8, 64, 8, 32, false, false);
    OneNode node = qlinear_node(q8, x, std::nullopt, "int8_static");
    CHECK(error_of(node).find("needs act_scale") != std::string::npos);
    CHECK(error_of(qlinear_node(q8, x, std::nullopt, "int8_static", -1.0f)).find("act_scale must be positive") != std::string::npos);
    CHECK(error_of(qlinear_node(q8, x, std::nullopt, "int8_dynamic", 1.0f)).find("only read with activations='int8_static'") != std::string::npos);
    std::vector<float> infinite(64, 1.0f);
    infinite[5] = INFINITY;
    CHECK(error_of(qlinear_node(q8, f32({1, 64}, infinite), std::nullopt, "int8_dynamic")).find("row 0 of x holds an infinite value") !=
          std::string::npos);
  }
  {
    const IsaScope scope("sse9");
    CHECK(error_of(qlinear_node(q, x, std::nullopt)).find("EDGEC_ISA='sse9'") != std::string::npos);
  }
}
