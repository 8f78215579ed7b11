#include <algorithm>
#include <set>

#include "edgec/core/graph.hpp"

namespace edgec {

size_t constants_to_initializers(Graph& graph) {
  std::set<std::string> graph_outputs;
  for (const auto& output : graph.outputs) graph_outputs.insert(output.name);
  size_t replaced = 0;
  std::erase_if(graph.nodes, [&](Node& node) {
    if (node.op != "Constant" || !node.domain.empty() || node.outputs.size() != 1 || node.outputs.front().empty()) return false;
    const auto value = node.attributes.find("value");
    if (node.attributes.size() != 1 || value == node.attributes.end() || !std::holds_alternative<Tensor>(value->second)) return false;
    const std::string& name = node.outputs.front();
    // A graph output stays a node's output: an initializer is not a computed value.
    if (graph_outputs.count(name) || graph.initializers.count(name)) return false;
    graph.initializers.emplace(name, std::move(std::get<Tensor>(value->second)));
    ++replaced;
    return true;
  });
  return replaced;
}

}  // namespace edgec
