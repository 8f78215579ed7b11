#pragma once
// Small builders for runtime tests: one-node graphs, tensors from literals, and closeness checks.
#include <doctest/doctest.h>

#include <cmath>
#include <map>
#include <string>
#include <vector>

#include "edgec/core/graph.hpp"
#include "edgec/runtime/executor.hpp"
#include "edgec/runtime/host_tensor.hpp"

namespace edgec::runtime::test {

inline HostTensor f32(std::vector<int64_t> dims, const std::vector<float>& values) {
  return HostTensor::from_values<float>(DType::f32, std::move(dims), values);
}
// f16 tensor from f32 values (rounded to nearest even).
inline HostTensor f16(std::vector<int64_t> dims, const std::vector<float>& values) {
  std::vector<uint16_t> bits;
  for (const float v : values) bits.push_back(f32_to_f16(v));
  return HostTensor::from_values<uint16_t>(DType::f16, std::move(dims), bits);
}
inline HostTensor i64(std::vector<int64_t> dims, const std::vector<int64_t>& values) {
  return HostTensor::from_values<int64_t>(DType::i64, std::move(dims), values);
}
inline HostTensor boolean(std::vector<int64_t> dims, const std::vector<uint8_t>& values) {
  return HostTensor::from_values<uint8_t>(DType::boolean, std::move(dims), values);
}
// Deterministic test data: sin(phase + step * i), i = 0..n-1.
inline std::vector<float> pattern(size_t n, double phase, double step = 0.7) {
  std::vector<float> v(n);
  for (size_t i = 0; i < n; ++i) v[i] = static_cast<float>(std::sin(phase + step * static_cast<double>(i)));
  return v;
}
inline Tensor ir_f32(std::vector<int64_t> dims, const std::vector<float>& values) {
  return Tensor::from_values<float>(DType::f32, std::move(dims), std::span<const float>(values));
}

// A graph with one node `op` reading inputs in0..inN-1 (names given by the map keys in order of
// `input_names`) and writing out0..outM-1.
struct OneNode {
  Graph graph;
  std::map<std::string, HostTensor> feeds;

  OneNode(std::string op, std::vector<HostTensor> inputs, std::map<std::string, Attribute> attributes = {},
          size_t outputs = 1, int64_t opset = 17, std::string domain = "") {
    Node node;
    node.name = "n0";
    node.op = std::move(op);
    node.domain = std::move(domain);
    node.attributes = std::move(attributes);
    for (size_t i = 0; i < inputs.size(); ++i) {
      const std::string name = "in" + std::to_string(i);
      if (!inputs[i].defined()) {
        node.inputs.push_back("");
        continue;
      }
      node.inputs.push_back(name);
      graph.inputs.push_back(ValueInfo{name, {}});
      feeds[name] = inputs[i];
    }
    for (size_t i = 0; i < outputs; ++i) {
      node.outputs.push_back("out" + std::to_string(i));
      graph.outputs.push_back(ValueInfo{"out" + std::to_string(i), {}});
    }
    graph.name = "test";
    graph.opset_imports[""] = opset;
    graph.opset_imports["edgec"] = 1;
    graph.nodes.push_back(std::move(node));
  }

  std::vector<HostTensor> run() const {
    const Executor executor(graph);
    auto results = executor.run(feeds);
    std::vector<HostTensor> out;
    for (const auto& info : graph.outputs) out.push_back(results.at(info.name));
    return out;
  }
};

inline HostTensor run1(std::string op, std::vector<HostTensor> inputs, std::map<std::string, Attribute> attributes = {},
                       int64_t opset = 17, std::string domain = "") {
  return OneNode(std::move(op), std::move(inputs), std::move(attributes), 1, opset, std::move(domain)).run().at(0);
}

inline void check_close(const HostTensor& actual, std::vector<int64_t> dims, const std::vector<float>& expected,
                        double tolerance = 1e-5) {
  REQUIRE(actual.dims() == dims);
  REQUIRE(actual.dtype() == DType::f32);
  const auto values = actual.to_f32();
  REQUIRE(values.size() == expected.size());
  for (size_t i = 0; i < values.size(); ++i) {
    INFO("element " << i);
    CHECK(std::abs(static_cast<double>(values[i]) - static_cast<double>(expected[i])) <= tolerance);
  }
}

inline double max_abs_diff(const std::vector<float>& a, const std::vector<float>& b) {
  REQUIRE(a.size() == b.size());
  double worst = 0;
  for (size_t i = 0; i < a.size(); ++i) worst = std::max(worst, std::abs(static_cast<double>(a[i]) - b[i]));
  return worst;
}

}  // namespace edgec::runtime::test
