// Synthetic checkpoints of every supported architecture, written by the test: the graph follows the config
// (biases, CLS token, pre-LN, activations, feature layer, tied or untied head, sharded files).
#include <algorithm>

#include <doctest/doctest.h>

#include "edgec/core/error.hpp"
#include "edgec/core/model.hpp"
#include "edgec/formats/hf.hpp"
#include "edgec/formats/load.hpp"
#include "synthetic.hpp"

using edgec::test::TempDir;
using edgec::test::TensorList;
using nlohmann::json;

namespace {

std::vector<const edgec::Node*> nodes_with(const edgec::Graph& graph, const std::string& op) {
  std::vector<const edgec::Node*> found;
  for (const auto& node : graph.nodes)
    if (node.op == op) found.push_back(&node);
  return found;
}

const edgec::Node& node_with_scope(const edgec::Graph& graph, const std::string& scope, const std::string& op) {
  const auto it = std::find_if(graph.nodes.begin(), graph.nodes.end(),
                               [&](const edgec::Node& n) { return n.scope == scope && n.op == op; });
  REQUIRE_MESSAGE(it != graph.nodes.end(), scope);
  return *it;
}

bool used_by_a_node(const edgec::Graph& graph, const std::string& value) {
  return std::any_of(graph.nodes.begin(), graph.nodes.end(), [&](const edgec::Node& node) {
    return std::find(node.inputs.begin(), node.inputs.end(), value) != node.inputs.end();
  });
}

int64_t parameters_of(const TensorList& tensors) {
  int64_t n = 0;
  for (const auto& t : tensors) n += edgec::test::product(t.shape);
  return n;
}

int64_t total_parameters(const edgec::Model& model) {
  int64_t total = 0;
  for (const auto& [component, stats] : edgec::parameter_stats(model)) total += stats.parameters;
  return total;
}

}  // namespace

TEST_CASE("hf synthetic: Qwen2 uses its q/k/v biases, untied lm_head") {
  TempDir dir("qwen2");
  edgec::test::TextShape s;
  TensorList tensors;
  edgec::test::add_decoder(tensors, "model.", s, true);
  tensors.push_back({"lm_head.weight", {s.vocab, s.hidden}});
  json config = edgec::test::text_config("qwen2", s, false);
  config["architectures"] = {"Qwen2ForCausalLM"};
  edgec::test::write_model(dir.path(), config, tensors);
  const auto model = edgec::hf::import_folder(dir.path());
  CHECK(model.architecture == "Qwen2ForCausalLM");
  const auto& graph = model.graphs.at(0);
  CHECK(total_parameters(model) == parameters_of(tensors));
  for (int layer = 0; layer < 2; ++layer)
    for (const char* proj : {"q_proj", "k_proj", "v_proj"}) {
      const std::string scope = "model.layers." + std::to_string(layer) + ".self_attn." + proj;
      CHECK(node_with_scope(graph, scope, "Linear").inputs.at(2) == scope + ".bias");
    }
  CHECK(node_with_scope(graph, "model.layers.1.self_attn.o_proj", "Linear").inputs.size() == 2);
  const auto& attention = node_with_scope(graph, "model.layers.0.self_attn", "Attention");
  CHECK(attention.attr_float("rope_theta", 0) == doctest::Approx(1e6));
  CHECK(attention.attr_int("num_kv_heads", 0) == 2);
  CHECK(graph.nodes.back().inputs.at(1) == "lm_head.weight");
  CHECK(model.components.at(0).name == "language_model");

  SUBCASE("Qwen2 without its biases is an error naming the tensor") {
    edgec::test::write_model(dir.path(), config, edgec::test::without(tensors, "model.layers.1.self_attn.k_proj.bias"));
    try {
      edgec::hf::import_folder(dir.path());
      FAIL("expected an error");
    } catch (const edgec::Error& error) {
      CHECK(std::string(error.what()).find("model.layers.1.self_attn.k_proj.bias") != std::string::npos);
    }
  }
}

TEST_CASE("hf synthetic: Llama tied vs untied embeddings, linear RoPE scaling, load_model") {
  TempDir dir("llama");
  edgec::test::TextShape s;
  s.kv_heads = 4;
  TensorList tensors;
  edgec::test::add_decoder(tensors, "model.", s, false);
  json config = edgec::test::text_config("llama", s, true);
  config["architectures"] = {"LlamaForCausalLM"};
  config.erase("head_dim");  // default hidden / heads
  config["rope_scaling"] = {{"type", "linear"}, {"factor", 4.0}};
  edgec::test::write_model(dir.path(), config, tensors);
  auto model = edgec::load_model(dir.path());
  const auto& tied = model.graphs.at(0);
  CHECK(tied.nodes.back().inputs.at(1) == "model.embed_tokens.weight");
  const auto& attention = node_with_scope(tied, "model.layers.1.self_attn", "Attention");
  CHECK(attention.attr_int("head_dim", 0) == 4);
  CHECK(attention.attr_float("rope_scaling_factor", 0) == doctest::Approx(4.0));
  CHECK(total_parameters(model) == parameters_of(tensors));

  // Untied: lm_head.weight present and used even though embed_tokens exists.
  tensors.push_back({"lm_head.weight", {s.vocab, s.hidden}});
  config["tie_word_embeddings"] = false;
  edgec::test::write_model(dir.path(), config, tensors);
  model = edgec::load_model(dir.path() / "model.safetensors");
  CHECK(model.graphs.at(0).nodes.back().inputs.at(1) == "lm_head.weight");
  CHECK(total_parameters(model) == parameters_of(tensors));
}

TEST_CASE("hf synthetic: sharded Llama across two shards") {
  TempDir dir("sharded");
  edgec::test::TextShape s;
  TensorList tensors;
  edgec::test::add_decoder(tensors, "model.", s, false);
  tensors.push_back({"lm_head.weight", {s.vocab, s.hidden}});
  json config = edgec::test::text_config("llama", s, false);
  config["architectures"] = {"LlamaForCausalLM"};
  edgec::test::write_sharded_model(dir.path(), config, tensors);
  const auto model = edgec::hf::import_folder(dir.path());
  CHECK(model.graphs.at(0).initializers.size() == tensors.size());
  CHECK(total_parameters(model) == parameters_of(tensors));
  CHECK(model.files.size() == 4);  // config, index, two shards
  for (const auto& [name, tensor] : model.graphs.at(0).initializers) CHECK(tensor.is_view());
}

TEST_CASE("hf synthetic: CLIP vision (CLS, pre_layrnorm, quick_gelu, pooled output)") {
  TempDir dir("clip");
  edgec::test::VisionShape s;
  TensorList tensors;
  edgec::test::add_clip_tower(tensors, "vision_model.", s, true, true, false);
  json config = edgec::test::vision_config("clip_vision_model", s);
  config["architectures"] = {"CLIPVisionModel"};
  edgec::test::write_model(dir.path(), config, tensors);
  const auto model = edgec::hf::import_folder(dir.path());
  const auto& graph = model.graphs.at(0);
  CHECK(total_parameters(model) == parameters_of(tensors));
  CHECK(nodes_with(graph, "PrependToken").size() == 1);
  CHECK(nodes_with(graph, "QuickGelu").size() == 3);
  CHECK(nodes_with(graph, "Gelu").empty());
  const auto& pre = node_with_scope(graph, "vision_model.pre_layrnorm", "LayerNorm");
  CHECK(pre.attr_float("epsilon", 0) == doctest::Approx(1e-5));
  CHECK(node_with_scope(graph, "vision_model.embeddings.patch_embedding", "Conv").inputs.size() == 2);  // no bias
  CHECK(node_with_scope(graph, "vision_model.encoder.layers.2.self_attn", "Attention").attr_int("causal", -1) == 0);
  REQUIRE(graph.outputs.size() == 2);
  CHECK(graph.outputs[0].name == "last_hidden_state");
  CHECK((*graph.outputs[0].type.shape)[1].value == 5);  // 4 patches + CLS
  CHECK(graph.outputs[1].name == "pooler_output");
  CHECK(used_by_a_node(graph, "vision_model.post_layernorm.weight"));
  CHECK(model.components.at(0).scope_prefixes == std::vector<std::string>{"vision_model."});
}

TEST_CASE("hf synthetic: ViT classifier (CLS token, qkv bias, final layernorm)") {
  TempDir dir("vit");
  edgec::test::VisionShape s;
  TensorList tensors;
  edgec::test::add_vit(tensors, "vit.", s);
  tensors.push_back({"classifier.weight", {3, s.hidden}});
  tensors.push_back({"classifier.bias", {3}});
  json config = edgec::test::vision_config("vit", s);
  config["architectures"] = {"ViTForImageClassification"};
  config["id2label"] = {{"0", "a"}, {"1", "b"}, {"2", "c"}};
  config["layer_norm_eps"] = 1e-12;
  edgec::test::write_model(dir.path(), config, tensors);
  const auto model = edgec::hf::import_folder(dir.path());
  const auto& graph = model.graphs.at(0);
  CHECK(total_parameters(model) == parameters_of(tensors));
  CHECK(node_with_scope(graph, "vit.embeddings", "PrependToken").inputs.at(1) == "vit.embeddings.cls_token");
  CHECK(node_with_scope(graph, "vit.encoder.layer.1.attention.attention.query", "Linear").inputs.at(2) ==
        "vit.encoder.layer.1.attention.attention.query.bias");
  CHECK(nodes_with(graph, "Gelu").at(0)->attr_string("approximate", "") == "none");
  CHECK(used_by_a_node(graph, "vit.layernorm.weight"));
  CHECK(nodes_with(graph, "SelectToken").size() == 1);
  CHECK((*graph.outputs.at(0).type.shape)[1].value == 3);
  const auto stats = edgec::parameter_stats(model);
  CHECK(stats.at("classifier").parameters == 3 * s.hidden + 3);

  SUBCASE("ViTModel with unprefixed names") {
    TensorList plain;
    edgec::test::add_vit(plain, "", s);
    config["architectures"] = {"ViTModel"};
    edgec::test::write_model(dir.path(), config, plain);
    const auto vit = edgec::hf::import_folder(dir.path());
    CHECK(vit.graphs.at(0).outputs.at(0).name == "last_hidden_state");
    CHECK(edgec::parameter_stats(vit).at("vision_tower").parameters == parameters_of(plain));
  }
}

TEST_CASE("hf synthetic: SigLIP vision (no CLS, no pre-LN, tanh GELU, post_layernorm on all tokens)") {
  TempDir dir("siglip");
  edgec::test::VisionShape s;
  TensorList tensors;
  edgec::test::add_clip_tower(tensors, "vision_model.", s, false, false, true);
  json config = edgec::test::vision_config("siglip_vision_model", s);
  config["architectures"] = {"SiglipVisionModel"};
  edgec::test::write_model(dir.path(), config, tensors);
  const auto model = edgec::hf::import_folder(dir.path());
  const auto& graph = model.graphs.at(0);
  CHECK(nodes_with(graph, "PrependToken").empty());
  CHECK(nodes_with(graph, "LayerNorm").size() == 2 * 3 + 1);
  for (const auto* gelu : nodes_with(graph, "Gelu")) CHECK(gelu->attr_string("approximate", "") == "tanh");
  CHECK(node_with_scope(graph, "vision_model.embeddings.patch_embedding", "Conv").inputs.size() == 3);
  CHECK((*graph.outputs.at(0).type.shape)[1].value == 4);
  CHECK(used_by_a_node(graph, "vision_model.post_layernorm.weight"));
}

namespace {

// A LLaVA with a CLIP tower (3 blocks), a Qwen2-free Llama text model, and old or new tensor naming.
struct LlavaFixture {
  edgec::test::VisionShape vs;
  edgec::test::TextShape ts;
  TensorList tensors;
  json config;

  explicit LlavaFixture(bool new_naming) {
    const std::string tower = new_naming ? "model.vision_tower.vision_model." : "vision_tower.vision_model.";
    const std::string projector = new_naming ? "model.multi_modal_projector." : "multi_modal_projector.";
    edgec::test::add_clip_tower(tensors, tower, vs, true, true, false);
    tensors.push_back({projector + "linear_1.weight", {ts.hidden, vs.hidden}});
    tensors.push_back({projector + "linear_1.bias", {ts.hidden}});
    tensors.push_back({projector + "linear_2.weight", {ts.hidden, ts.hidden}});
    tensors.push_back({projector + "linear_2.bias", {ts.hidden}});
    edgec::test::add_decoder(tensors, new_naming ? "model.language_model." : "language_model.model.", ts, false);
    tensors.push_back({new_naming ? "lm_head.weight" : "language_model.lm_head.weight", {ts.vocab, ts.hidden}});
    config = {{"architectures", {"LlavaForConditionalGeneration"}},
              {"model_type", "llava"},
              {"vision_config", edgec::test::vision_config("clip_vision_model", vs)},
              {"text_config", edgec::test::text_config("llama", ts, false)},
              {"image_token_index", 5},
              {"image_seq_length", 4},
              {"projector_hidden_act", "gelu"},
              {"vision_feature_layer", -2},
              {"vision_feature_select_strategy", "default"}};
  }
};

}  // namespace

TEST_CASE("hf synthetic: LLaVA, feature layer -2, default strategy (drops CLS, fewer blocks)") {
  for (const bool new_naming : {false, true}) {
    CAPTURE(new_naming);
    TempDir dir("llava");
    LlavaFixture f(new_naming);
    edgec::test::write_model(dir.path(), f.config, f.tensors);
    const auto model = edgec::hf::import_folder(dir.path());
    const auto& graph = model.graphs.at(0);
    const std::string tower = new_naming ? "model.vision_tower.vision_model." : "vision_tower.vision_model.";
    CHECK(total_parameters(model) == parameters_of(f.tensors));
    const auto stats = edgec::parameter_stats(model);
    CHECK(stats.at("multi_modal_projector").parameters ==
          f.ts.hidden * f.vs.hidden + f.ts.hidden + f.ts.hidden * f.ts.hidden + f.ts.hidden);
    CHECK((!stats.count("") || stats.at("").tensors == 0));
    // hidden_states[-2] of 3 blocks = after block 1: blocks 0 and 1 built, block 2 not.
    int vision_attention = 0;
    for (const auto* node : nodes_with(graph, "Attention"))
      if (node->scope.rfind(tower, 0) == 0) ++vision_attention;
    CHECK(vision_attention == 2);
    CHECK(used_by_a_node(graph, tower + "encoder.layers.1.mlp.fc2.weight"));
    CHECK(!used_by_a_node(graph, tower + "encoder.layers.2.self_attn.q_proj.weight"));
    CHECK(!used_by_a_node(graph, tower + "post_layernorm.weight"));
    const auto slice = nodes_with(graph, "TokenSlice");
    REQUIRE(slice.size() == 1);
    CHECK(slice[0]->attr_int("start", -1) == 1);
    CHECK(slice[0]->attr_int("end", -1) == 5);
    const auto merge = nodes_with(graph, "MergeImageTokens");
    REQUIRE(merge.size() == 1);
    CHECK(merge[0]->attr_int("image_token_index", -1) == 5);
    CHECK(model.metadata.at("vision_feature_hidden_states") == "2");
    CHECK(model.metadata.at("image_seq_length") == "4");
    CHECK(edgec::component_of(model, new_naming ? "lm_head" : "language_model.lm_head") == "language_model");
    CHECK(graph.nodes.back().inputs.at(1) == (new_naming ? "lm_head.weight" : "language_model.lm_head.weight"));
  }
}

TEST_CASE("hf synthetic: LLaVA feature layer list concatenates hidden states") {
  TempDir dir("llava_list");
  LlavaFixture f(false);
  f.config["vision_feature_layer"] = {-3, -1};
  f.config["vision_feature_select_strategy"] = "full";
  f.config["image_seq_length"] = 5;
  // linear_1 now takes 2 x vision hidden features.
  for (auto& t : f.tensors)
    if (t.name == "multi_modal_projector.linear_1.weight") t.shape = {f.ts.hidden, 2 * f.vs.hidden};
  edgec::test::write_model(dir.path(), f.config, f.tensors);
  const auto model = edgec::hf::import_folder(dir.path());
  const auto& graph = model.graphs.at(0);
  CHECK(nodes_with(graph, "Concat").size() == 1);
  CHECK(nodes_with(graph, "TokenSlice").empty());
  CHECK(used_by_a_node(graph, "vision_tower.vision_model.encoder.layers.2.mlp.fc2.weight"));
  CHECK(model.metadata.at("vision_feature_hidden_states") == "1,3");
}
