#pragma once
// The calibration data `edgec quantize` options and a recipe's `calibration:` section describe, loaded for a
// model (both commands share it, so a recipe and the interim command read data alike).
#include <cstdint>
#include <filesystem>
#include <functional>
#include <string>
#include <vector>

#include "edgec/calibration/dataset.hpp"
#include "edgec/core/graph.hpp"

namespace edgec::cli {

struct CalibrationSource {
  std::string kind = "auto";         // auto, tokens, vlm-eval, images, generated
  std::filesystem::path data;        // empty for generated
  std::filesystem::path prompt_ids;  // images: token ids fed with each image
  int64_t samples = 128, seq_len = 256, answer_tokens = 0;
  uint64_t seed = 0;
  // Image preprocessing replacing preprocessor_config.json's (empty: the model's own).
  std::vector<float> mean, std;
  int64_t height = 0, width = 0;
};

// The folder holding the model's config.json, tokenizer and preprocessor config (the model path itself, its
// folder, or the folder above an onnx/ subfolder): edgec::side_file_folder (edgec/formats/side_files.hpp, which
// also reads the files an .edgepack artifact carries).
std::filesystem::path config_folder(const std::filesystem::path& model);

// What loading is doing when it runs the model (generating text, answering prompts): a unit name and
// (done, total); called often, the receiver throttles.
using CalibrationProgress = std::function<void(const std::string& unit, int64_t done, int64_t total)>;

// `who` starts usage errors ("edgec quantize", "recipe.yaml").
calibration::Dataset load_calibration(const CalibrationSource& source, const std::filesystem::path& model_folder, const Graph& graph,
                                      const std::string& who, const CalibrationProgress& progress = {});

}  // namespace edgec::cli
