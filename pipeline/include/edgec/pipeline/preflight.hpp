#pragma once
// Preflight: checks a validated recipe against the model it names — every pattern matches a layer, group sizes
// divide the layers' input features, no layer is quantized by two stages — and plans the work (`--dry-run`
// prints the plan): the layers each stage touches with their schemes, the estimated artifact size and the
// estimated peak memory of calibration. Formulas: docs/recipes.md, "Preflight and the plan".
#include <cstdint>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "edgec/core/graph.hpp"
#include "edgec/core/model.hpp"
#include "edgec/pipeline/recipe.hpp"
#include "edgec/quant/quantize_graph.hpp"

namespace edgec::pipeline {

struct LayerPlan {
  std::string name;    // the weight's name
  std::string scope;   // the node's scope ("" when the graph has none)
  std::string op;      // edgec.Linear, MatMul, Gemm, ...
  int64_t out_features = 0, in_features = 0;
  quant::WeightScheme scheme;  // as applied: override or stage scheme, group resolved for this layer
  int64_t original_bytes = 0;  // the weight as stored now
  int64_t packed_bytes = 0;    // codes + scales + zero points (+ the static activation scale)
};

// A linear layer by weight name and scope (a tied lm_head's weight is the embedding's: the scope tells them apart).
struct LayerRef {
  std::string name, scope;
};

struct StagePlan {
  std::string name, pass, method;
  std::vector<LayerPlan> layers;          // in graph order
  quant::QuantizeOptions options;         // ready for quant::quantize_graph(graph, data, options, method)
  // The linear layers this stage leaves alone, each by a name only it has (its scope, else its node name, else its
  // weight's name): options.ignore holds them as exact patterns.
  std::vector<std::string> excluded;
  int64_t original_bytes = 0, packed_bytes = 0;
};

struct Plan {
  std::string model;                      // the model path
  std::string device;
  int64_t linear_layers = 0;              // in the model
  std::vector<StagePlan> stages;
  std::vector<LayerRef> unquantized;      // linear layers no stage quantizes
  int64_t original_bytes = 0;             // every constant of the graph as stored now
  int64_t unquantized_bytes = 0;          // the constants the artifact keeps as they are
  int64_t estimated_bytes = 0;            // unquantized_bytes + every stage's packed_bytes
  // Calibration (0 when no stage needs data): tokens = samples x seq_len; peak over the blocks of the block's
  // f32 weights + one f64 Hessian (K x K) per layer + 3 x tokens x hidden x 4 bytes of activations.
  int64_t calibration_tokens = 0;
  int64_t hidden_size = 0;                // the in_features most linear layers share (the residual width)
  int64_t calibration_peak_bytes = 0;
  std::string peak_block;                 // the block where the peak is reached
};

// Throws Error(usage) listing every problem (FILE:LINE:COL: message, sorted) when the recipe does not fit the graph.
Plan preflight(const Recipe& recipe, const Graph& graph);
// The same for an imported model, which must hold one graph (Error(usage) at `model` otherwise).
Plan preflight(const Recipe& recipe, const Model& model);

// A human-readable table: stages, their layers and schemes, sizes, memory.
std::string plan_to_text(const Plan& plan);
nlohmann::ordered_json plan_to_json(const Plan& plan);

}  // namespace edgec::pipeline
