// Graph invariants and topological sorting.
#include <deque>
#include <set>
#include <unordered_map>
#include <unordered_set>

#include "edgec/core/error.hpp"
#include "edgec/core/graph.hpp"

namespace edgec {
namespace {

using NameSet = std::unordered_set<std::string>;

std::vector<const Graph*> subgraphs_of(const Node& node) {
  std::vector<const Graph*> result;
  for (const auto& [key, value] : node.attributes) {
    if (const auto* graph = std::get_if<GraphPtr>(&value); graph && *graph) result.push_back(graph->get());
    if (const auto* graphs = std::get_if<std::vector<GraphPtr>>(&value))
      for (const auto& g : *graphs)
        if (g) result.push_back(g.get());
  }
  return result;
}

// Names a subgraph reads from its enclosing scopes (used but not defined inside it).
void collect_outer_references(const Graph& graph, NameSet& out) {
  NameSet defined;
  for (const auto& input : graph.inputs) defined.insert(input.name);
  for (const auto& [name, tensor] : graph.initializers) defined.insert(name);
  for (const auto& node : graph.nodes) {
    for (const auto& input : node.inputs)
      if (!input.empty() && !defined.count(input)) out.insert(input);
    for (const Graph* sub : subgraphs_of(node)) {
      NameSet inner;
      collect_outer_references(*sub, inner);
      for (const auto& name : inner)
        if (!defined.count(name)) out.insert(name);
    }
    for (const auto& output : node.outputs) defined.insert(output);
  }
  for (const auto& output : graph.outputs)
    if (!defined.count(output.name)) out.insert(output.name);
}

// Every name a node reads: its inputs plus what its subgraphs read from outside.
std::vector<std::string> reads_of(const Node& node) {
  std::vector<std::string> reads;
  for (const auto& input : node.inputs)
    if (!input.empty()) reads.push_back(input);
  for (const Graph* sub : subgraphs_of(node)) {
    NameSet outer;
    collect_outer_references(*sub, outer);
    reads.insert(reads.end(), outer.begin(), outer.end());
  }
  return reads;
}

std::string describe(const Node& node, size_t index) {
  std::string text = "node " + std::to_string(index) + " (" + node.qualified_op();
  if (!node.name.empty()) text += " '" + node.name + "'";
  return text + ")";
}

bool shapes_agree(const ValueType& declared, const Tensor& tensor) {
  if (declared.kind != ValueKind::tensor) return false;
  if (declared.dtype != DType::undefined && declared.dtype != tensor.dtype()) return false;
  if (!declared.shape) return true;
  if (declared.shape->size() != tensor.dims().size()) return false;
  for (size_t i = 0; i < tensor.dims().size(); ++i)
    if ((*declared.shape)[i].known() && (*declared.shape)[i].value != tensor.dims()[i]) return false;
  return true;
}

void validate_scope(const Graph& graph, const std::string& where, const NameSet& outer) {
  NameSet defined;
  auto define = [&](const std::string& name, const std::string& by) {
    if (name.empty()) return;
    if (!defined.insert(name).second)
      throw_input_error(where, "value '" + name + "' is defined more than once (again by " + by + ")");
  };
  for (const auto& input : graph.inputs) define(input.name, "graph input");
  for (const auto& [name, tensor] : graph.initializers) {
    if (tensor.dtype() != DType::string) {
      const auto count = element_count(tensor.dims());
      const auto bytes = count ? dtype_storage_bytes(tensor.dtype(), static_cast<uint64_t>(*count)) : std::nullopt;
      if (!bytes || *bytes != tensor.bytes().size())
        throw_input_error(where, "initializer '" + name + "' has " + std::to_string(tensor.bytes().size()) +
                                     " bytes, but " + std::string(dtype_name(tensor.dtype())) + " " +
                                     dims_to_string(tensor.dims()) + " needs " +
                                     (bytes ? std::to_string(*bytes) : std::string("an impossible size")));
    }
    // An initializer may also be listed as a graph input (an overridable default, ONNX IR < 4).
    if (!defined.count(name)) define(name, "initializer");
    if (const auto declared = graph.type_of(name); declared && !shapes_agree(*declared, tensor))
      throw_input_error(where, "initializer '" + name + "' is " + std::string(dtype_name(tensor.dtype())) + " " +
                                   dims_to_string(tensor.dims()) + " but its declared type disagrees");
  }
  auto visible = [&](const std::string& name) { return defined.count(name) || outer.count(name); };
  for (size_t i = 0; i < graph.nodes.size(); ++i) {
    const Node& node = graph.nodes[i];
    if (node.op.empty()) throw_input_error(where, describe(node, i) + " has no op type");
    for (const auto& input : node.inputs)
      if (!input.empty() && !visible(input))
        throw_input_error(where, describe(node, i) + " reads '" + input +
                                     "', which is not defined before it (dangling value or nodes out of order)");
    for (const Graph* sub : subgraphs_of(node)) {
      NameSet inner_outer = outer;
      inner_outer.insert(defined.begin(), defined.end());
      validate_scope(*sub, where + " (subgraph of " + describe(node, i) + ")", inner_outer);
    }
    for (const auto& output : node.outputs) define(output, describe(node, i));
  }
  for (const auto& output : graph.outputs)
    if (!visible(output.name))
      throw_input_error(where, "graph output '" + output.name + "' is not produced by any node");
}

}  // namespace

void validate_graph(const Graph& graph, const std::string& where) { validate_scope(graph, where, {}); }

void sort_topologically(Graph& graph, const std::string& where) {
  std::unordered_map<std::string, size_t> producer;
  for (size_t i = 0; i < graph.nodes.size(); ++i)
    for (const auto& output : graph.nodes[i].outputs)
      if (!output.empty()) producer.emplace(output, i);

  const size_t n = graph.nodes.size();
  std::vector<size_t> pending(n, 0);
  std::vector<std::vector<size_t>> consumers(n);
  for (size_t i = 0; i < n; ++i) {
    std::set<size_t> deps;
    for (const auto& name : reads_of(graph.nodes[i]))
      if (const auto it = producer.find(name); it != producer.end() && it->second != i) deps.insert(it->second);
    pending[i] = deps.size();
    for (const size_t d : deps) consumers[d].push_back(i);
  }
  // Ready nodes are taken lowest original index first, so an already sorted graph is left unchanged.
  std::set<size_t> ready;
  for (size_t i = 0; i < n; ++i)
    if (pending[i] == 0) ready.insert(i);
  std::vector<Node> sorted;
  sorted.reserve(n);
  while (!ready.empty()) {
    const size_t next = *ready.begin();
    ready.erase(ready.begin());
    sorted.push_back(std::move(graph.nodes[next]));
    for (const size_t c : consumers[next])
      if (--pending[c] == 0) ready.insert(c);
  }
  if (sorted.size() != n) throw_input_error(where, "the graph has a cycle");
  graph.nodes = std::move(sorted);
}

}  // namespace edgec
