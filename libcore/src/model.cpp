#include "edgec/core/model.hpp"

#include <set>

namespace edgec {
namespace {

void add_tensor(ParameterStats& stats, const Tensor& tensor) {
  if (dtype_is_float(tensor.dtype())) stats.parameters += tensor.elements();
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
    for (const auto& [name, tensor] : graph.initializers)
      if (seen.insert(name).second) add_tensor(stats[component_of(model, name)], tensor);
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
