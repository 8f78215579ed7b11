// GraphCausalModel: generation on an HF-importer graph. The prefill runs the whole graph (vision tower and
// merge included) with the KV cache; decode steps run a copy of the graph in which LLaVA's MergeImageTokens is
// bypassed and everything the logits no longer need (the vision tower, pixel_values) is pruned.
#include <algorithm>
#include <set>

#include "edgec/core/error.hpp"
#include "edgec/runtime/generation.hpp"
#include "generation/last_position.hpp"

namespace edgec::runtime {
namespace {

bool has_input(const Graph& graph, std::string_view name) {
  return std::any_of(graph.inputs.begin(), graph.inputs.end(), [&](const ValueInfo& v) { return v.name == name; });
}

// The language model alone: MergeImageTokens becomes Identity(inputs_embeds), then nodes and inputs the
// outputs do not depend on are dropped (in reverse order, so one pass finds everything).
Graph text_only(const Graph& graph) {
  Graph text = graph;
  for (Node& node : text.nodes)
    if (node.domain == "edgec" && node.op == "MergeImageTokens") {
      node.op = "Identity";
      node.domain = "";
      node.inputs.resize(1);
      node.attributes.clear();
    }
  std::set<std::string, std::less<>> needed;
  for (const auto& out : text.outputs) needed.insert(out.name);
  std::vector<Node> kept;
  for (auto it = text.nodes.rbegin(); it != text.nodes.rend(); ++it) {
    const bool used = std::any_of(it->outputs.begin(), it->outputs.end(), [&](const std::string& o) { return needed.count(o) > 0; });
    if (!used) continue;
    for (const auto& in : it->inputs)
      if (!in.empty()) needed.insert(in);
    kept.push_back(std::move(*it));
  }
  std::reverse(kept.begin(), kept.end());
  text.nodes = std::move(kept);
  std::erase_if(text.inputs, [&](const ValueInfo& v) { return needed.count(v.name) == 0; });
  std::erase_if(text.initializers, [&](const auto& entry) { return needed.count(entry.first) == 0; });
  return text;
}

// The graph with a TokenSlice(start = -1) in front of the node producing the logits, when that node is a linear layer
// (per position): a prefill then computes one row of logits instead of one per prompt token.
Graph last_position_only(const Graph& graph) {
  Graph g = graph;
  for (Node& node : g.nodes) {
    const bool head = std::find(node.outputs.begin(), node.outputs.end(), "logits") != node.outputs.end();
    if (!head) continue;
    if (node.domain != "edgec" || (node.op != "Linear" && node.op != "QLinear") || node.inputs.empty()) return graph;
    Node slice;
    slice.op = "TokenSlice";
    slice.domain = "edgec";
    slice.name = node.name + "/last_position";
    slice.inputs = {node.inputs[0]};
    slice.outputs = {node.inputs[0] + "/last_position"};
    slice.attributes["start"] = int64_t{-1};
    node.inputs[0] = slice.outputs[0];
    const auto at = static_cast<size_t>(&node - g.nodes.data());
    g.nodes.insert(g.nodes.begin() + static_cast<std::ptrdiff_t>(at), std::move(slice));
    return g;
  }
  return graph;
}

}  // namespace

GraphCausalModel::GraphCausalModel(const Graph& graph, bool use_kv_cache)
    : graph_(graph),
      decode_graph_(text_only(graph)),
      prefill_graph_(use_kv_cache ? last_position_only(graph) : Graph{}),
      use_kv_cache_(use_kv_cache),
      takes_images_(has_input(graph, "pixel_values")),
      full_(graph),
      text_(decode_graph_),
      prefill_(use_kv_cache ? prefill_graph_ : graph) {
  const bool outputs_logits = std::any_of(graph.outputs.begin(), graph.outputs.end(), [](const ValueInfo& v) { return v.name == "logits"; });
  if (!has_input(graph, "input_ids") || !has_input(graph, "position_ids") || !outputs_logits)
    throw Error(ErrorCategory::input, "generation: graph '" + graph.name +
                                          "' is not a causal language model (needs inputs input_ids, position_ids and output logits)");
}

HostTensor GraphCausalModel::run(const Executor& executor, const TokenRows& ids, int64_t first_position, bool with_pixels,
                                 Profile* profile) {
  std::map<std::string, HostTensor> feeds{{"input_ids", detail::token_tensor(ids, 0, false)},
                                          {"position_ids", detail::token_tensor(ids, first_position, true)}};
  if (with_pixels) feeds["pixel_values"] = pixels_;
  RunOptions options;
  options.kv_cache = use_kv_cache_ ? &cache_ : nullptr;
  options.profile = profile;
  last_logits_ = executor.run(feeds, options).at("logits");
  return detail::last_position(last_logits_);
}

HostTensor GraphCausalModel::prefill(const TokenRows& prompts, const HostTensor* pixel_values) {
  if (takes_images_ && !pixel_values) throw Error(ErrorCategory::input, "generation: graph '" + graph_.name + "' needs pixel_values");
  pixels_ = takes_images_ ? *pixel_values : HostTensor{};
  cache_.clear();
  sequences_ = prompts;
  return run(use_kv_cache_ ? prefill_ : full_, prompts, 0, takes_images_, prefill_profile_);
}

HostTensor GraphCausalModel::decode(std::span<const int64_t> tokens) {
  if (tokens.size() != sequences_.size())
    throw Error(ErrorCategory::input, "generation: decode got " + std::to_string(tokens.size()) + " tokens for " +
                                          std::to_string(sequences_.size()) + " rows");
  const auto past = static_cast<int64_t>(sequences_.empty() ? 0 : sequences_[0].size());
  for (size_t b = 0; b < tokens.size(); ++b) sequences_[b].push_back(tokens[b]);
  if (!use_kv_cache_) return run(full_, sequences_, 0, takes_images_, decode_profile_);
  TokenRows step;
  for (const int64_t token : tokens) step.push_back({token});
  return run(text_, step, past, false, decode_profile_);
}

}  // namespace edgec::runtime
