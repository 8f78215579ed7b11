// parse_recipe: YAML -> tree -> --set overrides -> validation of every section, all errors reported together.
#include "edgec/pipeline/recipe.hpp"

#include <algorithm>
#include <fstream>
#include <sstream>

#include "edgec/core/error.hpp"
#include "sections.hpp"

namespace edgec::pipeline {

namespace {

using detail::Context;
using detail::Diagnostics;
using detail::MapReader;
using detail::TreeNode;

const std::vector<std::string> kSections{"version", "model", "calibration", "stages", "target", "output", "verify"};

Recipe validate(const TreeNode& root, const std::string& display_path, const std::filesystem::path& folder, Diagnostics& diagnostics) {
  Context context{diagnostics, folder};
  Recipe recipe;
  recipe.file = display_path;
  recipe.folder = folder;
  if (root.kind == TreeNode::Kind::null) {
    diagnostics.error(root.where, "the recipe is empty; expected a map with version, model and stages");
    return recipe;
  }
  MapReader top(root, "", kSections, context, "a map of recipe sections (version, model, stages, ...)");
  if (!top.ok()) return recipe;

  if (top.require("version"))
    if (const auto version = top.integer("version"); version && *version != 1)
      diagnostics.error(top.where("version"), "version: unsupported recipe version " + std::to_string(*version) + "; this edgec reads version 1");
  if (const TreeNode* model = top.require("model"))
    if (auto spec = detail::read_model(*model, context)) recipe.model = std::move(*spec);
  if (const TreeNode* calibration = top.get("calibration")) recipe.calibration = detail::read_calibration(*calibration, context);

  // The target and calibration come first: stage validation checks bits against the device and methods against
  // the presence of calibration data.
  detail::StageContext stage_context;
  if (const TreeNode* target = top.get("target")) recipe.target = detail::read_target(*target, context);
  stage_context.device = find_device_profile(recipe.target.device);
  stage_context.device_name = recipe.target.device;
  stage_context.has_calibration = top.has("calibration");
  if (const TreeNode* stages = top.require("stages")) recipe.stages = detail::read_stages(*stages, stage_context, context);

  recipe.output = detail::read_output(top.get("output"), display_path, context);
  if (const TreeNode* verify = top.get("verify")) recipe.verify = detail::read_verify(*verify, context);
  return recipe;
}

}  // namespace

bool QuantizeStage::needs_calibration() const {
  if (method != "rtn" || scheme.activations == quant::ActivationMode::int8_static) return true;
  return std::any_of(overrides.begin(), overrides.end(),
                     [](const SchemeOverride& o) { return o.scheme.activations == quant::ActivationMode::int8_static; });
}

Recipe parse_recipe(const std::string& yaml, const std::string& display_path, const std::filesystem::path& folder,
                    const std::vector<std::string>& set_arguments) {
  Diagnostics diagnostics;
  auto root = detail::parse_yaml_tree(yaml, display_path, diagnostics);
  if (!root) {
    diagnostics.throw_if_any();
    throw Error(ErrorCategory::internal, display_path + ": the YAML parser failed without a message");
  }
  detail::apply_set_arguments(*root, set_arguments, diagnostics);
  Recipe recipe = validate(*root, display_path, folder, diagnostics);
  diagnostics.throw_if_any();
  return recipe;
}

Recipe load_recipe(const std::string& path, const std::vector<std::string>& set_arguments) {
  std::error_code ec;
  if (std::filesystem::is_directory(path, ec)) throw Error(ErrorCategory::usage, path + ": is a folder, not a recipe file");
  std::ifstream in(path, std::ios::binary);
  if (!in) throw Error(ErrorCategory::usage, path + ": cannot open the recipe file");
  std::ostringstream text;
  text << in.rdbuf();
  if (in.bad()) throw Error(ErrorCategory::usage, path + ": cannot read the recipe file");
  return parse_recipe(text.str(), path, std::filesystem::path(path).parent_path(), set_arguments);
}

const char* to_string(ModelFormat format) {
  switch (format) {
    case ModelFormat::auto_detect: return "auto";
    case ModelFormat::onnx: return "onnx";
    case ModelFormat::hf: return "hf";
  }
  return "?";
}

const char* to_string(CalibrationKind kind) {
  switch (kind) {
    case CalibrationKind::auto_detect: return "auto";
    case CalibrationKind::tokens: return "tokens";
    case CalibrationKind::vlm_eval: return "vlm-eval";
    case CalibrationKind::images: return "images";
    case CalibrationKind::generated: return "generated";
  }
  return "?";
}

const char* to_string(PixelLayout layout) { return layout == PixelLayout::nhwc ? "nhwc" : "nchw"; }

const char* to_string(Compression compression) { return compression == Compression::zstd ? "zstd" : "none"; }

const char* to_string(quant::ActivationMode mode) {
  switch (mode) {
    case quant::ActivationMode::float_: return "float";
    case quant::ActivationMode::int8_dynamic: return "int8-dynamic";
    case quant::ActivationMode::int8_static: return "int8-static";
  }
  return "?";
}

}  // namespace edgec::pipeline
