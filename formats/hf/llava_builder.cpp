// LlavaForConditionalGeneration: vision tower (only the blocks up to the selected feature layer are built),
// feature selection, the two-layer projector, and a Llama-family language model whose embeddings at the image
// token positions are replaced by the projected image features (edgec.MergeImageTokens).
// Both checkpoint namings are accepted: transformers < 4.52 (vision_tower.*, multi_modal_projector.*,
// language_model.model.*, language_model.lm_head) and newer (model.vision_tower.*, model.multi_modal_projector.*,
// model.language_model.*, lm_head).
#include <algorithm>

#include "edgec/core/error.hpp"
#include "hf/builders.hpp"
#include "safetensors/strict_json.hpp"

namespace edgec::hf {

using formats_detail::describe_json;
using formats_detail::printable;

namespace {

// vision_feature_layer: an int or a list of ints; negative values count from the end of hidden_states, which
// has num_hidden_layers + 1 entries (hidden_states[0] is the embedding output).
std::vector<int64_t> feature_layers(const Config& config, int64_t layers) {
  std::vector<int64_t> raw;
  const auto* value = config.find("vision_feature_layer");
  if (!value) {
    raw.push_back(-2);  // transformers' default
  } else if (value->is_number_integer()) {
    raw.push_back(config.integer("vision_feature_layer"));
  } else if (value->is_array() && !value->empty()) {
    for (const auto& item : *value) {
      if (!item.is_number_integer())
        config.fail("vision_feature_layer", "expected an integer or a list of integers, got " + describe_json(*value));
      raw.push_back(item.get<int64_t>());
    }
  } else {
    config.fail("vision_feature_layer", "expected an integer or a list of integers, got " + describe_json(*value));
  }
  std::vector<int64_t> result;
  for (const int64_t layer : raw) {
    const int64_t index = layer < 0 ? layer + layers + 1 : layer;
    if (index < 0 || index > layers)
      config.fail("vision_feature_layer", "layer " + std::to_string(layer) + " is outside hidden_states[0.." +
                                              std::to_string(layers) + "] (vision_config.num_hidden_layers = " +
                                              std::to_string(layers) + ")");
    result.push_back(index);
  }
  return result;
}

struct LlavaNames {
  std::vector<std::string> tower_candidates;
  std::string projector;
  DecoderNames decoder;
  std::vector<Component> components;
};

LlavaNames detect_naming(const GraphBuilder& b) {
  if (b.has("model.language_model.embed_tokens.weight"))
    return LlavaNames{{"model.vision_tower.vision_model.", "model.vision_tower."},
                      "model.multi_modal_projector.",
                      DecoderNames{"model.language_model.", "lm_head"},
                      {Component{"vision_tower", {"model.vision_tower."}},
                       Component{"multi_modal_projector", {"model.multi_modal_projector."}},
                       Component{"language_model", {"model.language_model.", "lm_head"}}}};
  return LlavaNames{{"vision_tower.vision_model.", "vision_tower."},
                    "multi_modal_projector.",
                    DecoderNames{"language_model.model.", "language_model.lm_head"},
                    {Component{"vision_tower", {"vision_tower."}},
                     Component{"multi_modal_projector", {"multi_modal_projector."}},
                     Component{"language_model", {"language_model."}}}};
}

}  // namespace

void build_llava(const Config& config, GraphBuilder& b, Model& model) {
  const Config vision_config = config.object("vision_config");
  const Config text_config = config.object("text_config");
  const VisionParams vp = parse_vision_params(vision_config);
  const TextParams tp = parse_text_params(text_config, text_config.string("model_type", "") == "qwen2",
                                          config.boolean("tie_word_embeddings", false));
  const std::vector<int64_t> layers = feature_layers(config, vp.layers);
  const std::string strategy = config.string("vision_feature_select_strategy", "default");
  if (strategy != "default" && strategy != "full")
    config.fail("vision_feature_select_strategy", "expected \"default\" or \"full\", got \"" + printable(strategy) + "\"");
  // transformers' "default" drops the first token (the CLS token of CLIP towers) whatever the tower.
  const int64_t image_tokens = vp.tokens() - (strategy == "default" ? 1 : 0);
  if (image_tokens <= 0)
    config.fail("vision_feature_select_strategy", "\"default\" drops the only token of the vision tower");
  if (config.has("image_seq_length") && config.positive_int("image_seq_length") != image_tokens)
    config.fail("image_seq_length", "expected " + std::to_string(image_tokens) + " (image tokens the tower gives with "
                                    "strategy \"" + strategy + "\"), got " +
                                    std::to_string(config.positive_int("image_seq_length")));
  const int64_t image_token = config.has("image_token_index") ? config.integer("image_token_index")
                                                              : config.integer("image_token_id", 32000);
  if (image_token < 0 || image_token >= tp.vocab)
    config.fail("image_token_index", "expected a token id below text_config.vocab_size (" + std::to_string(tp.vocab) +
                                         "), got " + std::to_string(image_token));

  const LlavaNames names = detect_naming(b);
  const TowerNames tower = find_tower(b, names.tower_candidates);
  const Dim images = Dim::named("num_images");
  const Dim batch = Dim::named("batch");
  const Dim seq = Dim::named("sequence");
  b.add_input("pixel_values", DType::f32, {images, Dim::of(vp.channels), Dim::of(vp.image_size), Dim::of(vp.image_size)});
  b.add_input("input_ids", DType::i64, {batch, seq});
  b.add_input("position_ids", DType::i64, {batch, seq});

  // Vision: only the blocks that feed the selected hidden states; later blocks and post_layernorm stay unused.
  const int64_t blocks = *std::max_element(layers.begin(), layers.end());
  const auto hidden_states = build_tower(b, vp, tower, "pixel_values", blocks, "config.json vision_config");
  const std::string select_scope = tower.prefix + "feature_select";
  std::string features = hidden_states[static_cast<size_t>(layers.front())];
  if (layers.size() > 1) {
    std::vector<std::string> parts;
    for (const int64_t layer : layers) parts.push_back(hidden_states[static_cast<size_t>(layer)]);
    features = b.onnx("Concat", select_scope, std::move(parts), {{"axis", int64_t{-1}}});
  }
  if (strategy == "default")
    features = b.edgec("TokenSlice", select_scope, {features}, {{"start", int64_t{1}}, {"end", vp.tokens()}});

  const bool projector_bias = config.boolean("multimodal_projector_bias", true);
  const std::string act = config.string("projector_hidden_act", "gelu");
  const int64_t feature_size = vp.hidden * static_cast<int64_t>(layers.size());
  const std::string projector_why = "config.json vision_config.hidden_size / text_config.hidden_size";
  std::string projected = b.linear(names.projector + "linear_1", features, feature_size, tp.hidden, projector_bias,
                                   projector_why);
  projected = b.activation(act, names.projector + "act", projected, config.where("projector_hidden_act"));
  projected = b.linear(names.projector + "linear_2", projected, tp.hidden, tp.hidden, projector_bias, projector_why);

  // Language model: token embeddings with the image rows replaced, then the decoder.
  const std::string text_why = "config.json text_config";
  const std::string embeddings = build_embedding(b, tp, names.decoder, "input_ids", text_why);
  const std::string merged = b.edgec("MergeImageTokens", names.decoder.prefix + "embed_tokens",
                                     {embeddings, "input_ids", projected}, {{"image_token_index", image_token}});
  b.rename(build_decoder(b, tp, names.decoder, merged, "position_ids", text_why), "logits");
  b.add_output("logits", DType::f32, {batch, seq, Dim::of(tp.vocab)});

  model.components = names.components;
  add_vision_metadata(model, vp, "vision_config.");
  add_text_metadata(model, tp, "text_config.");
  std::string layer_list;
  for (const int64_t layer : layers) layer_list += (layer_list.empty() ? "" : ",") + std::to_string(layer);
  const auto* feature_layer = config.find("vision_feature_layer");
  model.metadata["vision_feature_layer"] = feature_layer ? describe_json(*feature_layer) : std::string("-2");
  model.metadata["vision_feature_hidden_states"] = layer_list;
  model.metadata["vision_feature_select_strategy"] = strategy;
  model.metadata["image_token_index"] = std::to_string(image_token);
  model.metadata["image_seq_length"] = std::to_string(image_tokens);
  model.metadata["projector_hidden_act"] = act;
}

}  // namespace edgec::hf
