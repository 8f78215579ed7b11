// The recipe's sections other than `stages`: model, calibration, target, output, verify (docs/recipes.md).
#include <algorithm>
#include <cmath>

#include "sections.hpp"

namespace edgec::pipeline::detail {

namespace fs = std::filesystem;

namespace {

bool has_onnx_file(const fs::path& dir) {
  std::error_code ec;
  for (const auto& entry : fs::directory_iterator(dir, ec))
    if (entry.path().extension() == ".onnx") return true;
  return false;
}

// The format the path looks like, as formats/src/load.cpp detects it (only checked when the recipe names one).
void check_model_format(const ModelSpec& model, const std::string& path_key, Diagnostics& diagnostics) {
  std::error_code ec;
  const bool dir = fs::is_directory(model.path, ec);
  const std::string name = model.path.filename().string();
  if (model.format == ModelFormat::onnx && !(dir ? has_onnx_file(model.path) : model.path.extension() == ".onnx"))
    diagnostics.error(model.where, path_key + ": format is onnx, but '" + model.path.string() + "' is not an .onnx file or a folder holding one");
  if (model.format == ModelFormat::hf &&
      !(dir ? fs::exists(model.path / "config.json", ec)
            : model.path.extension() == ".safetensors" || name == "config.json" || name == "model.safetensors.index.json"))
    diagnostics.error(model.where, path_key + ": format is hf, but '" + model.path.string() +
                                       "' is not a folder with config.json, a .safetensors file or config.json");
}

std::optional<CalibrationKind> kind_from_text(const std::string& text) {
  if (text == "auto") return CalibrationKind::auto_detect;
  if (text == "tokens") return CalibrationKind::tokens;
  if (text == "vlm-eval") return CalibrationKind::vlm_eval;
  if (text == "images") return CalibrationKind::images;
  if (text == "generated") return CalibrationKind::generated;
  return std::nullopt;
}

// `kind: auto` as `edgec quantize --calib-kind auto` decides it.
CalibrationKind detect_kind(const fs::path& data) {
  std::error_code ec;
  if (fs::is_directory(data, ec) && fs::exists(data / "manifest.json", ec) && fs::exists(data / "test_pixel_values.f32", ec))
    return CalibrationKind::vlm_eval;
  const std::string ext = data.extension().string();
  if (ext == ".i32" || ext == ".i64" || ext == ".npy") return CalibrationKind::tokens;
  return CalibrationKind::images;
}

std::optional<Preprocessing> read_preprocessing(const TreeNode& node, const std::string& path, Context& context) {
  MapReader map(node, path, {"resize", "mean", "std", "rescale", "layout"}, context);
  if (!map.ok()) return std::nullopt;
  Diagnostics& diagnostics = context.diagnostics;
  Preprocessing p;
  p.where = map.where();
  if (const auto* items = map.list("resize")) {
    if (items->size() != 2) {
      diagnostics.error(map.where("resize"), map.path("resize") + ": expected [height, width], got a list of " + std::to_string(items->size()));
    } else {
      std::array<int64_t, 2> size{};
      bool ok = true;
      for (size_t i = 0; i < 2; ++i) {
        const std::string item_path = map.path("resize") + "." + std::to_string(i);
        const auto value = read_integer((*items)[i], item_path, diagnostics);
        if (value && (*value < 1 || *value > 4096)) {
          diagnostics.error((*items)[i].where, item_path + " must be in [1, 4096]; got " + std::to_string(*value));
          ok = false;
        }
        ok = ok && value.has_value();
        if (value) size[i] = *value;
      }
      if (ok) p.resize = size;
    }
  }
  const auto numbers = [&](const char* key, std::optional<Bound> low) {
    std::vector<float> values;
    const auto* items = map.list(key);
    if (items == nullptr) return values;
    if (items->empty()) diagnostics.error(map.where(key), map.path(key) + ": expected one number per channel, got an empty list");
    for (size_t i = 0; i < items->size(); ++i)
      if (const auto value = read_number((*items)[i], map.path(key) + "." + std::to_string(i), diagnostics, low))
        values.push_back(static_cast<float>(*value));
    return values;
  };
  p.mean = numbers("mean", std::nullopt);
  p.std = numbers("std", Bound{0.0, true});
  // The image loader (calibration::image_prompts) scales pixels by 1/255 into NCHW; the keys exist so recipes
  // keep their meaning when other loaders arrive, and anything the loader cannot do is refused now, not ignored.
  p.rescale = map.number("rescale", Bound{0.0, true});
  p.rescale_where = map.where("rescale");
  if (p.rescale && std::fabs(*p.rescale * 255.0 - 1.0) > 1e-6) {
    diagnostics.error(p.rescale_where, map.path("rescale") + ": the image loader scales pixels by 1/255 (0.00392156862745098) only; got " +
                                           map.get("rescale")->text);
    p.rescale.reset();
  }
  p.layout_where = map.where("layout");
  if (const auto layout = map.choice("layout", "layout", {"nchw", "nhwc"})) {
    p.layout = *layout == "nhwc" ? PixelLayout::nhwc : PixelLayout::nchw;
    if (p.layout == PixelLayout::nhwc)
      diagnostics.error(p.layout_where, map.path("layout") + ": the image loader writes NCHW pixel_values only; got nhwc");
  }
  return p;
}

}  // namespace

std::optional<ModelSpec> read_model(const TreeNode& node, Context& context) {
  ModelSpec model;
  std::string path_key = "model";
  std::optional<fs::path> path;
  if (node.kind == TreeNode::Kind::map) {
    MapReader map(node, "model", {"path", "format"}, context);
    map.require("path");
    path = map.existing_path("path");
    model.where = map.where("path");
    path_key = "model.path";
    if (const auto format = map.choice("format", "model format", {"auto", "onnx", "hf"}))
      model.format = *format == "onnx" ? ModelFormat::onnx : *format == "hf" ? ModelFormat::hf : ModelFormat::auto_detect;
  } else {
    path = read_existing_path(node, "model", context, "a path or a map {path, format}");
    model.where = node.where;
  }
  if (!path) return std::nullopt;
  model.path = *path;
  check_model_format(model, path_key, context.diagnostics);
  return model;
}

std::optional<Calibration> read_calibration(const TreeNode& node, Context& context) {
  MapReader map(node, "calibration",
                {"dataset", "kind", "samples", "seq_len", "seed", "prompt_ids", "answer_tokens", "preprocessing"}, context);
  if (!map.ok()) return std::nullopt;
  Diagnostics& diagnostics = context.diagnostics;
  Calibration c;
  c.where = map.where();
  bool kind_known = true;
  if (map.has("kind")) {
    const auto kind = map.choice("kind", "calibration kind", {"auto", "tokens", "vlm-eval", "images", "generated"});
    kind_known = kind.has_value();
    if (kind) c.kind = *kind_from_text(*kind);
  }
  if (c.kind == CalibrationKind::generated) {
    if (map.has("dataset"))
      diagnostics.error(map.where("dataset"), "calibration.dataset: not used with kind generated (the model writes its own calibration text)");
  } else if (map.require("dataset")) {
    if (const auto data = map.existing_path("dataset")) c.dataset = *data;
    else kind_known = false;
  } else {
    kind_known = false;
  }
  c.resolved_kind = c.kind == CalibrationKind::auto_detect && kind_known ? detect_kind(c.dataset) : c.kind;
  if (const auto v = map.integer_at_least("samples", 1)) c.samples = *v;
  if (const auto v = map.integer_at_least("seq_len", 1)) c.seq_len = *v;
  if (const auto v = map.integer_at_least("seed", 0)) c.seed = static_cast<uint64_t>(*v);
  if (const auto v = map.integer_at_least("answer_tokens", 0)) c.answer_tokens = *v;
  if (const auto ids = map.existing_path("prompt_ids")) c.prompt_ids = *ids;
  if (const TreeNode* pre = map.get("preprocessing")) c.preprocessing = read_preprocessing(*pre, "calibration.preprocessing", context);

  // Keys that only some kinds read: a value the loader would silently ignore is an error.
  if (!kind_known) return c;
  const std::string kind_text = to_string(c.resolved_kind);
  const std::string is_kind = c.kind == CalibrationKind::auto_detect ? "the dataset is " + kind_text + " (kind auto)" : "kind is " + kind_text;
  const bool images = c.resolved_kind == CalibrationKind::images;
  const bool image_like = images || c.resolved_kind == CalibrationKind::vlm_eval;
  // Whether images need prompt_ids depends on the model (a VLM reads input_ids, a vision model does not): preflight.
  if (!images && map.has("prompt_ids"))
    diagnostics.error(map.where("prompt_ids"), "calibration.prompt_ids: only used by kind images; " + is_kind);
  if (!images && map.has("preprocessing"))
    diagnostics.error(map.where("preprocessing"), "calibration.preprocessing: only used by kind images; " + is_kind);
  if (!image_like && map.has("answer_tokens"))
    diagnostics.error(map.where("answer_tokens"), "calibration.answer_tokens: only used by kinds vlm-eval and images; " + is_kind);
  return c;
}

Target read_target(const TreeNode& node, Context& context) {
  std::vector<std::string> names;
  for (const DeviceProfile& profile : device_profiles()) names.emplace_back(profile.name);
  MapReader map(node, "target", {"device", "threads"}, context);
  Target target;
  target.where = map.where();
  target.device_where = map.where("device");
  map.require("device");
  if (const auto device = map.choice("device", "device", names)) target.device = *device;
  else target.device.clear();
  if (const auto threads = map.integer_at_least("threads", 1)) {
    if (*threads > 4096)
      context.diagnostics.error(map.where("threads"), "target.threads must be at most 4096; got " + std::to_string(*threads));
    else
      target.threads = static_cast<int>(*threads);
  }
  return target;
}

Output read_output(const TreeNode* node, const std::string& recipe_file, Context& context) {
  Output output;
  output.path = context.folder / (fs::path(recipe_file).stem().string() + ".edgepack");
  std::optional<MapReader> map;
  if (node != nullptr) map.emplace(*node, "output", std::vector<std::string>{"path", "compression", "golden_samples", "report", "html"}, context);
  const auto path_at = [&](const char* key) -> std::optional<fs::path> {
    if (!map) return std::nullopt;
    const auto text = map->string(key);
    if (!text) return std::nullopt;
    if (text->empty()) {
      context.diagnostics.error(map->where(key), map->path(key) + ": expected a path, got an empty string");
      return std::nullopt;
    }
    return context.resolve(*text, map->where(key));
  };
  if (const auto path = path_at("path")) output.path = *path;
  output.report = output.path.string() + ".report.json";
  output.html = output.path.string() + ".report.html";
  if (const auto report = path_at("report")) output.report = *report;
  if (const auto html = path_at("html")) output.html = *html;
  if (map) {
    if (const auto compression = map->choice("compression", "compression", {"none", "zstd"}))
      output.compression = *compression == "zstd" ? Compression::zstd : Compression::none;
    if (const auto golden = map->integer_at_least("golden_samples", 0)) output.golden_samples = *golden;
  }
  return output;
}

std::optional<Verify> read_verify(const TreeNode& node, Context& context) {
  MapReader map(node, "verify",
                {"max_kl", "min_top1", "max_perplexity", "min_accuracy", "max_accuracy_drop", "max_size_mb", "max_latency_ms",
                 "samples", "data"},
                context);
  if (!map.ok()) return std::nullopt;
  Verify v;
  v.where = map.where();
  const Bound zero{0.0, false}, positive{0.0, true}, one{1.0, false};
  v.max_kl = map.number("max_kl", zero);
  v.min_top1 = map.number("min_top1", zero, one);
  v.max_perplexity = map.number("max_perplexity", positive);
  v.min_accuracy = map.number("min_accuracy", zero, one);
  v.max_accuracy_drop = map.number("max_accuracy_drop", zero);
  v.max_size_mb = map.number("max_size_mb", positive);
  v.max_latency_ms = map.number("max_latency_ms", positive);
  v.samples = map.integer_at_least("samples", 1);
  if (const auto data = map.existing_path("data")) v.data = *data;
  // Gates measured on evaluation data need to be told which data.
  std::vector<std::string> needs_data;
  for (const char* key : {"max_kl", "min_top1", "max_perplexity", "min_accuracy", "max_accuracy_drop"})
    if (map.has(key)) needs_data.emplace_back(key);
  if (!needs_data.empty() && !map.has("data"))
    context.diagnostics.error(v.where, std::string("verify: ") + (needs_data.size() == 1 ? "the gate " : "the gates ") +
                                           join_choices(needs_data, "and") + (needs_data.size() == 1 ? " needs" : " need") +
                                           " 'data' (the evaluation data measured against the original model)");
  return v;
}

}  // namespace edgec::pipeline::detail
