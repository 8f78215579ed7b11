#pragma once
// Detects a checkpoint's format from its path and imports it. A path may be:
//   - an .onnx file, or a folder of .onnx files (one graph each, sorted by file name);
//   - a folder with config.json + model.safetensors (or model.safetensors.index.json), or one of those files.
#include <filesystem>

#include "edgec/core/model.hpp"

namespace edgec {

// Throws Error(input) naming the path when the format cannot be recognised or the model is malformed.
// Every imported graph has passed validate_graph.
Model load_model(const std::filesystem::path& path);

}  // namespace edgec
