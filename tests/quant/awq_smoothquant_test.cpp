// AWQ's scale search and clip search, SmoothQuant's scales, and the scale folding both rely on: folding random
// positive channel scales into hand-built graphs (RMSNorm/LayerNorm -> Linears, SwiGLU up -> down, Linear ->
// Linear) leaves their outputs unchanged; values with other readers get no absorber; tied weights are untied.
#include <doctest/doctest.h>

#include <algorithm>
#include <cmath>
#include <limits>
#include <string>
#include <vector>

#include "edgec/core/error.hpp"
#include "edgec/quant/awq.hpp"
#include "edgec/quant/layers.hpp"
#include "edgec/quant/rtn.hpp"
#include "edgec/quant/scale_folding.hpp"
#include "edgec/quant/smoothquant.hpp"
#include "graph_builders.hpp"
#include "quant_test_helpers.hpp"

using namespace edgec;
using namespace edgec::quant;
using namespace edgec::quant::test;
using calibration::Hessian;
using runtime::HostTensor;

namespace {

WeightScheme scheme_of(int bits, int64_t group) {
  WeightScheme scheme;
  scheme.bits = bits;
  scheme.group_size = group;
  return scheme;
}

// Independent normal activations, channel j scaled by scales[j].
std::vector<float> scaled_inputs(int64_t t, int64_t k, const std::vector<float>& scales, uint64_t seed) {
  Random rng(seed);
  std::vector<float> x = rng.normals(static_cast<size_t>(t * k));
  for (int64_t r = 0; r < t; ++r)
    for (int64_t j = 0; j < k; ++j) x[static_cast<size_t>(r * k + j)] *= scales[static_cast<size_t>(j)];
  return x;
}

std::vector<double> mean_abs_of(const std::vector<float>& x, int64_t k) {
  const int64_t t = static_cast<int64_t>(x.size()) / k;
  std::vector<double> mean(static_cast<size_t>(k), 0.0);
  for (int64_t r = 0; r < t; ++r)
    for (int64_t j = 0; j < k; ++j) mean[static_cast<size_t>(j)] += std::fabs(x[static_cast<size_t>(r * k + j)]) / static_cast<double>(t);
  return mean;
}

double rtn_error(const Hessian& h, const std::vector<float>& w, int64_t n, int64_t k, const WeightScheme& scheme) {
  return h.output_error(w.data(), quantize_rtn(w.data(), n, k, scheme).dequantize().data(), n);
}

// The error search_awq_scales reports for given scales, recomputed here.
double scaled_error(const Hessian& h, const std::vector<std::vector<float>>& weights, const std::vector<int64_t>& rows, int64_t k,
                    const std::vector<double>& s, const WeightScheme& scheme) {
  double error = 0.0;
  for (size_t l = 0; l < weights.size(); ++l) {
    std::vector<float> scaled = weights[l];
    for (int64_t r = 0; r < rows[l]; ++r)
      for (int64_t j = 0; j < k; ++j) scaled[static_cast<size_t>(r * k + j)] *= static_cast<float>(s[static_cast<size_t>(j)]);
    std::vector<float> approx = quantize_rtn(scaled.data(), rows[l], k, scheme).dequantize();
    for (int64_t r = 0; r < rows[l]; ++r)
      for (int64_t j = 0; j < k; ++j) approx[static_cast<size_t>(r * k + j)] /= static_cast<float>(s[static_cast<size_t>(j)]);
    error += h.output_error(weights[l].data(), approx.data(), rows[l]);
  }
  return error;
}

std::vector<double> random_scales(size_t k, uint64_t seed) {
  Random rng(seed);
  std::vector<double> s(k);
  for (double& v : s) v = std::exp(1.2 * (rng.uniform() * 2.0 - 1.0));  // in [0.3, 3.3]
  return s;
}

}  // namespace

TEST_CASE("search_awq_scales: alpha 0 is plain RTN, equal channel magnitudes keep alpha 0") {
  const int64_t k = 64;
  const std::vector<float> x = correlated_inputs(256, k, 21);
  const Hessian h = hessian_of(x, k);
  Random rng(22);
  const std::vector<std::vector<float>> weights{rng.normals(static_cast<size_t>(24 * k), 0.1), rng.normals(static_cast<size_t>(8 * k), 0.1)};
  const std::vector<AwqLayerView> views{{weights[0].data(), 24}, {weights[1].data(), 8}};
  const WeightScheme scheme = scheme_of(4, 32);
  const double rtn = rtn_error(h, weights[0], 24, k, scheme) + rtn_error(h, weights[1], 8, k, scheme);

  // Equal mean |x|: every alpha gives s = 1, so the strict comparison keeps alpha 0.
  const AwqScales flat = search_awq_scales(views, k, std::vector<double>(static_cast<size_t>(k), 0.7), h, scheme, AwqOptions{});
  CHECK(flat.alpha == 0.0);
  CHECK(flat.error_unscaled == rtn);
  CHECK(flat.error == flat.error_unscaled);
  REQUIRE(flat.scales.size() == static_cast<size_t>(k));
  CHECK(std::all_of(flat.scales.begin(), flat.scales.end(), [](double s) { return s == 1.0; }));

  // With real statistics the search can only improve on alpha 0.
  const AwqScales found = search_awq_scales(views, k, mean_abs_of(x, k), h, scheme, AwqOptions{});
  CHECK(found.error_unscaled == rtn);
  CHECK(found.error <= found.error_unscaled);
  if (found.alpha == 0.0) CHECK(found.error == found.error_unscaled);
}

TEST_CASE("search_awq_scales: a few large-magnitude input channels -> clearly lower error than RTN") {
  const int64_t k = 64, t = 512;
  std::vector<float> channel(static_cast<size_t>(k), 1.0f);
  for (const int j : {3, 17, 40, 41}) channel[static_cast<size_t>(j)] = 20.0f;
  const std::vector<float> x = scaled_inputs(t, k, channel, 23);
  const Hessian h = hessian_of(x, k);
  Random rng(24);
  const std::vector<std::vector<float>> weights{rng.normals(static_cast<size_t>(32 * k), 0.1), rng.normals(static_cast<size_t>(16 * k), 0.1)};
  const std::vector<AwqLayerView> views{{weights[0].data(), 32}, {weights[1].data(), 16}};
  for (const int bits : {3, 4}) {
    CAPTURE(bits);
    const WeightScheme scheme = scheme_of(bits, 32);
    const AwqScales found = search_awq_scales(views, k, mean_abs_of(x, k), h, scheme, AwqOptions{});
    const double rtn = rtn_error(h, weights[0], 32, k, scheme) + rtn_error(h, weights[1], 16, k, scheme);
    CHECK(found.error_unscaled == rtn);
    CHECK(found.alpha > 0.0);
    CHECK(found.error < 0.7 * rtn);
    // s = mean|x|^alpha normalised so that max(s) * min(s) = 1; the salient channels get the largest scales.
    const auto [lo, hi] = std::minmax_element(found.scales.begin(), found.scales.end());
    CHECK(*lo * *hi == doctest::Approx(1.0).epsilon(1e-9));
    CHECK(found.scales[17] > 2.0 * found.scales[0]);
    // The reported error is the error of those scales.
    CHECK(scaled_error(h, weights, {32, 16}, k, found.scales, scheme) == doctest::Approx(found.error).epsilon(1e-12));
  }
}

TEST_CASE("quantize_clip_searched: every row's output error is at most RTN's") {
  const int64_t n = 24, k = 96;
  std::vector<float> channel(static_cast<size_t>(k), 1.0f);
  channel[5] = 6.0f;
  const std::vector<float> x = scaled_inputs(400, k, channel, 25);
  const Hessian h = hessian_of(x, k);
  Random rng(26);
  std::vector<float> w = rng.normals(static_cast<size_t>(n * k), 0.1);
  for (int64_t r = 0; r < n; r += 3) w[static_cast<size_t>(r * k + (r * 7) % k)] = 0.8f;  // outliers worth clipping
  for (const int bits : {2, 3, 4})
    for (const int64_t group : {int64_t{32}, int64_t{0}, int64_t{40}}) {
      CAPTURE(bits);
      CAPTURE(group);
      const WeightScheme scheme = scheme_of(bits, group);
      const QuantizedWeight clipped = quantize_clip_searched(w.data(), n, k, h, scheme, AwqOptions{});
      const QuantizedWeight rtn = quantize_rtn(w.data(), n, k, scheme);
      const auto dc = clipped.dequantize(), dr = rtn.dequantize();
      double total_clipped = 0.0, total_rtn = 0.0;
      for (int64_t r = 0; r < n; ++r) {
        const double ec = h.output_error(w.data() + r * k, dc.data() + r * k, 1);
        const double er = h.output_error(w.data() + r * k, dr.data() + r * k, 1);
        CHECK(ec <= er * (1.0 + 1e-9) + 1e-15);
        total_clipped += ec;
        total_rtn += er;
      }
      CHECK(total_clipped < total_rtn);  // and it does clip something
      // Ranges only shrink, and codes are the parameters' nearest codes.
      for (int64_t r = 0; r < n; ++r)
        for (int64_t g = 0; g < clipped.layout.groups(); ++g) {
          CHECK(clipped.param(r, g).scale <= rtn.param(r, g).scale);
          const int64_t begin = g * clipped.layout.group_size;
          const int64_t count = std::min(clipped.layout.group_size, k - begin);
          for (int64_t i = 0; i < count; ++i)
            REQUIRE(clipped.codes[static_cast<size_t>(r * k + begin + i)] ==
                    quantize_value(w[static_cast<size_t>(r * k + begin + i)], clipped.param(r, g), clipped.layout.max_code()));
        }
    }
}

TEST_CASE("smoothquant_scales: s_j = max|x_j|^alpha / max|W_j|^(1 - alpha), floored at 1e-5") {
  const std::vector<double> act{4.0, 1.0, 0.0, 9.0, 2.0};
  const std::vector<double> weight{1.0, 4.0, 2.0, 0.0, 0.5};
  const auto s = smoothquant_scales(act, weight, SmoothQuantOptions{});
  REQUIRE(s.size() == 5);
  CHECK(s[0] == doctest::Approx(2.0));
  CHECK(s[1] == doctest::Approx(0.5));
  CHECK(s[2] == doctest::Approx(std::sqrt(1e-5) / std::sqrt(2.0)));
  CHECK(s[3] == doctest::Approx(3.0 / std::sqrt(1e-5)));
  CHECK(s[4] == doctest::Approx(2.0));
  SmoothQuantOptions strong;
  strong.alpha = 0.75;
  const auto t = smoothquant_scales(act, weight, strong);
  CHECK(t[0] == doctest::Approx(std::pow(4.0, 0.75)));
  CHECK(t[1] == doctest::Approx(1.0 / std::pow(4.0, 0.25)));
  CHECK(t[4] == doctest::Approx(std::pow(2.0, 0.75) / std::pow(0.5, 0.25)));
  for (double v : t) CHECK(std::isfinite(v));
  // After smoothing, channel j's activation max and weight max meet at max|x|^a * max|W|^(1-a).
  CHECK(act[0] / s[0] == doctest::Approx(weight[0] * s[0]));
  CHECK(act[1] / s[1] == doctest::Approx(weight[1] * s[1]));
}

TEST_CASE("fold_channel_scales preserves an RMSNorm -> Linears + SwiGLU block") {
  for (const bool up_first : {false, true}) {
    CAPTURE(up_first);
    const int64_t d = 12, f = 20;
    GraphMaker m(31);
    m.input("x");
    const std::string h = m.rms_norm("layers.0.post_attention_layernorm", "x", d);
    const std::string gate = m.linear("layers.0.mlp.gate_proj", h, d, f);
    const std::string up = m.linear("layers.0.mlp.up_proj", h, d, f, true);
    const std::string act = m.node("SiLU", "edgec", {gate}, "act", "layers.0.mlp.act_fn");
    const std::string product = m.node("Mul", "", up_first ? std::vector<std::string>{up, act} : std::vector<std::string>{act, up},
                                       "product", "layers.0.mlp");
    const std::string down = m.linear("layers.0.mlp.down_proj", product, f, d, true);
    m.output(down);
    Graph graph = m.graph;
    const auto layers = find_linear_layers(graph);
    REQUIRE(layers.size() == 3);
    CHECK(layers[0].weight == "layers.0.mlp.gate_proj.weight");
    CHECK(layers[1].bias == "layers.0.mlp.up_proj.bias");
    CHECK(layers[2].in_features == f);
    const auto groups = input_groups(graph, layers);
    REQUIRE(groups.size() == 2);
    CHECK(groups[0].input == h);
    CHECK(groups[0].layers == std::vector<size_t>{0, 1});
    CHECK(groups[0].absorber == InputGroup::Absorber::norm);
    CHECK(groups[0].absorber_node == 0);
    CHECK(groups[1].input == product);
    CHECK(groups[1].layers == std::vector<size_t>{2});
    CHECK(groups[1].absorber == InputGroup::Absorber::linear);
    CHECK(groups[1].absorber_layer == 1);

    const std::map<std::string, HostTensor> feeds{{"x", random_f32({2, 5, d}, 32)}};
    const auto before = run_graph(graph, feeds).at(down);
    fold_channel_scales(graph, groups[0], layers, random_scales(static_cast<size_t>(d), 33));
    fold_channel_scales(graph, groups[1], layers, random_scales(static_cast<size_t>(f), 34));
    // The weights did change, the function did not.
    CHECK(graph.initializer("layers.0.mlp.down_proj.weight")->to_f32() != m.graph.initializer("layers.0.mlp.down_proj.weight")->to_f32());
    CHECK(graph.initializer("layers.0.post_attention_layernorm.weight")->to_f32() !=
          m.graph.initializer("layers.0.post_attention_layernorm.weight")->to_f32());
    CHECK(graph.initializer("layers.0.mlp.up_proj.bias")->to_f32() != m.graph.initializer("layers.0.mlp.up_proj.bias")->to_f32());
    const auto after = run_graph(graph, feeds).at(down);
    CHECK(relative_max_error(after, before) <= 1e-5);
  }
}

TEST_CASE("fold_channel_scales preserves a LayerNorm (weight and bias) -> two Linears and a Linear -> Linear chain") {
  const int64_t d = 10, e = 14;
  GraphMaker m(41);
  m.input("x");
  const std::string h = m.layer_norm("block.norm", "x", d);
  const std::string q = m.linear("block.q", h, d, e, true);
  const std::string k = m.linear("block.k", h, d, d);
  const std::string z = m.linear("block.fc2", q, e, d, true);  // reads q directly: q's rows absorb
  m.output(k);
  m.output(z);
  Graph graph = m.graph;
  const auto layers = find_linear_layers(graph);
  REQUIRE(layers.size() == 3);
  const auto groups = input_groups(graph, layers);
  REQUIRE(groups.size() == 2);
  CHECK(groups[0].absorber == InputGroup::Absorber::norm);
  CHECK(groups[0].layers == std::vector<size_t>{0, 1});
  CHECK(groups[1].input == q);
  CHECK(groups[1].absorber == InputGroup::Absorber::linear);
  CHECK(groups[1].absorber_layer == 0);
  const std::map<std::string, HostTensor> feeds{{"x", random_f32({3, d}, 42, 2.0)}};
  const auto before = run_graph(graph, feeds);
  fold_channel_scales(graph, groups[0], layers, random_scales(static_cast<size_t>(d), 43));
  fold_channel_scales(graph, groups[1], layers, random_scales(static_cast<size_t>(e), 44));
  CHECK(graph.initializer("block.norm.bias")->to_f32() != m.graph.initializer("block.norm.bias")->to_f32());
  const auto after = run_graph(graph, feeds);
  CHECK(relative_max_error(after.at(k), before.at(k)) <= 1e-5);
  CHECK(relative_max_error(after.at(z), before.at(z)) <= 1e-5);
}

TEST_CASE("fold_channel_scales through an ONNX LayerNormalization over the last axis") {
  const int64_t d = 8;
  for (const int64_t axis : {int64_t{-1}, int64_t{1}}) {
    CAPTURE(axis);
    GraphMaker m(45);
    m.input("x");
    const std::string h = m.node("LayerNormalization", "", {"x", m.weight("ln.weight", {d}, 0.2, 1.0f), m.weight("ln.bias", {d}, 0.1)},
                                 "h", "ln", {{"axis", axis}, {"epsilon", 1e-5f}});
    m.output(m.linear("fc", h, d, 6, true));
    Graph graph = m.graph;
    const auto layers = find_linear_layers(graph);
    const auto groups = input_groups(graph, layers);
    REQUIRE(groups.size() == 1);
    if (axis != -1) {  // only axis -1 is recognised (conservatively, even where 1 is the last axis)
      CHECK(groups[0].absorber == InputGroup::Absorber::none);
      continue;
    }
    CHECK(groups[0].absorber == InputGroup::Absorber::norm);
    const std::map<std::string, HostTensor> feeds{{"x", random_f32({4, d}, 46, 3.0)}};
    const auto before = run_graph(graph, feeds).at("fc.out");
    fold_channel_scales(graph, groups[0], layers, random_scales(static_cast<size_t>(d), 47));
    CHECK(relative_max_error(run_graph(graph, feeds).at("fc.out"), before) <= 1e-5);
  }
}

TEST_CASE("input_groups: a value with another reader gets no absorber") {
  const int64_t d = 8;
  SUBCASE("the norm output is also read by a non-linear node") {
    GraphMaker m(51);
    m.input("x");
    const std::string h = m.rms_norm("norm", "x", d);
    m.output(m.linear("q", h, d, d));
    m.output(m.node("Relu", "", {h}, "relu"));
    const auto layers = find_linear_layers(m.graph);
    const auto groups = input_groups(m.graph, layers);
    REQUIRE(groups.size() == 1);
    CHECK(groups[0].absorber == InputGroup::Absorber::none);
    CHECK_THROWS_AS(fold_channel_scales(m.graph, groups[0], layers, std::vector<double>(static_cast<size_t>(d), 2.0)), Error);
  }
  SUBCASE("the norm output is a graph output") {
    GraphMaker m(52);
    m.input("x");
    const std::string h = m.rms_norm("norm", "x", d);
    m.output(m.linear("q", h, d, d));
    m.output(h);
    CHECK(input_groups(m.graph, find_linear_layers(m.graph)).at(0).absorber == InputGroup::Absorber::none);
  }
  SUBCASE("the norm weight is shared with another norm") {
    GraphMaker m(53);
    m.input("x");
    const std::string h = m.rms_norm("norm", "x", d);
    const std::string h2 = m.node("RMSNorm", "edgec", {h, "norm.weight"}, "again", "norm2", {{"epsilon", 1e-6f}});
    m.output(m.linear("q", h, d, d));
    m.output(h2);
    // h is read by the second norm too; h2 by nobody but the output.
    const auto groups = input_groups(m.graph, find_linear_layers(m.graph));
    CHECK(groups.at(0).absorber == InputGroup::Absorber::none);
    GraphMaker n(54);
    n.input("x");
    const std::string a = n.rms_norm("norm", "x", d);
    const std::string b = n.node("RMSNorm", "edgec", {"x", "norm.weight"}, "other", "norm2", {{"epsilon", 1e-6f}});
    n.output(n.linear("q", a, d, d));
    n.output(b);
    CHECK(input_groups(n.graph, find_linear_layers(n.graph)).at(0).absorber == InputGroup::Absorber::none);
  }
  SUBCASE("the up projection's output is read elsewhere too") {
    GraphMaker m(55);
    m.input("x");
    const std::string up = m.linear("up", "x", d, 2 * d);
    const std::string act = m.node("SiLU", "edgec", {up}, "act");
    const std::string product = m.node("Mul", "", {act, up}, "product");
    m.output(m.linear("down", product, 2 * d, d));
    const auto groups = input_groups(m.graph, find_linear_layers(m.graph));
    REQUIRE(groups.size() == 2);
    CHECK(groups[0].absorber == InputGroup::Absorber::none);  // a graph input
    CHECK(groups[1].absorber == InputGroup::Absorber::none);  // up feeds SiLU and Mul
  }
}

TEST_CASE("write_weight unties a weight shared by an Embedding and a Linear, folding keeps both outputs") {
  const int64_t vocab = 11, d = 6;
  GraphMaker m(61);
  m.input("ids");
  m.weight("embed.weight", {vocab, d});
  const std::string e = m.node("Embedding", "edgec", {"ids", "embed.weight"}, "embedded", "model.embed_tokens");
  const std::string h = m.rms_norm("model.norm", e, d);
  const std::string logits = m.node("Linear", "edgec", {h, "embed.weight"}, "logits", "lm_head");
  m.output(e);
  m.output(logits);
  const std::map<std::string, HostTensor> feeds{
      {"ids", HostTensor::from_values<int64_t>(DType::i64, {1, 5}, std::vector<int64_t>{0, 3, 10, 3, 7})}};
  const auto before = run_graph(m.graph, feeds);
  const auto layers = find_linear_layers(m.graph);
  REQUIRE(layers.size() == 1);
  CHECK(layers[0].weight == "embed.weight");

  SUBCASE("write_weight") {
    Graph graph = m.graph;
    std::vector<float> doubled = read_weight(graph, layers[0]);
    for (float& v : doubled) v *= 2.0f;
    write_weight(graph, layers[0], doubled);
    CHECK(graph.nodes[2].inputs[1] == "lm_head.weight");
    CHECK(graph.nodes[0].inputs[1] == "embed.weight");
    CHECK(graph.initializer("embed.weight")->to_f32() == m.graph.initializer("embed.weight")->to_f32());
    CHECK(read_weight(graph, layers[0]) == doubled);  // follows the node's current input
    const auto after = run_graph(graph, feeds);
    CHECK(after.at(e) == before.at(e));
    for (size_t i = 0; i < after.at(logits).size(); ++i) CHECK(after.at(logits)[i] == doctest::Approx(2.0 * before.at(logits)[i]));
    // Writing again changes the untied copy in place, without another rename.
    write_weight(graph, layers[0], read_weight(graph, layers[0]));
    CHECK(graph.nodes[2].inputs[1] == "lm_head.weight");
  }
  SUBCASE("fold through the final norm") {
    Graph graph = m.graph;
    const auto groups = input_groups(graph, layers);
    REQUIRE(groups.size() == 1);
    CHECK(groups[0].absorber == InputGroup::Absorber::norm);
    fold_channel_scales(graph, groups[0], layers, random_scales(static_cast<size_t>(d), 62));
    CHECK(graph.nodes[2].inputs[1] != "embed.weight");
    const auto after = run_graph(graph, feeds);
    CHECK(after.at(e) == before.at(e));
    CHECK(relative_max_error(after.at(logits), before.at(logits)) <= 1e-5);
  }
}

TEST_CASE("read_weight / write_weight see a MatMul's [K, N] initializer as W [N, K]") {
  GraphMaker m(71);
  m.input("x");
  m.graph.initializers["b"] = Tensor::from_values<float>(DType::f32, {2, 3}, std::span<const float>(std::vector<float>{1, 2, 3, 4, 5, 6}));
  m.output(m.node("MatMul", "", {"x", "b"}, "y"));
  const auto layers = find_linear_layers(m.graph);
  REQUIRE(layers.size() == 1);
  CHECK(layers[0].transposed);
  CHECK(layers[0].out_features == 3);
  CHECK(layers[0].in_features == 2);
  CHECK(read_weight(m.graph, layers[0]) == std::vector<float>{1, 4, 2, 5, 3, 6});
  write_weight(m.graph, layers[0], {10, 40, 20, 50, 30, 60});
  CHECK(m.graph.initializer("b")->to_f32() == std::vector<float>{10, 20, 30, 40, 50, 60});
  CHECK(m.graph.initializer("b")->dims() == std::vector<int64_t>{2, 3});
}
