// Llama-family decoders (LlamaForCausalLM, Qwen2ForCausalLM, and LLaVA's language model): pre-norm blocks of
// RMSNorm -> q/k/v projections -> edgec.Attention (GQA + rotate_half RoPE, causal) -> o_proj, and
// RMSNorm -> SwiGLU MLP, then the final norm and lm_head (tied to embed_tokens when the config says so).
#include <cmath>

#include "edgec/core/error.hpp"
#include "hf/builders.hpp"
#include "safetensors/strict_json.hpp"

namespace edgec::hf {

using formats_detail::describe_json;
using formats_detail::printable;

TextParams parse_text_params(const Config& config, bool qwen2, bool tie_fallback) {
  TextParams p;
  p.hidden = config.positive_int("hidden_size");
  p.intermediate = config.positive_int("intermediate_size");
  p.layers = config.positive_int("num_hidden_layers");
  p.heads = config.positive_int("num_attention_heads");
  p.kv_heads = config.positive_int("num_key_value_heads", p.heads);
  if (p.heads % p.kv_heads != 0)
    config.fail("num_key_value_heads", "expected a divisor of num_attention_heads (" + std::to_string(p.heads) +
                                           "), got " + std::to_string(p.kv_heads));
  if (config.has("head_dim")) {
    p.head_dim = config.positive_int("head_dim");
  } else {
    if (p.hidden % p.heads != 0)
      config.fail("num_attention_heads", "hidden_size (" + std::to_string(p.hidden) + ") is not divisible by " +
                                             std::to_string(p.heads) + " heads and head_dim is not given");
    p.head_dim = p.hidden / p.heads;
  }
  p.vocab = config.positive_int("vocab_size");
  p.rms_eps = config.positive_number("rms_norm_eps", 1e-6);
  p.rope_theta = config.positive_number("rope_theta", 10000.0);
  if (const auto* scaling = config.find("rope_scaling")) {
    if (!scaling->is_object()) config.fail("rope_scaling", "expected null or an object, got " + describe_json(*scaling));
    const Config rope = config.object("rope_scaling");
    const std::string type = rope.has("rope_type") ? rope.string("rope_type") : rope.string("type", "default");
    if (type == "linear") {
      p.rope_scale = rope.positive_number("factor", 1.0);
    } else if (type != "default") {
      config.fail("rope_scaling", "rope type '" + printable(type) + "' is not supported yet (supported: linear)");
    }
  }
  p.act = config.string("hidden_act", "silu");
  if (!is_supported_activation(p.act))
    config.fail("hidden_act", "unsupported activation '" + printable(p.act) +
                                  "' (supported: silu, gelu, gelu_pytorch_tanh, gelu_new, quick_gelu, relu)");
  const bool attention_bias = config.boolean("attention_bias", false);
  p.qkv_bias = qwen2 || attention_bias;
  p.o_bias = false;  // used when present: transformers' Llama adds it with attention_bias, Qwen2 never
  p.mlp_bias = config.boolean("mlp_bias", false);
  p.tie_embeddings = config.boolean("tie_word_embeddings", tie_fallback);
  return p;
}

std::string build_embedding(GraphBuilder& b, const TextParams& p, const DecoderNames& names,
                            const std::string& input_ids, const std::string& why) {
  const std::string scope = names.prefix + "embed_tokens";
  return b.edgec("Embedding", scope, {input_ids, b.require(scope + ".weight", {p.vocab, p.hidden}, why)});
}

std::string build_decoder(GraphBuilder& b, const TextParams& p, const DecoderNames& names,
                          const std::string& embeddings, const std::string& position_ids, const std::string& why) {
  const int64_t q_size = p.heads * p.head_dim;
  const int64_t kv_size = p.kv_heads * p.head_dim;
  std::string x = embeddings;
  for (int64_t layer = 0; layer < p.layers; ++layer) {
    const std::string l = names.prefix + "layers." + std::to_string(layer);
    const std::string lwhy = why + " (layer " + std::to_string(layer) + " of " + std::to_string(p.layers) + ")";
    const std::string h = b.rms_norm(l + ".input_layernorm", x, p.hidden, p.rms_eps, lwhy);
    const std::string q = b.linear(l + ".self_attn.q_proj", h, p.hidden, q_size, p.qkv_bias, lwhy);
    const std::string k = b.linear(l + ".self_attn.k_proj", h, p.hidden, kv_size, p.qkv_bias, lwhy);
    const std::string v = b.linear(l + ".self_attn.v_proj", h, p.hidden, kv_size, p.qkv_bias, lwhy);
    const std::string attention =
        b.edgec("Attention", l + ".self_attn", {q, k, v, position_ids},
                {{"num_heads", p.heads},
                 {"num_kv_heads", p.kv_heads},
                 {"head_dim", p.head_dim},
                 {"causal", int64_t{1}},
                 {"rope_theta", static_cast<float>(p.rope_theta)},
                 {"rope_scaling_factor", static_cast<float>(p.rope_scale)},
                 {"scale", static_cast<float>(1.0 / std::sqrt(static_cast<double>(p.head_dim)))}});
    const std::string o = b.linear(l + ".self_attn.o_proj", attention, q_size, p.hidden, p.o_bias, lwhy);
    x = b.onnx("Add", l, {x, o}, {}, "attention_residual");
    const std::string h2 = b.rms_norm(l + ".post_attention_layernorm", x, p.hidden, p.rms_eps, lwhy);
    const std::string gate = b.linear(l + ".mlp.gate_proj", h2, p.hidden, p.intermediate, p.mlp_bias, lwhy);
    const std::string up = b.linear(l + ".mlp.up_proj", h2, p.hidden, p.intermediate, p.mlp_bias, lwhy);
    const std::string act = b.activation(p.act, l + ".mlp.act_fn", gate, why + " hidden_act");
    const std::string product = b.onnx("Mul", l + ".mlp", {act, up}, {}, "gate_times_up");
    const std::string down = b.linear(l + ".mlp.down_proj", product, p.intermediate, p.hidden, p.mlp_bias, lwhy);
    x = b.onnx("Add", l, {x, down}, {}, "mlp_residual");
  }
  x = b.rms_norm(names.prefix + "norm", x, p.hidden, p.rms_eps, why);
  const std::string head_weight = names.lm_head + ".weight";
  const std::string embed_weight = names.prefix + "embed_tokens.weight";
  std::string weight;
  if (b.has(head_weight)) {
    weight = b.require(head_weight, {p.vocab, p.hidden}, why);
  } else if (p.tie_embeddings) {
    weight = b.require(embed_weight, {p.vocab, p.hidden}, why + " tie_word_embeddings");
  } else {
    b.fail(head_weight, "missing from the checkpoint and tie_word_embeddings is false (set it to true if lm_head "
                        "shares " + embed_weight + ")");
  }
  return b.edgec("Linear", names.lm_head, {x, weight});
}

void add_text_metadata(Model& model, const TextParams& p, const std::string& key_prefix) {
  auto put = [&](const std::string& key, const std::string& value) { model.metadata[key_prefix + key] = value; };
  put("hidden_size", std::to_string(p.hidden));
  put("intermediate_size", std::to_string(p.intermediate));
  put("num_hidden_layers", std::to_string(p.layers));
  put("num_attention_heads", std::to_string(p.heads));
  put("num_key_value_heads", std::to_string(p.kv_heads));
  put("head_dim", std::to_string(p.head_dim));
  put("vocab_size", std::to_string(p.vocab));
  put("rms_norm_eps", describe_json(p.rms_eps));
  put("rope_theta", describe_json(p.rope_theta));
  if (p.rope_scale != 1.0) put("rope_scaling.linear.factor", describe_json(p.rope_scale));
  put("hidden_act", p.act);
  put("tie_word_embeddings", p.tie_embeddings ? "true" : "false");
}

void build_causal_lm(const Config& config, GraphBuilder& b, Model& model, bool qwen2) {
  const TextParams p = parse_text_params(config, qwen2, false);
  const DecoderNames names{"model.", "lm_head"};
  const std::string why = "config.json";
  const Dim batch = Dim::named("batch");
  const Dim seq = Dim::named("sequence");
  b.add_input("input_ids", DType::i64, {batch, seq});
  b.add_input("position_ids", DType::i64, {batch, seq});
  const std::string embeddings = build_embedding(b, p, names, "input_ids", why);
  b.rename(build_decoder(b, p, names, embeddings, "position_ids", why), "logits");
  b.add_output("logits", DType::f32, {batch, seq, Dim::of(p.vocab)});
  model.components.push_back(Component{"language_model", {"model.", "lm_head"}});
  add_text_metadata(model, p, "");
}

}  // namespace edgec::hf
