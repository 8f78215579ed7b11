#include "edgec/formats/generation_config.hpp"

#include <algorithm>
#include <fstream>
#include <iterator>
#include <nlohmann/json.hpp>

#include "edgec/core/error.hpp"

namespace edgec::hf {
namespace {

// Fills unset fields from `json`; `name` names the source in errors.
void merge(GenerationConfig& config, const nlohmann::json& json, const std::string& name) {
  auto integer = [&](const char* key, std::optional<int64_t>& field) {
    if (field || !json.contains(key) || json[key].is_null()) return;
    if (!json[key].is_number_integer()) throw_input_error(name + ": " + key, "expected an integer, got " + json[key].dump());
    field = json[key].get<int64_t>();
  };
  integer("bos_token_id", config.bos_token_id);
  integer("pad_token_id", config.pad_token_id);
  integer("max_new_tokens", config.max_new_tokens);
  integer("image_token_index", config.image_token_index);
  if (config.eos_token_ids.empty() && json.contains("eos_token_id") && !json["eos_token_id"].is_null()) {
    const auto& eos = json["eos_token_id"];
    if (eos.is_number_integer()) config.eos_token_ids.push_back(eos.get<int64_t>());
    else if (eos.is_array() && std::all_of(eos.begin(), eos.end(), [](const auto& v) { return v.is_number_integer(); }))
      for (const auto& v : eos) config.eos_token_ids.push_back(v.get<int64_t>());
    else throw_input_error(name + ": eos_token_id", "expected an integer or a list of integers, got " + eos.dump());
  }
}

}  // namespace

void merge_generation_config(GenerationConfig& config, std::string_view json_text, const std::string& name) {
  nlohmann::json json;
  try {
    json = nlohmann::json::parse(json_text.begin(), json_text.end());
  } catch (const nlohmann::json::exception& e) {
    throw_input_error(name, std::string("invalid JSON: ") + e.what());
  }
  if (!json.is_object()) return;
  merge(config, json, name);
  if (json.contains("text_config") && json["text_config"].is_object()) merge(config, json["text_config"], name);
}

GenerationConfig parse_generation_config(std::string_view json_text, const std::string& name) {
  GenerationConfig config;
  merge_generation_config(config, json_text, name);
  return config;
}

GenerationConfig read_generation_config(const std::filesystem::path& dir) {
  GenerationConfig config;
  for (const char* name : {"generation_config.json", "config.json"}) {
    const auto file = dir / name;
    if (!std::filesystem::exists(file)) continue;
    std::ifstream in(file, std::ios::binary);
    if (!in) throw_input_error(file.string(), "cannot open");
    const std::string text{std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>()};
    merge_generation_config(config, text, file.string());
  }
  return config;
}

}  // namespace edgec::hf
