// config.json and checkpoint errors: each is an edgec::Error of category input whose one-line message names
// the file and the key path or tensor.
#include <doctest/doctest.h>

#include "edgec/formats/hf.hpp"
#include "expect_error.hpp"
#include "synthetic.hpp"

using edgec::test::contains;
using edgec::test::expect_input_error;
using edgec::test::TempDir;
using edgec::test::TensorList;
using nlohmann::json;

namespace {

struct LlamaFixture {
  TempDir dir{"errors"};
  edgec::test::TextShape shape;
  TensorList tensors;
  json config;

  LlamaFixture() {
    shape.layers = 4;
    edgec::test::add_decoder(tensors, "model.", shape, false);
    config = edgec::test::text_config("llama", shape, true);
    config["architectures"] = {"LlamaForCausalLM"};
    edgec::test::write_model(dir.path(), config, tensors);
  }
  std::string config_error(const json& changed) {
    edgec::test::write_bytes(dir.path() / "config.json", changed.dump());
    const auto message = expect_input_error([&] { edgec::hf::import_folder(dir.path()); });
    CHECK_MESSAGE(message.rfind((dir.path() / "config.json").string() + ": ", 0) == 0, message);
    return message;
  }
};

}  // namespace

TEST_CASE("hf errors: the fixture itself imports") {
  LlamaFixture f;
  CHECK(edgec::hf::import_folder(f.dir.path()).graphs.size() == 1);
}

TEST_CASE("hf errors: config.json") {
  LlamaFixture f;
  SUBCASE("not JSON") {
    edgec::test::write_bytes(f.dir.path() / "config.json", "{\"hidden_size\": 16,");
    CHECK(contains(expect_input_error([&] { edgec::hf::import_folder(f.dir.path()); }), "config.json: not valid JSON"));
  }
  SUBCASE("not an object") { CHECK(contains(f.config_error(json::array({1, 2})), "expected a JSON object")); }
  SUBCASE("missing key") {
    json c = f.config;
    c.erase("num_hidden_layers");
    CHECK(contains(f.config_error(c), "config.json: num_hidden_layers: missing (expected a positive integer)"));
  }
  SUBCASE("string where an integer is expected") {
    json c = f.config;
    c["num_attention_heads"] = "4";
    CHECK(contains(f.config_error(c), "config.json: num_attention_heads: expected a positive integer, got \"4\""));
  }
  SUBCASE("zero, negative and fractional sizes") {
    json c = f.config;
    c["hidden_size"] = 0;
    CHECK(contains(f.config_error(c), "hidden_size: expected a positive integer, got 0"));
    c["hidden_size"] = -16;
    CHECK(contains(f.config_error(c), "hidden_size: expected a positive integer, got -16"));
    c["hidden_size"] = 16.5;
    CHECK(contains(f.config_error(c), "hidden_size: expected an integer, got 16.5"));
  }
  SUBCASE("mistyped bool and number") {
    json c = f.config;
    c["tie_word_embeddings"] = "yes";
    CHECK(contains(f.config_error(c), "tie_word_embeddings: expected true or false"));
    c = f.config;
    c["rms_norm_eps"] = "1e-6";
    CHECK(contains(f.config_error(c), "rms_norm_eps: expected a number"));
  }
  SUBCASE("GQA heads must divide") {
    json c = f.config;
    c["num_key_value_heads"] = 3;
    CHECK(contains(f.config_error(c), "num_key_value_heads: expected a divisor of num_attention_heads (4), got 3"));
  }
  SUBCASE("unsupported rope scaling") {
    json c = f.config;
    c["rope_scaling"] = {{"rope_type", "yarn"}, {"factor", 2.0}};
    CHECK(contains(f.config_error(c), "rope_scaling: rope type 'yarn' is not supported yet"));
  }
  SUBCASE("unknown architecture lists the supported ones") {
    json c = f.config;
    c["architectures"] = {"MambaForCausalLM"};
    c["model_type"] = "mamba";
    const auto message = f.config_error(c);
    CHECK(contains(message, "unsupported architecture 'MambaForCausalLM'"));
    for (const char* arch : {"LlamaForCausalLM", "Qwen2ForCausalLM", "LlavaForConditionalGeneration", "ViTModel",
                             "ViTForImageClassification", "CLIPVisionModel", "SiglipVisionModel"})
      CHECK(contains(message, arch));
  }
  SUBCASE("architectures absent falls back to model_type") {
    json c = f.config;
    c.erase("architectures");
    edgec::test::write_bytes(f.dir.path() / "config.json", c.dump());
    CHECK(edgec::hf::import_folder(f.dir.path()).architecture == "LlamaForCausalLM");
  }
  SUBCASE("duplicate keys") {
    edgec::test::write_bytes(f.dir.path() / "config.json", "{\"hidden_size\": 16, \"hidden_size\": 32}");
    CHECK(contains(expect_input_error([&] { edgec::hf::import_folder(f.dir.path()); }), "duplicate key 'hidden_size'"));
  }
  SUBCASE("nested key paths") {
    json c = {{"architectures", {"LlavaForConditionalGeneration"}},
              {"vision_config", edgec::test::vision_config("siglip_vision_model", {})},
              {"text_config", edgec::test::text_config("llama", {}, false)}};
    c["text_config"]["num_attention_heads"] = "4";
    CHECK(contains(f.config_error(c), "config.json: text_config.num_attention_heads: expected a positive integer, got \"4\""));
    c["text_config"]["num_attention_heads"] = 4;
    c["vision_config"]["patch_size"] = 3;
    CHECK(contains(f.config_error(c), "vision_config.patch_size: expected a divisor of image_size (8), got 3"));
    c.erase("vision_config");
    CHECK(contains(f.config_error(c), "vision_config: missing (expected an object)"));
  }
}

TEST_CASE("hf errors: the checkpoint does not match the config") {
  LlamaFixture f;
  const auto checkpoint = (f.dir.path() / "model.safetensors").string();
  auto import_error = [&](const TensorList& tensors) {
    edgec::test::write_bytes(f.dir.path() / "model.safetensors", edgec::test::make_safetensors(tensors));
    const auto message = expect_input_error([&] { edgec::hf::import_folder(f.dir.path()); });
    CHECK_MESSAGE(message.rfind(checkpoint + ": ", 0) == 0, message);
    return message;
  };
  SUBCASE("layer 3's q_proj missing") {
    const auto message = import_error(edgec::test::without(f.tensors, "model.layers.3.self_attn.q_proj.weight"));
    CHECK(contains(message, "tensor 'model.layers.3.self_attn.q_proj.weight': missing from the checkpoint"));
    CHECK(contains(message, "layer 3 of 4"));
  }
  SUBCASE("wrong shape") {
    TensorList tensors = f.tensors;
    for (auto& t : tensors)
      if (t.name == "model.layers.0.mlp.up_proj.weight") t.shape = {25, 16};
    CHECK(contains(import_error(tensors), "expected shape [24,16]"));
  }
  SUBCASE("untied without lm_head") {
    json c = f.config;
    c["tie_word_embeddings"] = false;
    edgec::test::write_bytes(f.dir.path() / "config.json", c.dump());
    CHECK(contains(import_error(f.tensors), "tensor 'lm_head.weight': missing from the checkpoint and tie_word_embeddings is false"));
  }
  SUBCASE("non-float weight") {
    edgec::test::write_bytes(f.dir.path() / "model.safetensors",
                             edgec::test::make_safetensors(f.tensors, 1, json::object(), "model.norm.weight"));
    const auto message = expect_input_error([&] { edgec::hf::import_folder(f.dir.path()); });
    CHECK(contains(message, "model.safetensors: tensor 'model.norm.weight': expected a floating-point tensor, got i32"));
  }
  SUBCASE("no checkpoint") {
    std::filesystem::remove(f.dir.path() / "model.safetensors");
    CHECK(contains(expect_input_error([&] { edgec::hf::import_folder(f.dir.path()); }), "no model.safetensors"));
  }
  SUBCASE("shard escaping the folder") {
    std::filesystem::remove(f.dir.path() / "model.safetensors");
    edgec::test::write_bytes(f.dir.path() / "model.safetensors.index.json",
                             json{{"weight_map", {{"model.norm.weight", "../../etc/model.safetensors"}}}}.dump());
    const auto message = expect_input_error([&] { edgec::hf::import_folder(f.dir.path()); });
    CHECK(contains(message, "model.safetensors.index.json: weight_map.model.norm.weight"));
    CHECK(contains(message, "contains '..'; it must stay inside the index's folder"));
  }
}
