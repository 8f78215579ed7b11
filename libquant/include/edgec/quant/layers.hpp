#pragma once
// The quantizable layers of a graph (a node with a constant weight: edgec.Linear, MatMul, Gemm, Conv) and the
// rewrite into edgec.QLinear / edgec.QConv. A layer's weight is seen as W [N out, K in] whatever the op's own
// layout; a Conv's [M, C/group, k1, ...] is W [M, C/group * k1 * ...], the matrix its im2col lowering multiplies.
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "edgec/core/graph.hpp"
#include "edgec/quant/scheme.hpp"

namespace edgec::quant {

struct LinearLayer {
  size_t node = 0;             // index in graph.nodes
  std::string output;          // the node's first output: the layer's key
  std::string weight;          // initializer name
  std::string bias;            // initializer name or ""
  bool transposed = false;     // the initializer is stored [K, N] (MatMul, Gemm without transB)
  int64_t conv_groups = 0;     // a Conv (1 or its group count); 0 for the matrix ops
  int64_t out_features = 0, in_features = 0;
};

// Every node whose op is edgec.Linear, MatMul (constant 2-D B), Gemm (constant B, alpha = beta = 1, no
// transA, bias constant 1-D or absent) or Conv (constant weight, bias constant or absent) with a floating-point
// weight.
std::vector<LinearLayer> find_linear_layers(const Graph& graph);

// W [N, K] as f32 (transposed from the stored layout when needed).
std::vector<float> read_weight(const Graph& graph, const LinearLayer& layer);
// Replaces the weight initializer with W [N, K] f32 in the stored layout. A weight other nodes also read
// (tied embeddings) is untied: the layer gets a new initializer and the others keep the old one. Both
// functions follow the node's current weight input, so they see earlier writes.
void write_weight(Graph& graph, const LinearLayer& layer, const std::vector<float>& weight);

struct QLinearExtras {
  std::optional<float> activation_scale;  // int8_static
};
// Rewrites the layer's node into edgec.QLinear (edgec.QConv for a Conv, which keeps its window attributes) with
// new initializers "<base>.qweight/.scales/.zeros"; the
// old weight initializer stays until remove_unused_initializers.
void rewrite_to_qlinear(Graph& graph, const LinearLayer& layer, const QuantizedWeight& weight, const WeightScheme& scheme,
                        const QLinearExtras& extras = {});

void remove_unused_initializers(Graph& graph);

// Name patterns as recipes write them: a glob (`*`, `?`) matched against the whole name, or `re:REGEX`
// searched in it.
bool name_matches(const std::string& pattern, const std::string& name);

}  // namespace edgec::quant
