#pragma once
// The executor's graph optimizer: a copy of a graph that computes the same values, bit for bit, in fewer and
// cheaper steps. The Executor applies it when it is built (ExecutorOptions::optimize) and runs the original graph
// whenever observers are attached or an intermediate value the copy no longer has is asked for.
//
//  1. Constants are folded: Constant nodes become initializers, and a node whose inputs are all constant
//     (a DequantizeLinear of a quantized weight, shape arithmetic on constants, a Cast of a weight) is run once
//     here and replaced by its result (unless the result is more than 4x and 1 MiB larger than its inputs).
//  2. Runs of element-wise f32 nodes (activations, arithmetic with a constant, hard swish's x * clip(x + 3) / 6, ...)
//     become one edgec_runtime.Chain node (kernels/chain.hpp), or the epilogue of the Conv / MatMul / Gemm producing
//     their input (edgec_runtime.Conv, ...), so a tensor is written once instead of once per node.
#include <cstdint>

#include "edgec/core/graph.hpp"
#include "edgec/runtime/op_registry.hpp"

namespace edgec::runtime {

struct OptimizeReport {
  int64_t folded = 0;        // nodes replaced by constants (Constant nodes included)
  int64_t chains = 0;        // fused element-wise chains
  int64_t chain_nodes = 0;   // element-wise nodes they replaced
  int64_t epilogues = 0;     // chains fused into a producing Conv / MatMul / Gemm
};

Graph optimize_graph(const Graph& graph, const OpRegistry& registry, OptimizeReport* report = nullptr);

}  // namespace edgec::runtime
