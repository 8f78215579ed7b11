// Size and calibration-memory estimates of a plan.
#include "estimates.hpp"

#include <map>
#include <string>

#include "edgec/calibration/blockwise.hpp"

namespace edgec::pipeline::detail {

int64_t packed_size(const quant::WeightScheme& scheme, int64_t out_features, int64_t in_features) {
  const int64_t group = scheme.group_for(in_features);
  const int64_t groups = (in_features + group - 1) / group;
  const int64_t codes = out_features * ((in_features * scheme.bits + 7) / 8);
  const int64_t scales = out_features * groups * (scheme.scale_dtype == DType::f32 ? 4 : 2);
  const int64_t zeros = scheme.symmetric ? 0 : out_features * groups;
  const int64_t activation_scale = scheme.activations == quant::ActivationMode::int8_static ? 4 : 0;
  return codes + scales + zeros + activation_scale;
}

int64_t tensor_bytes(const Tensor& tensor) { return static_cast<int64_t>(tensor.bytes().size()); }

int64_t hidden_size(const std::vector<quant::LinearLayer>& layers) {
  std::map<int64_t, int> counts;
  for (const quant::LinearLayer& layer : layers) ++counts[layer.in_features];
  int64_t best = 0;
  int best_count = 0;
  for (const auto& [width, count] : counts)
    if (count >= best_count) {
      best = width;
      best_count = count;
    }
  return best;
}

namespace {

// Constants of the graph as stored (initializers, or only those in `kept`, and Constant nodes' values).
int64_t constant_bytes(const Graph& graph, const std::set<std::string>* kept) {
  int64_t bytes = 0;
  for (const auto& [name, tensor] : graph.initializers)
    if (kept == nullptr || kept->count(name)) bytes += tensor_bytes(tensor);
  for (const Node& node : graph.nodes)
    if (node.domain.empty() && node.op == "Constant")
      for (const auto& [key, value] : node.attributes)
        if (const auto* tensor = std::get_if<Tensor>(&value)) bytes += tensor_bytes(*tensor);
  return bytes;
}

}  // namespace

void estimate_size(const Graph& graph, const std::set<size_t>& quantized_nodes, Plan& plan) {
  // Kept as they are: the constants still read by some node — a quantized layer no longer reads its weight, but
  // another node may (an embedding tied to lm_head) — and graph outputs.
  std::set<std::string> kept;
  for (size_t n = 0; n < graph.nodes.size(); ++n)
    for (size_t i = 0; i < graph.nodes[n].inputs.size(); ++i)
      if (!(i == 1 && quantized_nodes.count(n))) kept.insert(graph.nodes[n].inputs[i]);
  for (const ValueInfo& output : graph.outputs) kept.insert(output.name);
  plan.original_bytes = constant_bytes(graph, nullptr);
  plan.unquantized_bytes = constant_bytes(graph, &kept);
  plan.estimated_bytes = plan.unquantized_bytes;
  for (const StagePlan& stage : plan.stages) plan.estimated_bytes += stage.packed_bytes;
}

void estimate_calibration_memory(const Graph& graph, const std::vector<quant::LinearLayer>& layers,
                                 const std::vector<std::vector<const quant::LinearLayer*>>& calibrated, int64_t tokens, Plan& plan) {
  if (calibrated.empty()) return;
  plan.calibration_tokens = tokens;
  // The block's input carried for every sample, its output, and one intermediate, all f32 at the residual width.
  const int64_t activations = 3 * tokens * plan.hidden_size * 4;
  const auto blocks = calibration::split_into_blocks(graph);
  std::map<size_t, size_t> block_of;  // node -> block
  for (size_t b = 0; b < blocks.size(); ++b)
    for (size_t n : blocks[b].nodes) block_of[n] = b;
  std::map<size_t, int64_t> weights;  // block -> f32 bytes of its linear layers
  for (const quant::LinearLayer& layer : layers)
    if (const auto it = block_of.find(layer.node); it != block_of.end()) weights[it->second] += 4 * layer.out_features * layer.in_features;
  for (const auto& stage : calibrated) {
    std::map<size_t, int64_t> hessians;  // block -> one f64 K x K Hessian per layer observed, all alive at once
    for (const quant::LinearLayer* layer : stage)
      if (const auto it = block_of.find(layer->node); it != block_of.end()) hessians[it->second] += 8 * layer->in_features * layer->in_features;
    for (const auto& [block, hessian] : hessians) {
      const int64_t peak = weights[block] + hessian + activations;
      if (peak > plan.calibration_peak_bytes) {
        plan.calibration_peak_bytes = peak;
        plan.peak_block = blocks[block].key;
      }
    }
  }
}

}  // namespace edgec::pipeline::detail
