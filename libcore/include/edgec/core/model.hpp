#pragma once
// A model as imported: one or more graphs (an ONNX folder such as fmnist-vlm-a/onnx holds three), where it
// came from, and its components (vision tower, projector, language model), identified by scope prefixes.
#include <filesystem>
#include <map>
#include <string>
#include <vector>

#include "edgec/core/graph.hpp"

namespace edgec {

struct Component {
  std::string name;                        // "vision_tower", "multi_modal_projector", "language_model"
  std::vector<std::string> scope_prefixes; // a tensor or node belongs to the first component whose prefix matches
};

struct Model {
  std::string format;        // "onnx" or "safetensors"
  std::string architecture;  // "LlamaForCausalLM", ..., or for ONNX "onnx" plus producer in metadata
  std::filesystem::path source;
  std::vector<std::filesystem::path> files;  // every file read, in a stable order
  std::vector<Graph> graphs;
  std::vector<Component> components;
  std::map<std::string, std::string> metadata;  // producer, ir_version, HF hyper-parameters, ...
};

// Which component a tensor or scope name belongs to: the first component with a matching prefix, else "".
std::string component_of(const Model& model, std::string_view name);

struct ParameterStats {
  // Elements of floating-point constants (initializers and Constant nodes); a quantized layer's (edgec.QLinear,
  // QConv) packed weight counts its out x in weights, its scales and zero points none.
  int64_t parameters = 0;
  int64_t bytes = 0;       // bytes of all constants
  int64_t tensors = 0;
  std::map<std::string, int64_t> bytes_by_dtype;
};

// Constants of every graph, grouped by component ("" for tensors outside any component). A tensor shared by
// name between graphs of one model is counted once.
std::map<std::string, ParameterStats> parameter_stats(const Model& model);

}  // namespace edgec
