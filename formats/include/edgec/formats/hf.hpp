#pragma once
// Hugging Face checkpoints: config.json + safetensors -> one IR graph of high-level edgec ops.
// Supported architectures: LlamaForCausalLM, Qwen2ForCausalLM, ViTModel/ViTForImageClassification,
// CLIPVisionModel, SiglipVisionModel, LlavaForConditionalGeneration.
#include <filesystem>

#include "edgec/core/model.hpp"

namespace edgec::hf {

Model import_folder(const std::filesystem::path& dir);

}  // namespace edgec::hf
