// Pre-LN vision transformers: ViT (google/vit-*), CLIP and SigLIP vision towers, also used as LLaVA's tower.
// All three share one block structure; they differ in tensor names (ViT vs CLIP/SigLIP naming), the CLS token,
// CLIP's pre_layrnorm and the final norm. Hyper-parameters come from config keys, defaults from the
// model_type, and the explicit keys use_cls_token / pre_layernorm override those defaults.
#include <cmath>

#include "edgec/core/error.hpp"
#include "hf/builders.hpp"
#include "safetensors/strict_json.hpp"

namespace edgec::hf {

using formats_detail::describe_json;
using formats_detail::printable;

VisionParams parse_vision_params(const Config& config) {
  VisionParams p;
  p.model_type = config.string("model_type", "");
  if (p.model_type == "vit") {
    p.act = "gelu", p.eps = 1e-12, p.use_cls = true, p.pre_layernorm = false;
  } else if (p.model_type == "clip_vision_model") {
    p.act = "quick_gelu", p.eps = 1e-5, p.use_cls = true, p.pre_layernorm = true;
  } else if (p.model_type == "siglip_vision_model") {
    p.act = "gelu_pytorch_tanh", p.eps = 1e-6, p.use_cls = false, p.pre_layernorm = false;
  } else if (config.has("use_cls_token") && config.has("pre_layernorm")) {
    p.act = "gelu", p.eps = 1e-5;  // a custom tower that states its structure explicitly
  } else {
    config.fail("model_type", "expected vit, clip_vision_model or siglip_vision_model (or explicit use_cls_token "
                              "and pre_layernorm keys), got " +
                                  (config.has("model_type") ? describe_json(*config.find("model_type"))
                                                            : std::string("nothing")));
  }
  p.hidden = config.positive_int("hidden_size");
  p.intermediate = config.positive_int("intermediate_size");
  p.layers = config.positive_int("num_hidden_layers");
  p.heads = config.positive_int("num_attention_heads");
  p.image_size = config.positive_int("image_size");
  p.patch_size = config.positive_int("patch_size");
  p.channels = config.positive_int("num_channels", 3);
  p.eps = config.positive_number("layer_norm_eps", p.eps);
  p.act = config.string("hidden_act", p.act);
  if (!is_supported_activation(p.act))
    config.fail("hidden_act", "unsupported activation '" + printable(p.act) +
                                  "' (supported: gelu, gelu_pytorch_tanh, gelu_new, quick_gelu, silu, relu)");
  p.qkv_bias = config.boolean("qkv_bias", true);
  p.use_cls = config.boolean("use_cls_token", p.use_cls);
  p.pre_layernorm = config.boolean("pre_layernorm", p.pre_layernorm);
  if (p.hidden % p.heads != 0)
    config.fail("num_attention_heads", "expected a divisor of hidden_size (" + std::to_string(p.hidden) + "), got " +
                                           std::to_string(p.heads));
  if (p.image_size % p.patch_size != 0)
    config.fail("patch_size", "expected a divisor of image_size (" + std::to_string(p.image_size) + "), got " +
                                  std::to_string(p.patch_size));
  return p;
}

TowerNames find_tower(const GraphBuilder& b, const std::vector<std::string>& candidate_prefixes) {
  std::string looked_for;
  for (const auto& prefix : candidate_prefixes) {
    if (b.has(prefix + "embeddings.patch_embedding.weight")) return TowerNames{false, prefix};
    if (b.has(prefix + "embeddings.patch_embeddings.projection.weight")) return TowerNames{true, prefix};
    looked_for += (looked_for.empty() ? "" : ", ") + prefix + "embeddings.patch_embedding.weight";
  }
  b.fail(candidate_prefixes.empty() ? std::string("vision tower") : candidate_prefixes.front() + "embeddings",
         "no vision tower patch embedding in the checkpoint (looked for " + looked_for + ")");
}

std::vector<std::string> build_tower(GraphBuilder& b, const VisionParams& p, const TowerNames& names,
                                     const std::string& pixel_values, int64_t blocks, const std::string& why) {
  const int64_t d = p.hidden;
  const std::string embeddings = names.prefix + "embeddings";
  const std::string patch = embeddings + (names.vit_style ? ".patch_embeddings.projection" : ".patch_embedding");
  std::vector<std::string> conv_inputs{pixel_values,
                                       b.require(patch + ".weight", {d, p.channels, p.patch_size, p.patch_size}, why)};
  if (const auto bias = b.optional(patch + ".bias", {d}, why); !bias.empty()) conv_inputs.push_back(bias);
  const std::string conv = b.onnx("Conv", patch, std::move(conv_inputs),
                                  {{"kernel_shape", std::vector<int64_t>{p.patch_size, p.patch_size}},
                                   {"strides", std::vector<int64_t>{p.patch_size, p.patch_size}}});
  std::string x = b.edgec("ImageToTokens", patch, {conv});
  if (p.use_cls) {
    const std::string cls = names.vit_style ? b.require(embeddings + ".cls_token", {1, 1, d}, why + " use_cls_token")
                                            : b.require(embeddings + ".class_embedding", {d}, why + " use_cls_token");
    x = b.edgec("PrependToken", embeddings, {x, cls});
  }
  const std::string position =
      names.vit_style ? b.require(embeddings + ".position_embeddings", {1, p.tokens(), d}, why + " image_size/patch_size")
                      : b.require(embeddings + ".position_embedding.weight", {p.tokens(), d}, why + " image_size/patch_size");
  x = b.onnx("Add", embeddings, {x, position}, {}, "add_position");
  if (p.pre_layernorm) {
    if (names.vit_style) b.fail(names.prefix + "pre_layrnorm", "pre_layernorm is not supported with ViT tensor names");
    x = b.layer_norm(names.prefix + "pre_layrnorm", x, d, p.eps, why + " pre_layernorm");
  }

  std::vector<std::string> hidden_states{x};
  const std::string layers = names.prefix + (names.vit_style ? "encoder.layer." : "encoder.layers.");
  const int64_t head_dim = d / p.heads;
  for (int64_t i = 0; i < blocks; ++i) {
    const std::string l = layers + std::to_string(i);
    const std::string lwhy = why + " (block " + std::to_string(i) + " of " + std::to_string(p.layers) + ")";
    const std::string attn = l + (names.vit_style ? ".attention.attention" : ".self_attn");
    const std::string h = b.layer_norm(l + (names.vit_style ? ".layernorm_before" : ".layer_norm1"), x, d, p.eps, lwhy);
    const std::string q = b.linear(attn + (names.vit_style ? ".query" : ".q_proj"), h, d, d, p.qkv_bias, lwhy);
    const std::string k = b.linear(attn + (names.vit_style ? ".key" : ".k_proj"), h, d, d, p.qkv_bias, lwhy);
    const std::string v = b.linear(attn + (names.vit_style ? ".value" : ".v_proj"), h, d, d, p.qkv_bias, lwhy);
    const std::string a = b.edgec("Attention", attn, {q, k, v},
                                  {{"num_heads", p.heads},
                                   {"num_kv_heads", p.heads},
                                   {"head_dim", head_dim},
                                   {"causal", int64_t{0}},
                                   {"rope_theta", 0.0f},
                                   {"rope_scaling_factor", 1.0f},
                                   {"scale", static_cast<float>(1.0 / std::sqrt(static_cast<double>(head_dim)))}});
    const std::string o = b.linear(names.vit_style ? l + ".attention.output.dense" : attn + ".out_proj", a, d, d,
                                   false, lwhy);
    x = b.onnx("Add", l, {x, o}, {}, "attention_residual");
    const std::string h2 = b.layer_norm(l + (names.vit_style ? ".layernorm_after" : ".layer_norm2"), x, d, p.eps, lwhy);
    const std::string fc1 = names.vit_style ? l + ".intermediate.dense" : l + ".mlp.fc1";
    const std::string fc2 = names.vit_style ? l + ".output.dense" : l + ".mlp.fc2";
    const std::string up = b.linear(fc1, h2, d, p.intermediate, false, lwhy);
    const std::string act = b.activation(p.act, names.vit_style ? l + ".intermediate.intermediate_act_fn"
                                                                : l + ".mlp.activation_fn",
                                         up, why + " hidden_act");
    const std::string down = b.linear(fc2, act, p.intermediate, d, false, lwhy);
    x = b.onnx("Add", l, {x, down}, {}, "mlp_residual");
    hidden_states.push_back(x);
  }
  return hidden_states;
}

void add_vision_metadata(Model& model, const VisionParams& p, const std::string& key_prefix) {
  auto put = [&](const std::string& key, const std::string& value) { model.metadata[key_prefix + key] = value; };
  put("model_type", p.model_type);
  put("hidden_size", std::to_string(p.hidden));
  put("intermediate_size", std::to_string(p.intermediate));
  put("num_hidden_layers", std::to_string(p.layers));
  put("num_attention_heads", std::to_string(p.heads));
  put("image_size", std::to_string(p.image_size));
  put("patch_size", std::to_string(p.patch_size));
  put("num_channels", std::to_string(p.channels));
  put("layer_norm_eps", describe_json(p.eps));
  put("hidden_act", p.act);
  put("use_cls_token", p.use_cls ? "true" : "false");
  put("pre_layernorm", p.pre_layernorm ? "true" : "false");
}

namespace {

int64_t num_labels(const Config& config, const std::string& classifier) {
  if (config.has("num_labels")) return config.positive_int("num_labels");
  if (const auto* labels = config.find("id2label")) {
    if (!labels->is_object() || labels->empty())
      config.fail("id2label", "expected a non-empty object, got " + describe_json(*labels));
    return static_cast<int64_t>(labels->size());
  }
  config.fail("num_labels", "missing (expected a positive integer, or id2label) for " + classifier);
}

}  // namespace

void build_vision_model(const Config& root, GraphBuilder& b, Model& model, VisionModelKind kind) {
  const bool nested = kind == VisionModelKind::pooled_classifier;
  const Config config = nested ? root.object("vision_config") : root;
  const VisionParams p = parse_vision_params(config);
  std::vector<std::string> candidates;
  switch (kind) {
    case VisionModelKind::vit: candidates = {"", "vit."}; break;
    case VisionModelKind::vit_classifier: candidates = {"vit.", ""}; break;
    case VisionModelKind::clip:
    case VisionModelKind::siglip: candidates = {"vision_model."}; break;
    case VisionModelKind::pooled_classifier:
      candidates = {"vision_tower.", "vision_tower.vision_model.", "vision_model."};
      break;
  }
  const TowerNames names = find_tower(b, candidates);
  const std::string why = nested ? "config.json vision_config" : "config.json";
  const Dim batch = Dim::named("batch");
  b.add_input("pixel_values", DType::f32, {batch, Dim::of(p.channels), Dim::of(p.image_size), Dim::of(p.image_size)});
  const auto hidden_states = build_tower(b, p, names, "pixel_values", p.layers, why);
  const std::string last = hidden_states.back();
  const std::vector<Dim> sequence_shape{batch, Dim::of(p.tokens()), Dim::of(p.hidden)};

  if (kind == VisionModelKind::clip) {
    // CLIP: last_hidden_state is the encoder output; post_layernorm applies to the pooled CLS token only.
    b.rename(last, "last_hidden_state");
    b.add_output("last_hidden_state", DType::f32, sequence_shape);
    const std::string cls = b.edgec("SelectToken", names.prefix + "post_layernorm", {"last_hidden_state"},
                                    {{"index", int64_t{0}}});
    b.rename(b.layer_norm(names.prefix + "post_layernorm", cls, p.hidden, p.eps, why), "pooler_output");
    b.add_output("pooler_output", DType::f32, {batch, Dim::of(p.hidden)});
  } else if (kind == VisionModelKind::vit || kind == VisionModelKind::siglip) {
    // ViT's final layernorm and SigLIP's post_layernorm both apply to every token.
    std::string out = last;
    if (kind == VisionModelKind::vit || b.has(names.final_norm() + ".weight"))
      out = b.layer_norm(names.final_norm(), last, p.hidden, p.eps, why);
    b.rename(out, "last_hidden_state");
    b.add_output("last_hidden_state", DType::f32, sequence_shape);
  } else {
    std::string pooled;
    std::string pooling = "cls";
    if (kind == VisionModelKind::pooled_classifier) {
      pooling = root.string("pooling", "mean");
      if (pooling != "mean" && pooling != "cls")
        root.fail("pooling", "expected \"mean\" or \"cls\", got \"" + printable(pooling) + "\"");
    }
    const std::string normed = b.layer_norm(names.final_norm(), last, p.hidden, p.eps, why);
    if (pooling == "mean") {
      pooled = b.onnx("ReduceMean", "pooler", {normed}, {{"axes", std::vector<int64_t>{1}}, {"keepdims", int64_t{0}}});
    } else {
      if (!p.use_cls) root.fail("pooling", "cls pooling needs a CLS token (use_cls_token is false)");
      pooled = b.edgec("SelectToken", "pooler", {normed}, {{"index", int64_t{0}}});
    }
    const int64_t labels = num_labels(root, "classifier");
    b.rename(b.linear("classifier", pooled, p.hidden, labels, false, "config.json num_labels"), "logits");
    b.add_output("logits", DType::f32, {batch, Dim::of(labels)});
    model.metadata["num_labels"] = std::to_string(labels);
    model.metadata["pooling"] = pooling;
  }

  std::vector<std::string> tower_prefixes{names.prefix};
  if (names.prefix.empty()) tower_prefixes = {"embeddings.", "encoder.", "layernorm.", "pooler."};
  model.components.push_back(Component{"vision_tower", tower_prefixes});
  if (kind == VisionModelKind::vit_classifier || kind == VisionModelKind::pooled_classifier)
    model.components.push_back(Component{"classifier", {"classifier."}});
  add_vision_metadata(model, p, nested ? "vision_config." : "");
}

}  // namespace edgec::hf
