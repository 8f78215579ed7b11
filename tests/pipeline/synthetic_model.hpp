#pragma once
// A tiny Llama-shaped graph (edgec.Linear layers with HF scopes) for preflight tests that must run without the
// shared models: hidden 64, 2 layers, q 64x64, k/v 32x64 (GQA), o 64x64, gate/up 96x64, down 64x96, lm_head
// 128x64, an embedding table and RMSNorm weights. Weights are zeros: preflight reads shapes, not values.
#include <string>
#include <vector>

#include "edgec/core/graph.hpp"

namespace edgec::pipeline::test {

struct SyntheticLlama {
  static constexpr int64_t hidden = 64, kv = 32, intermediate = 96, vocab = 128, layers = 2;
};

inline Graph synthetic_llama() {
  Graph graph;
  graph.name = "synthetic-llama";
  graph.opset_imports[""] = 17;
  graph.opset_imports["edgec"] = 1;
  graph.inputs.push_back(ValueInfo{"input_ids", {}});
  const auto weight = [&](const std::string& name, std::vector<int64_t> dims) {
    int64_t count = 1;
    for (int64_t d : dims) count *= d;
    const std::vector<float> zeros(static_cast<size_t>(count), 0.0f);
    graph.initializers[name] = Tensor::from_values<float>(DType::f32, std::move(dims), std::span<const float>(zeros));
    return name;
  };
  const auto node = [&](const std::string& op, const std::string& scope, std::vector<std::string> inputs) {
    Node n;
    n.name = scope + "_node";
    n.op = op;
    n.domain = "edgec";
    n.scope = scope;
    n.inputs = std::move(inputs);
    n.outputs = {scope + ".out"};
    graph.nodes.push_back(std::move(n));
    return scope + ".out";
  };
  const auto linear = [&](const std::string& scope, const std::string& x, int64_t in, int64_t out) {
    return node("Linear", scope, {x, weight(scope + ".weight", {out, in})});
  };
  using S = SyntheticLlama;
  std::string x = node("Embedding", "model.embed_tokens", {"input_ids", weight("model.embed_tokens.weight", {S::vocab, S::hidden})});
  for (int i = 0; i < S::layers; ++i) {
    const std::string p = "model.layers." + std::to_string(i);
    const std::string h = node("RMSNorm", p + ".input_layernorm", {x, weight(p + ".input_layernorm.weight", {S::hidden})});
    const std::string q = linear(p + ".self_attn.q_proj", h, S::hidden, S::hidden);
    const std::string k = linear(p + ".self_attn.k_proj", h, S::hidden, S::kv);
    const std::string v = linear(p + ".self_attn.v_proj", h, S::hidden, S::kv);
    const std::string a = node("Attention", p + ".self_attn", {q, k, v});
    const std::string o = linear(p + ".self_attn.o_proj", a, S::hidden, S::hidden);
    const std::string m = node("RMSNorm", p + ".post_attention_layernorm", {o, weight(p + ".post_attention_layernorm.weight", {S::hidden})});
    const std::string g = linear(p + ".mlp.gate_proj", m, S::hidden, S::intermediate);
    const std::string u = linear(p + ".mlp.up_proj", m, S::hidden, S::intermediate);
    const std::string act = node("SiLU", p + ".mlp.act_fn", {g});
    Node mul;
    mul.op = "Mul";
    mul.scope = p + ".mlp";
    mul.inputs = {act, u};
    mul.outputs = {p + ".mlp.mul"};
    graph.nodes.push_back(mul);
    x = linear(p + ".mlp.down_proj", p + ".mlp.mul", S::intermediate, S::hidden);
  }
  x = node("RMSNorm", "model.norm", {x, weight("model.norm.weight", {S::hidden})});
  x = linear("lm_head", x, S::hidden, S::vocab);
  graph.outputs.push_back(ValueInfo{x, {}});
  return graph;
}

}  // namespace edgec::pipeline::test
