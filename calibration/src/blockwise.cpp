#include "edgec/calibration/blockwise.hpp"

#include <regex>
#include <set>

#include "edgec/core/error.hpp"
#include "edgec/runtime/executor.hpp"

namespace edgec::calibration {

namespace {

std::string block_key(const Node& node) {
  const std::string& where = node.scope.empty() ? node.name : node.scope;
  if (where.empty()) return {};
  static const std::regex layer(R"(^(.*?layers?[./_]\d+))");  // const: no mutable state
  std::smatch match;
  if (std::regex_search(where, match, layer)) {
    std::string key = match[1].str();
    if (!key.empty() && key.front() == '/') key.erase(0, 1);
    for (char& c : key)
      if (c == '/') c = '.';
    return key;
  }
  const size_t start = where.front() == '/' ? 1 : 0;
  const size_t end = where.find_first_of("./", start);
  return where.substr(start, end == std::string::npos ? std::string::npos : end - start);
}

}  // namespace

std::vector<Block> split_into_blocks(const Graph& graph) {
  std::vector<Block> blocks;
  for (size_t i = 0; i < graph.nodes.size(); ++i) {
    std::string key = block_key(graph.nodes[i]);
    if (key.empty()) key = blocks.empty() ? std::string("input") : blocks.back().key;
    if (blocks.empty() || blocks.back().key != key) blocks.push_back(Block{key, {}});
    blocks.back().nodes.push_back(i);
  }
  return blocks;
}

BlockwiseRunner::BlockwiseRunner(const Graph& graph, const Dataset& data) : graph_(graph), blocks_(split_into_blocks(graph)) {
  for (size_t b = 0; b < blocks_.size(); ++b)
    for (size_t index : blocks_[b].nodes)
      for (const auto& input : graph.nodes[index].inputs)
        if (!input.empty()) last_reader_[input] = b;
  for (const auto& output : graph.outputs) last_reader_[output.name] = blocks_.size();
  carried_.reserve(data.samples.size());
  for (const auto& sample : data.samples) {
    for (const auto& info : graph.inputs)
      if (!sample.inputs.count(info.name) && !graph.initializers.count(info.name))
        throw Error(ErrorCategory::input, "calibration data has no value for graph input '" + info.name + "' (" +
                                              data.description + ")");
    carried_.push_back(sample.inputs);
  }
}

Graph BlockwiseRunner::block_graph(size_t block) const {
  Graph sub;
  sub.name = graph_.name + ":" + blocks_[block].key;
  sub.opset_imports = graph_.opset_imports;
  std::set<std::string> produced, declared;
  for (size_t index : blocks_[block].nodes) {
    const Node& node = graph_.nodes[index];
    for (const auto& input : node.inputs) {
      if (input.empty() || produced.count(input) || declared.count(input)) continue;
      if (const Tensor* tensor = graph_.initializer(input)) {
        sub.initializers.emplace(input, *tensor);
      } else {
        sub.inputs.push_back(ValueInfo{input, {}});
      }
      declared.insert(input);
    }
    for (const auto& output : node.outputs)
      if (!output.empty()) produced.insert(output);
    sub.nodes.push_back(node);
  }
  // Nodes with subgraph attributes may read any outer initializer.
  for (size_t index : blocks_[block].nodes)
    for (const auto& [key, value] : graph_.nodes[index].attributes)
      if (std::holds_alternative<GraphPtr>(value) || std::holds_alternative<std::vector<GraphPtr>>(value))
        for (const auto& [name, tensor] : graph_.initializers) sub.initializers.emplace(name, tensor);
  for (const auto& value : produced) {
    const auto it = last_reader_.find(value);
    if (it != last_reader_.end() && it->second > block) sub.outputs.push_back(ValueInfo{value, {}});
  }
  return sub;
}

void BlockwiseRunner::observe(size_t block, runtime::Observer& observer) const {
  const Graph sub = block_graph(block);
  runtime::Executor executor(sub);
  executor.add_observer(observer);
  runtime::RunOptions options;
  for (const auto& output : sub.outputs) options.outputs.push_back(output.name);
  if (options.outputs.empty() && !sub.nodes.empty()) options.outputs.push_back(sub.nodes.back().outputs.front());
  for (const auto& values : carried_) {
    std::map<std::string, runtime::HostTensor> inputs;
    for (const auto& info : sub.inputs) inputs[info.name] = values.at(info.name);
    executor.run(inputs, options);
  }
}

void BlockwiseRunner::advance(size_t block) {
  if (block != next_) throw Error(ErrorCategory::internal, "blocks must be advanced in order");
  const Graph sub = block_graph(block);
  runtime::Executor executor(sub);
  runtime::RunOptions options;
  for (const auto& output : sub.outputs) options.outputs.push_back(output.name);
  for (auto& values : carried_) {
    if (!options.outputs.empty()) {
      std::map<std::string, runtime::HostTensor> inputs;
      for (const auto& info : sub.inputs) inputs[info.name] = values.at(info.name);
      for (auto& [name, tensor] : executor.run(inputs, options)) values[name] = std::move(tensor);
    }
    // Drop what no later block reads.
    for (auto it = values.begin(); it != values.end();) {
      const auto reader = last_reader_.find(it->first);
      const bool needed = reader != last_reader_.end() && reader->second > block;
      it = needed ? std::next(it) : values.erase(it);
    }
  }
  ++next_;
}

void BlockwiseRunner::restore(size_t next_block, std::vector<Values> carried) {
  if (next_block > blocks_.size())
    throw Error(ErrorCategory::input, "checkpoint: block " + std::to_string(next_block) + " is past the graph's " + std::to_string(blocks_.size()) + " blocks");
  if (carried.size() != carried_.size())
    throw Error(ErrorCategory::input, "checkpoint: carries values for " + std::to_string(carried.size()) + " calibration samples, the data has " +
                                          std::to_string(carried_.size()));
  next_ = next_block;
  carried_ = std::move(carried);
}

int64_t BlockwiseRunner::carried_bytes() const {
  int64_t bytes = 0;
  for (const auto& values : carried_)
    for (const auto& [name, tensor] : values) bytes += static_cast<int64_t>(tensor.size_bytes());
  return bytes;
}

}  // namespace edgec::calibration
