#pragma once
// Hand-built IR graphs for the scale-folding and quantization tests.
#include <map>
#include <string>
#include <vector>

#include "edgec/core/graph.hpp"
#include "edgec/runtime/executor.hpp"
#include "edgec/runtime/host_tensor.hpp"
#include "quant_test_helpers.hpp"

namespace edgec::quant::test {

struct GraphMaker {
  Graph graph;
  Random rng;

  explicit GraphMaker(uint64_t seed) : rng(seed) {
    graph.name = "synthetic";
    graph.opset_imports[""] = 17;
    graph.opset_imports["edgec"] = 1;
  }
  void input(const std::string& name) { graph.inputs.push_back(ValueInfo{name, {}}); }
  void output(const std::string& name) { graph.outputs.push_back(ValueInfo{name, {}}); }
  // A random f32 initializer; `offset` shifts every value (positive norm weights, ...).
  std::string weight(const std::string& name, std::vector<int64_t> dims, double scale = 0.3, float offset = 0.0f) {
    int64_t count = 1;
    for (int64_t d : dims) count *= d;
    std::vector<float> values = rng.normals(static_cast<size_t>(count), scale);
    for (float& v : values) v += offset;
    graph.initializers[name] = Tensor::from_values<float>(DType::f32, std::move(dims), std::span<const float>(values));
    return name;
  }
  std::string node(const std::string& op, const std::string& domain, std::vector<std::string> inputs, const std::string& out,
                   const std::string& scope = "", std::map<std::string, Attribute> attributes = {}) {
    Node n;
    n.name = out + "_node";
    n.op = op;
    n.domain = domain;
    n.scope = scope;
    n.inputs = std::move(inputs);
    n.outputs = {out};
    n.attributes = std::move(attributes);
    graph.nodes.push_back(std::move(n));
    return out;
  }
  std::string linear(const std::string& scope, const std::string& x, int64_t in, int64_t out, bool bias = false) {
    std::vector<std::string> inputs{x, weight(scope + ".weight", {out, in})};
    if (bias) inputs.push_back(weight(scope + ".bias", {out}, 0.1));
    return node("Linear", "edgec", inputs, scope + ".out", scope);
  }
  std::string rms_norm(const std::string& scope, const std::string& x, int64_t d) {
    return node("RMSNorm", "edgec", {x, weight(scope + ".weight", {d}, 0.2, 1.0f)}, scope + ".out", scope,
                {{"epsilon", 1e-6f}});
  }
  std::string layer_norm(const std::string& scope, const std::string& x, int64_t d) {
    return node("LayerNorm", "edgec", {x, weight(scope + ".weight", {d}, 0.2, 1.0f), weight(scope + ".bias", {d}, 0.1)},
                scope + ".out", scope, {{"epsilon", 1e-5f}});
  }
};

inline runtime::HostTensor random_f32(std::vector<int64_t> dims, uint64_t seed, double scale = 1.0) {
  int64_t count = 1;
  for (int64_t d : dims) count *= d;
  Random rng(seed);
  return runtime::HostTensor::from_values<float>(DType::f32, std::move(dims), rng.normals(static_cast<size_t>(count), scale));
}

inline std::map<std::string, std::vector<float>> run_graph(const Graph& graph, const std::map<std::string, runtime::HostTensor>& feeds) {
  const runtime::Executor executor(graph);
  std::map<std::string, std::vector<float>> out;
  for (const auto& [name, tensor] : executor.run(feeds)) out[name] = tensor.to_f32();
  return out;
}

// max_i |a_i - b_i| / max_i |b_i|
inline double relative_max_error(const std::vector<float>& a, const std::vector<float>& b) {
  REQUIRE(a.size() == b.size());
  double worst = 0.0, scale = 0.0;
  for (size_t i = 0; i < a.size(); ++i) {
    worst = std::max(worst, std::fabs(static_cast<double>(a[i]) - b[i]));
    scale = std::max(scale, std::fabs(static_cast<double>(b[i])));
  }
  return scale > 0.0 ? worst / scale : worst;
}

// ||a - b||_2 / ||b||_2
inline double relative_l2_error(const std::vector<float>& a, const std::vector<float>& b) {
  REQUIRE(a.size() == b.size());
  double diff = 0.0, norm = 0.0;
  for (size_t i = 0; i < a.size(); ++i) {
    diff += (static_cast<double>(a[i]) - b[i]) * (static_cast<double>(a[i]) - b[i]);
    norm += static_cast<double>(b[i]) * b[i];
  }
  return std::sqrt(diff / norm);
}

}  // namespace edgec::quant::test
