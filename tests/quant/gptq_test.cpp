// GPTQ (libquant gptq.hpp) and the calibration Hessian: on correlated synthetic activations GPTQ beats
// round-to-nearest in output error at 2/3/4 bits, matches a straightforward (unblocked) transcription of the
// algorithm written here, handles dead input channels, keeps the packed layout's groups under act-order (and
// runs through edgec.QLinear), and gives byte-identical results at 1 and 2 threads. Hessian: chunked adds,
// the matrix and output_error against direct formulas.
#include <doctest/doctest.h>

#include <algorithm>
#include <cmath>
#include <cstring>
#include <numeric>
#include <vector>

#include "edgec/core/error.hpp"
#include "edgec/calibration/hessian.hpp"
#include "edgec/quant/awq.hpp"
#include "edgec/quant/gptq.hpp"
#include "edgec/quant/layers.hpp"
#include "edgec/quant/rtn.hpp"
#include "edgec/runtime/executor.hpp"
#include "quant_test_helpers.hpp"

using namespace edgec;
using namespace edgec::quant;
using namespace edgec::quant::test;
using calibration::Hessian;

namespace {

WeightScheme scheme_of(int bits, int64_t group, bool symmetric = false) {
  WeightScheme scheme;
  scheme.bits = bits;
  scheme.group_size = group;
  scheme.symmetric = symmetric;
  return scheme;
}

using Matrix = std::vector<double>;  // row-major square

// Lower Cholesky factor of a symmetric positive definite matrix.
Matrix cholesky(const Matrix& a, int64_t k) {
  Matrix l(static_cast<size_t>(k * k), 0.0);
  for (int64_t i = 0; i < k; ++i)
    for (int64_t j = 0; j <= i; ++j) {
      double sum = a[static_cast<size_t>(i * k + j)];
      for (int64_t p = 0; p < j; ++p) sum -= l[static_cast<size_t>(i * k + p)] * l[static_cast<size_t>(j * k + p)];
      if (i == j) {
        REQUIRE(sum > 0.0);
        l[static_cast<size_t>(i * k + i)] = std::sqrt(sum);
      } else {
        l[static_cast<size_t>(i * k + j)] = sum / l[static_cast<size_t>(j * k + j)];
      }
    }
  return l;
}

// Inverse of a SPD matrix from its Cholesky factor: solve L L^T X = I column by column.
Matrix spd_inverse(const Matrix& a, int64_t k) {
  const Matrix l = cholesky(a, k);
  Matrix inv(static_cast<size_t>(k * k), 0.0);
  std::vector<double> y(static_cast<size_t>(k));
  for (int64_t c = 0; c < k; ++c) {
    for (int64_t i = 0; i < k; ++i) {  // L y = e_c
      double sum = i == c ? 1.0 : 0.0;
      for (int64_t p = 0; p < i; ++p) sum -= l[static_cast<size_t>(i * k + p)] * y[static_cast<size_t>(p)];
      y[static_cast<size_t>(i)] = sum / l[static_cast<size_t>(i * k + i)];
    }
    for (int64_t i = k - 1; i >= 0; --i) {  // L^T x = y
      double sum = y[static_cast<size_t>(i)];
      for (int64_t p = i + 1; p < k; ++p) sum -= l[static_cast<size_t>(p * k + i)] * inv[static_cast<size_t>(p * k + c)];
      inv[static_cast<size_t>(i * k + c)] = sum / l[static_cast<size_t>(i * k + i)];
    }
  }
  return inv;
}

// GPTQ written out as in the paper's Algorithm 1 without lazy batching (every column's error is pushed to
// all later columns at once), with the same conventions as libquant: dead columns zeroed, act-order with
// static groups, groups otherwise fitted from the updated weights when their first column is reached.
QuantizedWeight reference_gptq(const std::vector<float>& weight, int64_t n, int64_t k, const Hessian& hessian,
                               const WeightScheme& scheme, const GptqOptions& options, int64_t* dead = nullptr) {
  QuantizedWeight out = make_quantized_weight(scheme, n, k);
  const int64_t group = out.layout.group_size;
  const int max_code = out.layout.max_code();
  Matrix h = hessian.matrix();
  std::vector<double> w(weight.begin(), weight.end());
  int64_t dead_count = 0;
  for (int64_t i = 0; i < k; ++i)
    if (h[static_cast<size_t>(i * k + i)] == 0.0) {
      h[static_cast<size_t>(i * k + i)] = 1.0;
      for (int64_t r = 0; r < n; ++r) w[static_cast<size_t>(r * k + i)] = 0.0;
      ++dead_count;
    }
  if (dead) *dead = dead_count;
  std::vector<int64_t> order(static_cast<size_t>(k));
  std::iota(order.begin(), order.end(), 0);
  if (options.act_order)
    std::stable_sort(order.begin(), order.end(), [&](int64_t a, int64_t b) {
      return h[static_cast<size_t>(a * k + a)] > h[static_cast<size_t>(b * k + b)];
    });
  // The clip search weighs column c's rounding error by H_cc (after dead columns got H_cc = 1).
  std::vector<double> diagonal(static_cast<size_t>(k));
  for (int64_t i = 0; i < k; ++i) diagonal[static_cast<size_t>(i)] = h[static_cast<size_t>(i * k + i)];
  const auto clip_weights = [&](int64_t first) { return options.hessian_clip ? diagonal.data() + first : nullptr; };
  std::vector<float> values(static_cast<size_t>(group));
  if (options.act_order)
    for (int64_t r = 0; r < n; ++r)
      for (int64_t g = 0; g < out.layout.groups(); ++g) {
        const int64_t count = std::min(group, k - g * group);
        for (int64_t i = 0; i < count; ++i) values[static_cast<size_t>(i)] = static_cast<float>(w[static_cast<size_t>(r * k + g * group + i)]);
        out.param(r, g) = fit_group_searched(values.data(), count, scheme, options.group_fit, clip_weights(g * group));
      }
  Matrix hp(static_cast<size_t>(k * k));
  double mean = 0.0;
  for (int64_t i = 0; i < k; ++i) mean += h[static_cast<size_t>(i * k + i)] / static_cast<double>(k);
  for (int64_t i = 0; i < k; ++i)
    for (int64_t j = 0; j < k; ++j)
      hp[static_cast<size_t>(i * k + j)] = h[static_cast<size_t>(order[static_cast<size_t>(i)] * k + order[static_cast<size_t>(j)])] +
                                           (i == j ? options.percdamp * mean : 0.0);
  const Matrix l = cholesky(spd_inverse(hp, k), k);  // U = L^T
  const auto u = [&](int64_t i, int64_t j) { return l[static_cast<size_t>(j * k + i)]; };
  for (int64_t r = 0; r < n; ++r) {
    std::vector<double> row(static_cast<size_t>(k));
    for (int64_t j = 0; j < k; ++j) row[static_cast<size_t>(j)] = w[static_cast<size_t>(r * k + order[static_cast<size_t>(j)])];
    for (int64_t j = 0; j < k; ++j) {
      const int64_t column = order[static_cast<size_t>(j)], g = column / group;
      if (!options.act_order && column % group == 0) {
        const int64_t count = std::min(group, k - column);
        for (int64_t i = 0; i < count; ++i) values[static_cast<size_t>(i)] = static_cast<float>(row[static_cast<size_t>(j + i)]);
        out.param(r, g) = fit_group_searched(values.data(), count, scheme, options.group_fit, clip_weights(column));
      }
      const GroupParams p = out.param(r, g);
      const int code = quantize_value(static_cast<float>(row[static_cast<size_t>(j)]), p, max_code);
      out.codes[static_cast<size_t>(r * k + column)] = static_cast<uint8_t>(code);
      const double err = (row[static_cast<size_t>(j)] - dequantize_code(code, p)) / u(j, j);
      for (int64_t c = j + 1; c < k; ++c) row[static_cast<size_t>(c)] -= err * u(j, c);
    }
  }
  return out;
}

struct Layer {
  int64_t n, k, t;
  std::vector<float> w, x;
};

Layer make_layer(int64_t n, int64_t k, int64_t t, uint64_t seed) {
  Layer layer{n, k, t, {}, correlated_inputs(t, k, seed)};
  Random rng(seed + 1000);
  layer.w = rng.normals(static_cast<size_t>(n * k), 0.1);
  return layer;
}

double error_of(const Hessian& h, const std::vector<float>& w, const QuantizedWeight& q) {
  return h.output_error(w.data(), q.dequantize().data(), q.layout.out_features);
}

double code_agreement(const QuantizedWeight& a, const QuantizedWeight& b) {
  REQUIRE(a.codes.size() == b.codes.size());
  size_t same = 0;
  for (size_t i = 0; i < a.codes.size(); ++i) same += a.codes[i] == b.codes[i];
  return static_cast<double>(same) / static_cast<double>(a.codes.size());
}

}  // namespace

TEST_CASE("GPTQ has a lower output error than RTN on correlated inputs (bits 2/3/4, groups 16/32/per-channel)") {
  const Layer layer = make_layer(48, 64, 512, 1);
  const Hessian h = hessian_of(layer.x, layer.k);
  for (const int bits : {2, 3, 4})
    for (const int64_t group : {int64_t{16}, int64_t{32}, int64_t{0}})
      for (const bool act_order : {false, true}) {
        CAPTURE(bits);
        CAPTURE(group);
        CAPTURE(act_order);
        const WeightScheme scheme = scheme_of(bits, group);
        GptqOptions options;
        options.act_order = act_order;
        GptqReport report;
        const QuantizedWeight q = quantize_gptq(layer.w.data(), layer.n, layer.k, h, scheme, options, "test", &report);
        const double gptq = error_of(h, layer.w, q);
        const double rtn = error_of(h, layer.w, quantize_rtn(layer.w.data(), layer.n, layer.k, scheme));
        CHECK(report.dead_columns == 0);
        CHECK(report.damp > 0.0);
        CHECK(gptq < 0.8 * rtn);  // typically 0.3-0.6 with this much correlation
        // The codes are those of the unblocked algorithm (up to a few flips from summation order).
        const QuantizedWeight reference = reference_gptq(layer.w, layer.n, layer.k, h, scheme, options);
        CHECK(code_agreement(q, reference) >= 0.99);
        CHECK(gptq == doctest::Approx(error_of(h, layer.w, reference)).epsilon(0.02));
      }
}

TEST_CASE("GPTQ: lazy batches (block size below K) give the unblocked algorithm's result, ragged K = 172") {
  const Layer layer = make_layer(40, 172, 600, 2);
  const Hessian h = hessian_of(layer.x, layer.k);
  for (const int64_t block : {int64_t{16}, int64_t{32}, int64_t{128}})
    for (const bool act_order : {false, true}) {
      CAPTURE(block);
      CAPTURE(act_order);
      const WeightScheme scheme = scheme_of(4, 32);
      GptqOptions options;
      options.act_order = act_order;
      options.block_size = block;
      const QuantizedWeight q = quantize_gptq(layer.w.data(), layer.n, layer.k, h, scheme, options, "test");
      REQUIRE(q.layout.groups() == 6);
      const QuantizedWeight reference = reference_gptq(layer.w, layer.n, layer.k, h, scheme, options);
      CHECK(code_agreement(q, reference) >= 0.99);
      const double error = error_of(h, layer.w, q);
      CHECK(error == doctest::Approx(error_of(h, layer.w, reference)).epsilon(0.02));
      CHECK(error < 0.8 * error_of(h, layer.w, quantize_rtn(layer.w.data(), layer.n, layer.k, scheme)));
    }
}

TEST_CASE("GPTQ: fewer tokens than inputs (singular Hessian) and groups that straddle lazy blocks") {
  SUBCASE("T < K: dampening makes the Hessian invertible") {
    const Layer layer = make_layer(16, 64, 24, 11);
    const Hessian h = hessian_of(layer.x, layer.k);
    GptqReport report;
    const WeightScheme scheme = scheme_of(4, 16);
    const QuantizedWeight q = quantize_gptq(layer.w.data(), layer.n, layer.k, h, scheme, GptqOptions{}, "test", &report);
    CHECK(report.damp > 0.0);
    CHECK(error_of(h, layer.w, q) < 0.5 * error_of(h, layer.w, quantize_rtn(layer.w.data(), layer.n, layer.k, scheme)));
  }
  SUBCASE("group 48 with blocks of 32 and 128") {
    const Layer layer = make_layer(16, 144, 400, 12);
    const Hessian h = hessian_of(layer.x, layer.k);
    for (const int64_t block : {int64_t{32}, int64_t{128}})
      for (const bool act_order : {false, true}) {
        CAPTURE(block);
        CAPTURE(act_order);
        GptqOptions options;
        options.block_size = block;
        options.act_order = act_order;
        const WeightScheme scheme = scheme_of(3, 48);
        const QuantizedWeight q = quantize_gptq(layer.w.data(), layer.n, layer.k, h, scheme, options, "test");
        CHECK(error_of(h, layer.w, q) < 0.8 * error_of(h, layer.w, quantize_rtn(layer.w.data(), layer.n, layer.k, scheme)));
      }
  }
}

TEST_CASE("GPTQ damping: lambda = percdamp * mean(diag H)") {
  const Layer layer = make_layer(8, 32, 200, 3);
  const Hessian h = hessian_of(layer.x, layer.k);
  const auto m = h.matrix();
  double mean = 0.0;
  for (int64_t i = 0; i < 32; ++i) mean += m[static_cast<size_t>(i * 33)] / 32.0;
  GptqOptions options;
  options.percdamp = 0.05;
  GptqReport report;
  quantize_gptq(layer.w.data(), layer.n, layer.k, h, scheme_of(4, 16), options, "test", &report);
  CHECK(report.damp == doctest::Approx(0.05 * mean).epsilon(1e-12));
}

TEST_CASE("GPTQ: a dead input channel is counted and quantized to 0") {
  Layer layer = make_layer(24, 48, 300, 4);
  for (int64_t r = 0; r < layer.t; ++r) {
    layer.x[static_cast<size_t>(r * layer.k + 5)] = 0.0f;
    layer.x[static_cast<size_t>(r * layer.k + 40)] = 0.0f;
  }
  const Hessian h = hessian_of(layer.x, layer.k);
  for (const bool act_order : {false, true})
    for (const bool symmetric : {false, true}) {
      CAPTURE(act_order);
      CAPTURE(symmetric);
      GptqOptions options;
      options.act_order = act_order;
      GptqReport report;
      const WeightScheme scheme = scheme_of(3, 16, symmetric);
      const QuantizedWeight q = quantize_gptq(layer.w.data(), layer.n, layer.k, h, scheme, options, "test", &report);
      CHECK(report.dead_columns == 2);
      const auto deq = q.dequantize();
      for (int64_t r = 0; r < layer.n; ++r) {
        CHECK(layer.w[static_cast<size_t>(r * layer.k + 5)] != 0.0f);
        CHECK(deq[static_cast<size_t>(r * layer.k + 5)] == 0.0f);
        CHECK(deq[static_cast<size_t>(r * layer.k + 40)] == 0.0f);
      }
      int64_t reference_dead = 0;
      const QuantizedWeight reference = reference_gptq(layer.w, layer.n, layer.k, h, scheme, options, &reference_dead);
      CHECK(reference_dead == 2);
      CHECK(code_agreement(q, reference) >= 0.99);
      // The live channels still beat RTN (whose error ignores the dead ones too: they see x = 0).
      CHECK(error_of(h, layer.w, q) < error_of(h, layer.w, quantize_rtn(layer.w.data(), layer.n, layer.k, scheme)));
    }
}

TEST_CASE("GPTQ with act-order keeps the layout's groups: static parameters of the original columns, runs as QLinear") {
  const Layer layer = make_layer(20, 172, 400, 5);
  const Hessian h = hessian_of(layer.x, layer.k);
  const std::vector<double> matrix = h.matrix();
  std::vector<double> diagonal(static_cast<size_t>(layer.k));  // no dead columns here
  for (int64_t i = 0; i < layer.k; ++i) diagonal[static_cast<size_t>(i)] = matrix[static_cast<size_t>(i * layer.k + i)];
  for (const bool mse_clip : {false, true}) {
    CAPTURE(mse_clip);
    const WeightScheme scheme = scheme_of(4, 32);
    GptqOptions options;
    options.act_order = true;
    options.group_fit.mse_clip = mse_clip;
    const QuantizedWeight q = quantize_gptq(layer.w.data(), layer.n, layer.k, h, scheme, options, "test");
    REQUIRE(q.layout.group_size == 32);
    REQUIRE(q.layout.groups() == 6);
    // Group g's parameters are fitted on original columns [32g, 32g + 32) (the last group: 12 columns),
    // whatever order the columns were rounded in.
    for (int64_t r = 0; r < layer.n; ++r)
      for (int64_t g = 0; g < 6; ++g) {
        const int64_t count = std::min<int64_t>(32, layer.k - 32 * g);
        const GroupParams expected = fit_group_searched(layer.w.data() + r * layer.k + 32 * g, count, scheme, options.group_fit,
                                                        diagonal.data() + 32 * g);
        CHECK(q.param(r, g).scale == expected.scale);
        CHECK(q.param(r, g).zero == expected.zero);
      }
    // Every code with its group's parameters is what dequantize() stores, and each dequantized weight lies on
    // its group's grid within the group's range (act-order moves errors, never groups).
    const auto deq = q.dequantize();
    for (int64_t r = 0; r < layer.n; ++r)
      for (int64_t c = 0; c < layer.k; ++c) {
        const GroupParams p = q.param(r, c / 32);
        const uint8_t code = q.codes[static_cast<size_t>(r * layer.k + c)];
        REQUIRE(code <= 15);
        REQUIRE(deq[static_cast<size_t>(r * layer.k + c)] == static_cast<float>(code - p.zero) * p.scale);
      }

    // Codes were chosen against those parameters: the unblocked reference (same static groups) agrees.
    CHECK(code_agreement(q, reference_gptq(layer.w, layer.n, layer.k, h, scheme, options)) >= 0.99);

    // The packed weight through the runtime's edgec.QLinear equals x deq(W)^T.
    Graph graph;
    graph.name = "one_linear";
    graph.opset_imports["edgec"] = 1;
    graph.inputs.push_back(ValueInfo{"x", {}});
    graph.outputs.push_back(ValueInfo{"y", {}});
    graph.initializers["fc.weight"] = Tensor::from_values<float>(DType::f32, {layer.n, layer.k}, std::span<const float>(layer.w));
    Node node;
    node.name = "fc";
    node.op = "Linear";
    node.domain = "edgec";
    node.inputs = {"x", "fc.weight"};
    node.outputs = {"y"};
    graph.nodes.push_back(node);
    const auto layers = find_linear_layers(graph);
    REQUIRE(layers.size() == 1);
    rewrite_to_qlinear(graph, layers[0], q, scheme);
    remove_unused_initializers(graph);
    CHECK(graph.nodes[0].op == "QLinear");
    CHECK(graph.nodes[0].attr_int("group_size", 0) == 32);
    CHECK(!graph.initializers.count("fc.weight"));
    const int64_t rows = 7;
    const std::vector<float> x(layer.x.begin(), layer.x.begin() + rows * layer.k);
    const runtime::Executor executor(graph);
    const auto y = executor.run({{"x", runtime::HostTensor::from_values<float>(DType::f32, {rows, layer.k}, x)}}).at("y").to_f32();
    REQUIRE(y.size() == static_cast<size_t>(rows * layer.n));
    for (int64_t t = 0; t < rows; ++t)
      for (int64_t o = 0; o < layer.n; ++o) {
        double expected = 0.0, magnitude = 0.0;
        for (int64_t c = 0; c < layer.k; ++c) {
          const double term = static_cast<double>(x[static_cast<size_t>(t * layer.k + c)]) * deq[static_cast<size_t>(o * layer.k + c)];
          expected += term;
          magnitude += std::fabs(term);
        }
        CHECK(std::fabs(y[static_cast<size_t>(t * layer.n + o)] - expected) <= 1e-5 * magnitude + 1e-6);
      }
  }
}

TEST_CASE("GPTQ, RTN and the clip search give the same bytes with 1 and 2 threads") {
  const Layer layer = make_layer(200, 96, 300, 6);  // 4 row chunks of GPTQ
  const Hessian h = hessian_of(layer.x, layer.k);
  for (const bool act_order : {false, true}) {
    GptqOptions options;
    options.act_order = act_order;
    options.block_size = 32;
    options.group_fit.mse_clip = act_order;
    const auto run = [&] { return quantize_gptq(layer.w.data(), layer.n, layer.k, h, scheme_of(3, 32), options, "test"); };
    const QuantizedWeight one = with_threads(1, run), two = with_threads(2, run);
    CHECK(same_bytes(one, two));
  }
  RtnOptions rtn;
  rtn.mse_clip = true;
  const auto run_rtn = [&] { return quantize_rtn(layer.w.data(), layer.n, layer.k, scheme_of(4, 16), rtn); };
  CHECK(same_bytes(with_threads(1, run_rtn), with_threads(2, run_rtn)));
  const auto run_clip = [&] { return quantize_clip_searched(layer.w.data(), layer.n, layer.k, h, scheme_of(4, 32), AwqOptions{}); };
  CHECK(same_bytes(with_threads(1, run_clip), with_threads(2, run_clip)));
}

TEST_CASE("GPTQ errors: no calibration tokens, Hessian of the wrong size") {
  const Layer layer = make_layer(4, 16, 20, 7);
  const Hessian empty(16);
  try {
    quantize_gptq(layer.w.data(), 4, 16, empty, scheme_of(4, 16), GptqOptions{}, "layer 'a.weight'");
    FAIL("expected an error");
  } catch (const Error& e) {
    CHECK(e.category() == ErrorCategory::input);
    CHECK(std::string(e.what()).find("layer 'a.weight'") != std::string::npos);
  }
  const Hessian wrong = hessian_of(correlated_inputs(20, 8, 1), 8);
  CHECK_THROWS_AS(quantize_gptq(layer.w.data(), 4, 16, wrong, scheme_of(4, 16), GptqOptions{}, "x"), Error);
}

TEST_CASE("Hessian: chunked adds give the same matrix as one add") {
  const int64_t k = 24, t = 700;
  const std::vector<float> x = correlated_inputs(t, k, 8);
  const Hessian one = hessian_of(x, k);
  // 256 + 256 + 188 rows: the same rank updates as one add of 700 -> bitwise equal.
  Hessian aligned(k);
  aligned.add(x.data(), 256);
  aligned.add(x.data() + 256 * k, 256);
  aligned.add(x.data() + 512 * k, 188);
  CHECK(aligned.tokens() == t);
  CHECK(aligned.matrix() == one.matrix());
  // Many small, ragged adds: the same sums in another order.
  Hessian pieces(k);
  Random rng(3);
  int64_t at = 0;
  while (at < t) {
    const int64_t rows = std::min<int64_t>(t - at, rng.integer(0, 37));
    pieces.add(x.data() + at * k, rows);
    at += rows;
  }
  CHECK(pieces.tokens() == t);
  const auto a = one.matrix(), b = pieces.matrix();
  double scale = 0.0, worst = 0.0;
  for (size_t i = 0; i < a.size(); ++i) {
    scale = std::max(scale, std::fabs(a[i]));
    worst = std::max(worst, std::fabs(a[i] - b[i]));
  }
  CHECK(worst <= 1e-12 * scale);
}

TEST_CASE("Hessian: matrix() = 2/T X^T X and output_error = ||(W - W_hat) X||^2 / T") {
  const int64_t k = 20, t = 333, n = 9;
  const std::vector<float> x = correlated_inputs(t, k, 9);
  const Hessian h = hessian_of(x, k);
  CHECK(h.in_features() == k);
  CHECK(h.tokens() == t);
  const auto m = h.matrix();
  for (int64_t i = 0; i < k; ++i)
    for (int64_t j = 0; j < k; ++j) {
      double sum = 0.0;
      for (int64_t r = 0; r < t; ++r) sum += static_cast<double>(x[static_cast<size_t>(r * k + i)]) * x[static_cast<size_t>(r * k + j)];
      CHECK(m[static_cast<size_t>(i * k + j)] == doctest::Approx(2.0 * sum / t).epsilon(1e-12));
      CHECK(m[static_cast<size_t>(i * k + j)] == m[static_cast<size_t>(j * k + i)]);
    }
  Random rng(10);
  const std::vector<float> w = rng.normals(static_cast<size_t>(n * k), 0.2);
  std::vector<float> w_hat = w;
  for (float& v : w_hat) v += static_cast<float>(0.01 * rng.normal());
  const double direct = direct_output_error(w, w_hat, n, k, x);
  CHECK(direct > 0.0);
  CHECK(h.output_error(w.data(), w_hat.data(), n) == doctest::Approx(direct).epsilon(1e-6));
  // Row weights scale each output channel's error.
  std::vector<double> weights(static_cast<size_t>(n));
  double weighted = 0.0;
  for (int64_t r = 0; r < n; ++r) {
    weights[static_cast<size_t>(r)] = 0.5 + static_cast<double>(r);
    weighted += weights[static_cast<size_t>(r)] * h.output_error(w.data() + r * k, w_hat.data() + r * k, 1);
  }
  CHECK(h.output_error(w.data(), w_hat.data(), n, &weights) == doctest::Approx(weighted).epsilon(1e-12));
  // The output energy: W_hat = 0 gives ||W X||^2 / T.
  const std::vector<float> zeros(w.size(), 0.0f);
  CHECK(h.output_error(w.data(), zeros.data(), n) == doctest::Approx(direct_output_error(w, zeros, n, k, x)).epsilon(1e-6));
}

TEST_CASE("Hessian without tokens: zero matrix, zero error") {
  Hessian h(6);
  h.add(nullptr, 0);
  CHECK(h.tokens() == 0);
  const auto m = h.matrix();
  CHECK(m.size() == 36);
  CHECK(std::all_of(m.begin(), m.end(), [](double v) { return v == 0.0; }));
  const std::vector<float> w(12, 1.0f), z(12, 0.0f);
  CHECK(h.output_error(w.data(), z.data(), 2) == 0.0);
}
