// edgec.Attention with a KvCache on a one-node graph: causal GQA + RoPE, prefill then token-by-token decode,
// equals one full-sequence run; non-causal nodes ignore the cache; a cache refuses a different batch.
#include <doctest/doctest.h>

#include <algorithm>
#include <cmath>

#include "edgec/core/error.hpp"
#include "edgec/runtime/executor.hpp"

using namespace edgec;
using namespace edgec::runtime;

namespace {

constexpr int64_t kHeads = 4, kKvHeads = 2, kDim = 6, kBatch = 2, kSeq = 7;

Graph attention_graph(bool causal) {
  Graph graph;
  graph.name = "attention";
  graph.opset_imports[""] = 17;
  graph.opset_imports["edgec"] = 1;
  for (const char* name : {"q", "k", "v", "position_ids"}) graph.inputs.push_back(ValueInfo{name, {}});
  graph.outputs.push_back(ValueInfo{"y", {}});
  Node node;
  node.name = "attn";
  node.op = "Attention";
  node.domain = "edgec";
  node.inputs = {"q", "k", "v", "position_ids"};
  node.outputs = {"y"};
  node.attributes = {{"num_heads", int64_t{kHeads}}, {"num_kv_heads", int64_t{kKvHeads}}, {"head_dim", int64_t{kDim}},
                     {"causal", int64_t{causal ? 1 : 0}}, {"rope_theta", 100.0f}};
  graph.nodes.push_back(node);
  return graph;
}

// Token s of row b, features [0, width): a smooth deterministic pattern.
HostTensor tokens(int64_t first, int64_t count, int64_t width, double salt) {
  std::vector<float> values;
  for (int64_t b = 0; b < kBatch; ++b)
    for (int64_t s = first; s < first + count; ++s)
      for (int64_t f = 0; f < width; ++f) values.push_back(static_cast<float>(std::sin(salt + 0.37 * static_cast<double>(b * 131 + s * 17 + f))));
  return HostTensor::from_values<float>(DType::f32, {kBatch, count, width}, values);
}

std::map<std::string, HostTensor> feeds(int64_t first, int64_t count) {
  std::vector<int64_t> positions;
  for (int64_t b = 0; b < kBatch; ++b)
    for (int64_t s = first; s < first + count; ++s) positions.push_back(s);
  return {{"q", tokens(first, count, kHeads * kDim, 0.1)},
          {"k", tokens(first, count, kKvHeads * kDim, 0.7)},
          {"v", tokens(first, count, kKvHeads * kDim, 1.3)},
          {"position_ids", HostTensor::from_values<int64_t>(DType::i64, {kBatch, count}, positions)}};
}

}  // namespace

TEST_CASE("KV cache: causal attention decoded token by token equals the full sequence") {
  const Graph graph = attention_graph(true);
  const Executor executor(graph);
  const auto full = executor.run(feeds(0, kSeq)).at("y");
  KvCache cache;
  RunOptions options;
  options.kv_cache = &cache;
  std::vector<HostTensor> parts{executor.run(feeds(0, 3), options).at("y")};
  for (int64_t s = 3; s < kSeq; ++s) parts.push_back(executor.run(feeds(s, 1), options).at("y"));
  CHECK(cache.length() == kSeq);
  const int64_t width = kHeads * kDim;
  double worst = 0;
  for (int64_t b = 0; b < kBatch; ++b) {
    int64_t s = 0;
    for (const auto& part : parts)
      for (int64_t i = 0; i < part.dims()[1]; ++i, ++s)
        for (int64_t f = 0; f < width; ++f)
          worst = std::max(worst, std::abs(static_cast<double>(part.data<float>()[(b * part.dims()[1] + i) * width + f]) -
                                           full.data<float>()[(b * kSeq + s) * width + f]));
  }
  CHECK(worst <= 1e-6);
}

TEST_CASE("KV cache: non-causal attention ignores it, a different batch is refused") {
  const Graph graph = attention_graph(false);
  const Executor executor(graph);
  KvCache cache;
  RunOptions options;
  options.kv_cache = &cache;
  const auto with = executor.run(feeds(0, 4), options).at("y");
  const auto without = executor.run(feeds(0, 4)).at("y");
  CHECK(cache.nodes() == 0);
  CHECK(std::equal(with.span<float>().begin(), with.span<float>().end(), without.span<float>().begin()));

  KvCache::Entry& entry = cache.entry("attn", 2, 12);
  CHECK(entry.length == 0);
  CHECK_THROWS_AS(cache.entry("attn", 3, 12), Error);
}
