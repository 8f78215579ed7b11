#pragma once
// One builder per architecture family. Each reads its hyper-parameters from config.json, checks every tensor it
// uses against the shape the config implies, appends nodes to the builder's graph and fills the model's
// components and metadata.
#include <string>
#include <vector>

#include "edgec/core/model.hpp"
#include "hf/config.hpp"
#include "hf/graph_builder.hpp"

namespace edgec::hf {

// ---- decoder-only language models (llama_builder.cpp) ----
struct TextParams {
  int64_t hidden = 0, intermediate = 0, layers = 0, heads = 0, kv_heads = 0, head_dim = 0, vocab = 0;
  double rms_eps = 1e-6, rope_theta = 10000.0, rope_scale = 1.0;  // rope_scale: linear scaling factor
  std::string act;
  bool qkv_bias = false, o_bias = false, mlp_bias = false, tie_embeddings = false;
};
// `qwen2`: Qwen2 always has q/k/v biases. `tie_fallback`: value when tie_word_embeddings is absent.
TextParams parse_text_params(const Config& config, bool qwen2, bool tie_fallback);

struct DecoderNames {
  std::string prefix;   // "model." or "language_model.model." or "model.language_model."
  std::string lm_head;  // "lm_head" or "language_model.lm_head"
};
// Token embedding of `input_ids`: edgec.Embedding over <prefix>embed_tokens.weight.
std::string build_embedding(GraphBuilder& b, const TextParams& p, const DecoderNames& names,
                            const std::string& input_ids, const std::string& why);
// Decoder layers, final norm and lm_head; returns the logits value.
std::string build_decoder(GraphBuilder& b, const TextParams& p, const DecoderNames& names,
                          const std::string& embeddings, const std::string& position_ids, const std::string& why);
void add_text_metadata(Model& model, const TextParams& p, const std::string& key_prefix);

void build_causal_lm(const Config& config, GraphBuilder& b, Model& model, bool qwen2);

// ---- vision towers (vision_builder.cpp) ----
struct VisionParams {
  std::string model_type;
  int64_t hidden = 0, intermediate = 0, layers = 0, heads = 0, image_size = 0, patch_size = 0, channels = 3;
  double eps = 1e-5;
  std::string act;
  bool qkv_bias = true, use_cls = false, pre_layernorm = false;
  int64_t grid() const { return image_size / patch_size; }
  int64_t tokens() const { return grid() * grid() + (use_cls ? 1 : 0); }
};
VisionParams parse_vision_params(const Config& config);

struct TowerNames {
  bool vit_style = false;  // ViT's names (embeddings.patch_embeddings.projection, encoder.layer.N.attention...)
  std::string prefix;      // "vision_model.", "vit.", "vision_tower.", "vision_tower.vision_model.", ...
  std::string final_norm() const { return prefix + (vit_style ? "layernorm" : "post_layernorm"); }
};
// The first candidate prefix under which the checkpoint holds a patch embedding.
TowerNames find_tower(const GraphBuilder& b, const std::vector<std::string>& candidate_prefixes);
// Embeddings and the first `blocks` encoder blocks; returns hidden_states[0..blocks] (hidden_states[0] is
// the encoder input, as in transformers).
std::vector<std::string> build_tower(GraphBuilder& b, const VisionParams& p, const TowerNames& names,
                                     const std::string& pixel_values, int64_t blocks, const std::string& why);
void add_vision_metadata(Model& model, const VisionParams& p, const std::string& key_prefix);

enum class VisionModelKind { vit, vit_classifier, clip, siglip, pooled_classifier };
void build_vision_model(const Config& config, GraphBuilder& b, Model& model, VisionModelKind kind);

// ---- LLaVA (llava_builder.cpp) ----
void build_llava(const Config& config, GraphBuilder& b, Model& model);

}  // namespace edgec::hf
