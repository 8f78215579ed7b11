// The shared real checkpoints: exact tensor and parameter counts, per-component counts computed independently
// from the safetensors header, the structure the configs imply, and zero-copy views.
#include <algorithm>
#include <cstring>
#include <fstream>
#include <set>

#include <doctest/doctest.h>

#include "edgec/core/model.hpp"
#include "edgec/formats/hf.hpp"
#include "synthetic.hpp"
#include "test_paths.hpp"

using nlohmann::json;

namespace {

struct RawHeader {
  json header;
  size_t data_start = 0;
};

// Independent header decoding with the standard library and nlohmann only.
RawHeader read_raw_header(const std::filesystem::path& file) {
  std::ifstream in(file, std::ios::binary);
  unsigned char length[8];
  in.read(reinterpret_cast<char*>(length), 8);
  uint64_t n = 0;
  for (int i = 7; i >= 0; --i) n = (n << 8) | length[i];
  std::string text(n, '\0');
  in.read(text.data(), static_cast<std::streamsize>(n));
  return RawHeader{json::parse(text), 8 + n};
}

int64_t elements_of(const json& entry) {
  int64_t n = 1;
  for (const auto& d : entry["shape"]) n *= d.get<int64_t>();
  return n;
}

std::vector<const edgec::Node*> nodes_with(const edgec::Graph& graph, const std::string& op) {
  std::vector<const edgec::Node*> found;
  for (const auto& node : graph.nodes)
    if (node.op == op) found.push_back(&node);
  return found;
}

bool used_by_a_node(const edgec::Graph& graph, const std::string& value) {
  return std::any_of(graph.nodes.begin(), graph.nodes.end(), [&](const edgec::Node& node) {
    return std::find(node.inputs.begin(), node.inputs.end(), value) != node.inputs.end();
  });
}

int64_t total_parameters(const edgec::Model& model) {
  int64_t total = 0;
  for (const auto& [component, stats] : edgec::parameter_stats(model)) total += stats.parameters;
  return total;
}

}  // namespace

TEST_CASE("hf: stories260k (LlamaForCausalLM, tied lm_head)") {
  const auto dir = edgec::test::shared_model("stories260k");
  if (dir.empty()) return;
  const edgec::Model model = edgec::hf::import_folder(dir);
  CHECK(model.format == "safetensors");
  CHECK(model.architecture == "LlamaForCausalLM");
  REQUIRE(model.graphs.size() == 1);
  const edgec::Graph& graph = model.graphs[0];
  CHECK(graph.initializers.size() == 47);
  CHECK(graph.initializer("lm_head.weight") == nullptr);
  CHECK(total_parameters(model) == 260032);
  const auto stats = edgec::parameter_stats(model);
  CHECK(stats.at("language_model").parameters == 260032);
  CHECK(stats.at("language_model").tensors == 47);
  for (const auto& [name, tensor] : graph.initializers) CHECK(tensor.is_view());

  const auto attention = nodes_with(graph, "Attention");
  REQUIRE(attention.size() == 5);
  for (size_t i = 0; i < attention.size(); ++i) {
    const auto& node = *attention[i];
    CHECK(node.domain == "edgec");
    CHECK(node.scope == "model.layers." + std::to_string(i) + ".self_attn");
    CHECK(node.attr_int("num_heads", 0) == 8);
    CHECK(node.attr_int("num_kv_heads", 0) == 4);
    CHECK(node.attr_int("head_dim", 0) == 8);
    CHECK(node.attr_int("causal", -1) == 1);
    CHECK(node.attr_float("rope_theta", 0) == doctest::Approx(10000.0));
    CHECK(node.attr_float("scale", 0) == doctest::Approx(1.0 / std::sqrt(8.0)));
    REQUIRE(node.inputs.size() == 4);
    CHECK(node.inputs[3] == "position_ids");
  }
  CHECK(nodes_with(graph, "RMSNorm").size() == 11);
  CHECK(nodes_with(graph, "Linear").size() == 5 * 7 + 1);
  CHECK(nodes_with(graph, "SiLU").size() == 5);
  // Tied: the last Linear (lm_head) reads the embedding table and produces the logits.
  const auto& head = graph.nodes.back();
  CHECK(head.op == "Linear");
  CHECK(head.scope == "lm_head");
  CHECK(head.inputs == std::vector<std::string>{graph.nodes[graph.nodes.size() - 2].outputs[0], "model.embed_tokens.weight"});
  CHECK(head.outputs[0] == "logits");
  REQUIRE(graph.outputs.size() == 1);
  CHECK(graph.outputs[0].name == "logits");
  REQUIRE(graph.outputs[0].type.shape);
  CHECK((*graph.outputs[0].type.shape)[2].value == 512);
  CHECK((*graph.outputs[0].type.shape)[0].symbol == "batch");
  REQUIRE(graph.inputs.size() == 2);
  CHECK(graph.inputs[0].name == "input_ids");
  CHECK(graph.inputs[0].type.dtype == edgec::DType::i64);
  CHECK(model.metadata.at("num_key_value_heads") == "4");
  CHECK(model.metadata.at("tie_word_embeddings") == "true");
  CHECK(model.metadata.at("safetensors.format") == "pt");

  // Spot-check values against bytes read independently from the file.
  const auto file = dir / "model.safetensors";
  const RawHeader raw = read_raw_header(file);
  const std::string bytes = edgec::test::read_bytes(file);
  for (const std::string name : {"model.layers.2.self_attn.k_proj.weight", "model.norm.weight", "model.embed_tokens.weight"}) {
    CAPTURE(name);
    const auto& entry = raw.header[name];
    const size_t begin = raw.data_start + entry["data_offsets"][0].get<size_t>();
    const size_t end = raw.data_start + entry["data_offsets"][1].get<size_t>();
    const edgec::Tensor* tensor = graph.initializer(name);
    REQUIRE(tensor);
    REQUIRE(tensor->bytes().size() == end - begin);
    CHECK(std::memcmp(tensor->bytes().data(), bytes.data() + begin, end - begin) == 0);
    const auto values = tensor->to_f32();
    for (const size_t i : {size_t{0}, values.size() / 2, values.size() - 1}) {
      float expected;
      std::memcpy(&expected, bytes.data() + begin + 4 * i, 4);
      CHECK(values[i] == expected);
    }
  }
}

TEST_CASE("hf: fmnist-vlm-a (LLaVA: SigLIP-like tower, GELU projector, Llama GQA)") {
  const auto dir = edgec::test::shared_model("fmnist-vlm-a");
  if (dir.empty()) return;
  const edgec::Model model = edgec::hf::import_folder(dir);
  CHECK(model.architecture == "LlavaForConditionalGeneration");
  const edgec::Graph& graph = model.graphs.at(0);

  // Expected per-component counts from the header alone.
  const RawHeader raw = read_raw_header(dir / "model.safetensors");
  std::map<std::string, int64_t> expected;
  int64_t expected_total = 0;
  size_t tensors = 0;
  for (const auto& [name, entry] : raw.header.items()) {
    if (name == "__metadata__") continue;
    ++tensors;
    const int64_t n = elements_of(entry);
    expected_total += n;
    for (const char* prefix : {"vision_tower.", "multi_modal_projector.", "language_model."})
      if (name.rfind(prefix, 0) == 0) expected[std::string(prefix, std::strlen(prefix) - 1)] += n;
  }
  CHECK(expected_total == 1228160);
  CHECK(graph.initializers.size() == tensors);
  const auto stats = edgec::parameter_stats(model);
  int64_t sum = 0;
  for (const auto& [component, count] : expected) {
    CAPTURE(component);
    CHECK(stats.at(component).parameters == count);
    sum += stats.at(component).parameters;
  }
  CHECK(sum == 1228160);
  CHECK(total_parameters(model) == 1228160);
  CHECK((!stats.count("") || stats.at("").parameters == 0));

  // Vision: feature layer -1 of 4 blocks -> all four built, no CLS, post_layernorm unused.
  int vision_attention = 0;
  int text_attention = 0;
  for (const auto* node : nodes_with(graph, "Attention")) {
    if (node->scope.rfind("vision_tower.", 0) == 0) {
      ++vision_attention;
      CHECK(node->attr_int("causal", -1) == 0);
      CHECK(node->attr_int("num_heads", 0) == 4);
      CHECK(node->attr_int("head_dim", 0) == 24);
      CHECK(node->attr_float("rope_theta", -1) == 0.0f);
    } else {
      ++text_attention;
      CHECK(node->scope.rfind("language_model.model.layers.", 0) == 0);
      CHECK(node->attr_int("num_heads", 0) == 4);
      CHECK(node->attr_int("num_kv_heads", 0) == 2);
      CHECK(node->attr_int("head_dim", 0) == 32);
      CHECK(node->attr_int("causal", -1) == 1);
    }
  }
  CHECK(vision_attention == 4);
  CHECK(text_attention == 4);
  CHECK(used_by_a_node(graph, "vision_tower.encoder.layers.3.mlp.fc2.weight"));
  CHECK(!used_by_a_node(graph, "vision_tower.post_layernorm.weight"));
  CHECK(!used_by_a_node(graph, "vision_tower.post_layernorm.bias"));
  CHECK(nodes_with(graph, "PrependToken").empty());
  CHECK(nodes_with(graph, "TokenSlice").empty());  // strategy "full"
  // Vision MLP uses exact GELU; the projector too.
  for (const auto* node : nodes_with(graph, "Gelu")) CHECK(node->attr_string("approximate", "") == "none");
  CHECK(nodes_with(graph, "Gelu").size() == 5);

  const auto merge = nodes_with(graph, "MergeImageTokens");
  REQUIRE(merge.size() == 1);
  CHECK(merge[0]->attr_int("image_token_index", -1) == 3);
  CHECK(merge[0]->inputs[1] == "input_ids");
  CHECK(model.metadata.at("image_seq_length") == "49");
  CHECK(model.metadata.at("text_config.num_key_value_heads") == "2");
  CHECK(model.metadata.at("vision_config.use_cls_token") == "false");
  CHECK(model.metadata.at("vision_feature_hidden_states") == "4");

  // Untied lm_head.
  const auto& head = graph.nodes.back();
  CHECK(head.scope == "language_model.lm_head");
  CHECK(head.inputs.at(1) == "language_model.lm_head.weight");
  const auto q_proj = std::find_if(graph.nodes.begin(), graph.nodes.end(), [](const edgec::Node& n) {
    return n.scope == "language_model.model.layers.3.self_attn.q_proj";
  });
  REQUIRE(q_proj != graph.nodes.end());
  CHECK(q_proj->op == "Linear");
  CHECK(q_proj->inputs.size() == 2);  // attention_bias false

  std::set<std::string> inputs;
  for (const auto& input : graph.inputs) inputs.insert(input.name);
  CHECK(inputs == std::set<std::string>{"pixel_values", "input_ids", "position_ids"});
  CHECK((*graph.inputs[0].type.shape)[1].value == 1);
  CHECK((*graph.outputs.at(0).type.shape)[2].value == 27);
  CHECK(edgec::component_of(model, "language_model.model.layers.3.self_attn.q_proj") == "language_model");
}

TEST_CASE("hf: fmnist-vit-a (pooled ViT classifier)") {
  const auto dir = edgec::test::shared_model("fmnist-vit-a");
  if (dir.empty()) return;
  const edgec::Model model = edgec::hf::import_folder(dir);
  CHECK(model.architecture == "ViTStyleImageClassifier");
  const edgec::Graph& graph = model.graphs.at(0);
  CHECK(graph.initializers.size() == 71);
  CHECK(total_parameters(model) == 454858);
  const auto stats = edgec::parameter_stats(model);
  CHECK(stats.at("classifier").parameters == 970);
  CHECK(stats.at("vision_tower").parameters == 454858 - 970);
  CHECK(nodes_with(graph, "Attention").size() == 4);
  const auto pool = nodes_with(graph, "ReduceMean");
  REQUIRE(pool.size() == 1);
  CHECK(pool[0]->attr_ints("axes") == std::vector<int64_t>{1});
  CHECK(used_by_a_node(graph, "vision_tower.post_layernorm.weight"));
  const auto& head = graph.nodes.back();
  CHECK(head.op == "Linear");
  CHECK(head.inputs.at(1) == "classifier.weight");
  CHECK(head.inputs.at(2) == "classifier.bias");
  REQUIRE(graph.outputs.size() == 1);
  CHECK(graph.outputs[0].name == "logits");
  CHECK((*graph.outputs[0].type.shape)[1].value == 10);
  CHECK(model.metadata.at("pooling") == "mean");
}
