#pragma once
// What a Hugging Face folder says about generation: generation_config.json, falling back to config.json (and
// its text_config for VLMs). eos_token_id may be one id or a list (stories260k: [1, 2]).
#include <cstdint>
#include <filesystem>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace edgec::hf {

struct GenerationConfig {
  std::optional<int64_t> bos_token_id;
  std::vector<int64_t> eos_token_ids;
  std::optional<int64_t> pad_token_id;
  std::optional<int64_t> max_new_tokens;
  std::optional<int64_t> image_token_index;  // config.json (LLaVA)
};

// `dir` is the model folder; a missing file is not an error (fields stay empty), a malformed one is.
GenerationConfig read_generation_config(const std::filesystem::path& dir);

// Fills the fields `config` does not have yet from the text of one generation_config.json or config.json (its
// text_config too), so the first document merged wins. `name` names the document in errors: invalid JSON is
// Error(input) "NAME: invalid JSON: ...", a field of the wrong type "NAME: FIELD: expected ...". A document that
// is valid JSON but not an object adds nothing.
void merge_generation_config(GenerationConfig& config, std::string_view json_text, const std::string& name);

// One document's fields: merge_generation_config into an empty config.
GenerationConfig parse_generation_config(std::string_view json_text, const std::string& name);

}  // namespace edgec::hf
