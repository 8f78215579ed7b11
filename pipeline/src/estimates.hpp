#pragma once
// The plan's estimates: the artifact's size and calibration's peak memory (formulas: docs/recipes.md,
// "Preflight and the plan").
#include <cstdint>
#include <set>
#include <vector>

#include "edgec/core/graph.hpp"
#include "edgec/pipeline/preflight.hpp"
#include "edgec/quant/layers.hpp"

namespace edgec::pipeline::detail {

// Bytes of a layer's packed form (edgec::QuantLayout): codes, scales, zero points, static activation scale.
int64_t packed_size(const quant::WeightScheme& scheme, int64_t out_features, int64_t in_features);

int64_t tensor_bytes(const Tensor& tensor);

// The residual width: the in_features most linear layers share (the larger on a tie).
int64_t hidden_size(const std::vector<quant::LinearLayer>& layers);

// Sets plan.original_bytes, unquantized_bytes and estimated_bytes; the stages' packed_bytes must be filled.
// `quantized_nodes`: the nodes some stage rewrites (their weight input is no longer read by them).
void estimate_size(const Graph& graph, const std::set<size_t>& quantized_nodes, Plan& plan);

// Sets plan.calibration_tokens, calibration_peak_bytes and peak_block. `calibrated`: for each stage that
// calibrates, the layers it quantizes; `layers`: every linear layer of the graph.
void estimate_calibration_memory(const Graph& graph, const std::vector<quant::LinearLayer>& layers,
                                 const std::vector<std::vector<const quant::LinearLayer*>>& calibrated, int64_t tokens, Plan& plan);

}  // namespace edgec::pipeline::detail
