#include "edgec/core/model.hpp"

#include <map>
#include <optional>
#include <set>

namespace edgec {
namespace {

// Parameters a quantized layer's constants stand for: its packed weight counts out x in, its scales and zero
// points count none (they are bytes, not parameters). Keyed by initializer name.
std::map<std::string, int64_t> quantized_parameters(const Graph& graph) {
  std::map<std::string, int64_t> counts;
  for (const Node& node : graph.nodes) {
    if (node.domain != "edgec" || (node.op != "QLinear" && node.op != "QConv") || node.inputs.size() < 3) continue;
    const Tensor* packed = graph.initializer(node.inputs[1]);
    if (packed == nullptr || packed->dims().empty()) continue;
    counts[node.inputs[1]] = packed->dims()[0] * node.attr_int("in_features", 0);
    for (size_t i = 2; i < 4 && i < node.inputs.size(); ++i)
      if (!node.inputs[i].empty()) counts[node.inputs[i]] = 0;
  }
  return counts;
}

void add_tensor(ParameterStats& stats, const Tensor& tensor, std::optional<int64_t> parameters = std::nullopt) {
  if (parameters) stats.parameters += *parameters;
  else if (dtype_is_float(tensor.dtype())) stats.parameters += tensor.elements();
  stats.bytes += static_cast<int64_t>(tensor.bytes().size());
  stats.tensors += 1;
  stats.bytes_by_dtype[std::string(dtype_name(tensor.dtype()))] += static_cast<int64_t>(tensor.bytes().size());
}

}  // namespace

std::string component_of(const Model& model, std::string_view name) {
  for (const auto& component : model.components)
    for (const auto& prefix : component.scope_prefixes)
      if (name.starts_with(prefix)) return component.name;
  return {};
}

std::map<std::string, ParameterStats> parameter_stats(const Model& model) {
  std::map<std::string, ParameterStats> stats;
  for (const auto& component : model.components) stats[component.name];
  std::set<std::string> seen;
  for (const Graph& graph : model.graphs) {
    const auto quantized = quantized_parameters(graph);
    for (const auto& [name, tensor] : graph.initializers) {
      if (!seen.insert(name).second) continue;
      const auto it = quantized.find(name);
      add_tensor(stats[component_of(model, name)], tensor, it == quantized.end() ? std::nullopt : std::optional<int64_t>(it->second));
    }
    // PP-OCR and many exporters keep weights in Constant nodes rather than initializers.
    for (const Node& node : graph.nodes) {
      if (node.op != "Constant" || !node.domain.empty() || node.outputs.empty()) continue;
      const auto it = node.attributes.find("value");
      if (it == node.attributes.end()) continue;
      if (const auto* tensor = std::get_if<Tensor>(&it->second))
        if (seen.insert(node.outputs[0]).second)
          add_tensor(stats[component_of(model, node.scope.empty() ? node.outputs[0] : node.scope)], *tensor);
    }
  }
  return stats;
}

}  // namespace edgec
