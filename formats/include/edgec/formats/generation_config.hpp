#pragma once
// What a Hugging Face folder says about generation: generation_config.json, falling back to config.json (and
// its text_config for VLMs). eos_token_id may be one id or a list (stories260k: [1, 2]).
#include <cstdint>
#include <filesystem>
#include <optional>
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

}  // namespace edgec::hf
