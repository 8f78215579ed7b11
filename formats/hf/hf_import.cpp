// Hugging Face folder import: config.json picks the architecture, the safetensors checkpoint (single file or
// sharded index) provides every initializer as a view, and one builder per family emits the graph.
#include <array>
#include <functional>

#include "edgec/core/error.hpp"
#include "edgec/formats/hf.hpp"
#include "edgec/formats/safetensors.hpp"
#include "hf/builders.hpp"
#include "safetensors/strict_json.hpp"

namespace edgec::hf {
namespace {

namespace fs = std::filesystem;
using formats_detail::describe_json;
using formats_detail::printable;
using nlohmann::json;

constexpr uint64_t kMaxConfigBytes = uint64_t{16} << 20;

using Builder = std::function<void(const Config&, GraphBuilder&, Model&)>;

struct Architecture {
  const char* name;        // architectures[0]
  const char* model_type;  // model_type, used when architectures is absent or unknown
  Builder build;
};

const std::array<Architecture, 8>& architectures() {
  static const std::array<Architecture, 8> table{
      Architecture{"LlamaForCausalLM", "llama",
                   [](const Config& c, GraphBuilder& b, Model& m) { build_causal_lm(c, b, m, false); }},
      Architecture{"Qwen2ForCausalLM", "qwen2",
                   [](const Config& c, GraphBuilder& b, Model& m) { build_causal_lm(c, b, m, true); }},
      Architecture{"LlavaForConditionalGeneration", "llava", build_llava},
      Architecture{"ViTModel", "vit",
                   [](const Config& c, GraphBuilder& b, Model& m) { build_vision_model(c, b, m, VisionModelKind::vit); }},
      Architecture{"ViTForImageClassification", "",
                   [](const Config& c, GraphBuilder& b, Model& m) {
                     build_vision_model(c, b, m, VisionModelKind::vit_classifier);
                   }},
      Architecture{"CLIPVisionModel", "clip_vision_model",
                   [](const Config& c, GraphBuilder& b, Model& m) { build_vision_model(c, b, m, VisionModelKind::clip); }},
      Architecture{"SiglipVisionModel", "siglip_vision_model",
                   [](const Config& c, GraphBuilder& b, Model& m) {
                     build_vision_model(c, b, m, VisionModelKind::siglip);
                   }},
      Architecture{"ViTStyleImageClassifier", "fmnist_vit_classifier",
                   [](const Config& c, GraphBuilder& b, Model& m) {
                     build_vision_model(c, b, m, VisionModelKind::pooled_classifier);
                   }},
  };
  return table;
}

std::string supported_list() {
  std::string list;
  for (const auto& arch : architectures()) list += (list.empty() ? "" : ", ") + std::string(arch.name);
  return list;
}

json read_config(const fs::path& path) {
  const auto file = MappedFile::open(path);
  if (file->size() > kMaxConfigBytes)
    throw_input_error(path.string(), "config is " + std::to_string(file->size()) + " bytes, more than the 16 MiB limit");
  const std::string_view text(reinterpret_cast<const char*>(file->bytes().data()), file->size());
  json config = formats_detail::parse_strict_json(text, path.string(), 64);
  if (!config.is_object()) throw_input_error(path.string(), "expected a JSON object, got " + describe_json(config));
  return config;
}

const Architecture& pick_architecture(const Config& config) {
  std::string requested;
  if (const auto* list = config.find("architectures")) {
    if (!list->is_array() || list->empty() || !(*list)[0].is_string())
      config.fail("architectures", "expected a non-empty list of class names, got " + describe_json(*list));
    requested = (*list)[0].get<std::string>();
    for (const auto& arch : architectures())
      if (requested == arch.name) return arch;
  }
  const std::string model_type = config.string("model_type", "");
  if (!model_type.empty())
    for (const auto& arch : architectures())
      if (model_type == arch.model_type) return arch;
  if (requested.empty() && model_type.empty())
    config.fail("architectures", "missing (and no model_type); supported architectures: " + supported_list());
  config.fail(requested.empty() ? "model_type" : "architectures",
              "unsupported architecture '" + printable(requested.empty() ? model_type : requested) +
                  "' (model_type '" + printable(model_type) + "'); supported architectures: " + supported_list());
}

}  // namespace

Model import_folder(const fs::path& dir) {
  const fs::path config_path = dir / "config.json";
  const json root = read_config(config_path);
  const Config config(root, config_path.string());
  const Architecture& arch = pick_architecture(config);

  std::error_code ec;
  safetensors::Checkpoint checkpoint;
  fs::path checkpoint_path = dir / "model.safetensors";
  if (fs::exists(checkpoint_path, ec)) {
    checkpoint = safetensors::read_file(checkpoint_path);
  } else if (checkpoint_path = dir / "model.safetensors.index.json"; fs::exists(checkpoint_path, ec)) {
    checkpoint = safetensors::read_index(checkpoint_path);
  } else {
    throw_input_error(dir.string(), "no model.safetensors or model.safetensors.index.json beside config.json");
  }

  Model model;
  model.format = "safetensors";
  model.architecture = arch.name;
  model.source = dir;
  model.files.push_back(config_path);
  if (checkpoint_path.filename() != "model.safetensors") model.files.push_back(checkpoint_path);
  model.files.insert(model.files.end(), checkpoint.files.begin(), checkpoint.files.end());
  for (const auto& [key, value] : checkpoint.metadata) model.metadata["safetensors." + key] = value;

  Graph graph;
  graph.name = arch.name;
  graph.opset_imports = {{"", 17}, {std::string(kEdgecDomain), 1}};
  graph.initializers = std::move(checkpoint.tensors);
  GraphBuilder builder(graph, checkpoint_path.string());
  arch.build(config, builder, model);
  model.metadata["architecture"] = arch.name;
  validate_graph(graph, dir.string());
  model.graphs.push_back(std::move(graph));
  return model;
}

}  // namespace edgec::hf
