#pragma once
// The quantization pass: picks a graph's linear layers (minus an ignore list, with per-layer scheme
// overrides), calibrates them block by block on a dataset, optionally migrates scales (AWQ, SmoothQuant),
// rounds the weights (round-to-nearest or GPTQ) and rewrites each layer into edgec.QLinear.
#include <cstdint>
#include <functional>
#include <string>
#include <vector>

#include "edgec/calibration/blockwise.hpp"
#include "edgec/calibration/dataset.hpp"
#include "edgec/core/graph.hpp"
#include "edgec/quant/awq.hpp"
#include "edgec/quant/gptq.hpp"
#include "edgec/quant/rtn.hpp"
#include "edgec/quant/scheme.hpp"
#include "edgec/quant/smoothquant.hpp"

namespace edgec::quant {

enum class Transform { none, awq, smoothquant };
enum class Rounding { rtn, gptq };

struct LayerRule {
  std::string pattern;  // glob or re:REGEX over the weight name, the node's scope or its name
  WeightScheme scheme;
};

struct QuantizeOptions {
  Transform transform = Transform::none;
  Rounding rounding = Rounding::rtn;
  WeightScheme scheme;                 // every selected layer, unless a rule matches first
  std::vector<LayerRule> overrides;
  std::vector<std::string> ignore;     // layers left in f32
  RtnOptions rtn;
  GptqOptions gptq;
  AwqOptions awq;
  SmoothQuantOptions smoothquant;
};

// "rtn", "gptq", "awq", "smoothquant", "awq+gptq", "smoothquant+gptq" -> transform and rounding in `options`.
// SmoothQuant also sets 8-bit per-channel symmetric weights, and per-token int8 activations unless the
// scheme already asks for int8 activations (per-tensor static stays). Error(usage) for anything else.
void apply_method(const std::string& method, QuantizeOptions& options);

struct LayerReport {
  std::string name;        // the weight's name
  std::string scope;       // the node's scope (module path), "" when the graph has none
  std::string op;          // edgec.Linear, MatMul, Gemm
  int64_t out_features = 0, in_features = 0;
  std::string scheme;
  int64_t tokens = 0;      // calibration rows seen (0 without data)
  // Mean per-token squared output error ||W x - W_hat x||^2 over the calibration tokens (0 without data),
  // of this method and of plain round-to-nearest on the original weight, and the output energy ||W x||^2.
  double error = 0.0, rtn_error = 0.0, output_energy = 0.0;
  double quantized_energy = 0.0;  // ||W_hat x||^2 (with the other two: the cosine between W x and W_hat x)
  double awq_alpha = -1.0;  // AWQ's chosen alpha (-1: not scaled)
  bool smoothed = false;
  int64_t dead_columns = 0;
  double seconds = 0.0;
};

struct QuantizeReport {
  std::string method;
  std::string calibration;            // dataset description, or "none"
  std::vector<LayerReport> layers;
  std::vector<std::string> skipped;   // linear layers left in f32 (ignored), by weight name
  int64_t blocks = 0;
  int64_t peak_carried_bytes = 0;     // activations kept between blocks, at most
  double seconds = 0.0;
};

// Passed to QuantizeHooks::after_block once a block has been calibrated, rewritten and advanced.
struct BlockDone {
  size_t block = 0, blocks = 0;
  const std::string& key;                     // the block's name ("model.layers.3")
  size_t quantized = 0;                       // layers of this block rewritten (0: nothing to save)
  const calibration::BlockwiseRunner& runner; // next_block() and carried(): what a checkpoint saves
  const std::vector<const LayerReport*>& finished;  // every layer this call has finished, in order
  int64_t peak_carried_bytes = 0;
};

// Where an interrupted call continues (`edgec compile --resume`). The graph handed to quantize_graph is the
// checkpoint's: its finished layers are QLinear/QConv already, so they are not selected again, and the report
// lists only the layers finished after the resume point.
struct QuantizeResume {
  size_t next_block = 0;
  std::vector<calibration::BlockwiseRunner::Values> carried;
  int64_t peak_carried_bytes = 0;
};

struct QuantizeHooks {
  std::function<void(const BlockDone&)> after_block;  // calibrated path only; every block, in order
  const QuantizeResume* resume = nullptr;
};

// Quantizes `graph` in place. `data` may be null for plain round-to-nearest without error statistics;
// every other method needs it (Error(usage) otherwise). Deterministic at any thread count, and a call resumed
// from any block's checkpoint leaves the graph exactly as an uninterrupted one.
QuantizeReport quantize_graph(Graph& graph, const calibration::Dataset* data, const QuantizeOptions& options,
                              const std::string& method_name = "", const QuantizeHooks& hooks = {});

}  // namespace edgec::quant
