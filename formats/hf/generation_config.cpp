#include "edgec/formats/generation_config.hpp"

#include <algorithm>
#include <fstream>
#include <nlohmann/json.hpp>

#include "edgec/core/error.hpp"

namespace edgec::hf {
namespace {

std::optional<nlohmann::json> read_json(const std::filesystem::path& file) {
  if (!std::filesystem::exists(file)) return std::nullopt;
  std::ifstream in(file);
  try {
    return nlohmann::json::parse(in);
  } catch (const nlohmann::json::exception& e) {
    throw_input_error(file.string(), std::string("invalid JSON: ") + e.what());
  }
}

// Fills unset fields from `json`; `file` names the source in errors.
void merge(GenerationConfig& config, const nlohmann::json& json, const std::filesystem::path& file) {
  auto integer = [&](const char* key, std::optional<int64_t>& field) {
    if (field || !json.contains(key) || json[key].is_null()) return;
    if (!json[key].is_number_integer()) throw_input_error(file.string() + ": " + key, "expected an integer, got " + json[key].dump());
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
    else throw_input_error(file.string() + ": eos_token_id", "expected an integer or a list of integers, got " + eos.dump());
  }
}

}  // namespace

GenerationConfig read_generation_config(const std::filesystem::path& dir) {
  GenerationConfig config;
  for (const char* name : {"generation_config.json", "config.json"}) {
    const auto file = dir / name;
    const auto json = read_json(file);
    if (!json || !json->is_object()) continue;
    merge(config, *json, file);
    if (json->contains("text_config") && (*json)["text_config"].is_object()) merge(config, (*json)["text_config"], file);
  }
  return config;
}

}  // namespace edgec::hf
