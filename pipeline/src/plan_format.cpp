// The plan as a table for `--dry-run`, and as JSON for reports and tools.
#include <algorithm>
#include <cstdio>

#include "edgec/pipeline/preflight.hpp"
#include "edgec/pipeline/recipe.hpp"

namespace edgec::pipeline {

namespace {

std::string format_bytes(int64_t bytes) {
  char text[64];
  const double b = static_cast<double>(bytes);
  if (bytes < 1024) std::snprintf(text, sizeof text, "%lld B", static_cast<long long>(bytes));
  else if (bytes < 1024 * 1024) std::snprintf(text, sizeof text, "%.1f KiB", b / 1024.0);
  else if (bytes < int64_t{1024} * 1024 * 1024) std::snprintf(text, sizeof text, "%.2f MiB", b / (1024.0 * 1024.0));
  else std::snprintf(text, sizeof text, "%.2f GiB", b / (1024.0 * 1024.0 * 1024.0));
  return text;
}

std::string pad(std::string text, size_t width) {
  if (text.size() < width) text.append(width - text.size(), ' ');
  return text;
}

std::string scheme_text(const LayerPlan& layer) {
  std::string text = quant::describe(layer.scheme);
  const int64_t group = layer.scheme.group_for(layer.in_features);
  if (layer.scheme.group_size > 0 && group == layer.in_features) text += " (per channel here)";
  return text;
}

}  // namespace

std::string plan_to_text(const Plan& plan) {
  std::string out = "model " + plan.model + " on " + plan.device + ": " + std::to_string(plan.linear_layers) + " linear layers\n";
  for (const StagePlan& stage : plan.stages) {
    out += "\nstage '" + stage.name + "' (" + stage.pass + ", " + stage.method + "): " + std::to_string(stage.layers.size()) +
           (stage.layers.size() == 1 ? " layer, " : " layers, ") + format_bytes(stage.original_bytes) + " -> " +
           format_bytes(stage.packed_bytes) + "\n";
    std::vector<std::array<std::string, 5>> rows{{"layer", "op", "out x in", "scheme", "bytes"}};
    for (const LayerPlan& layer : stage.layers)
      rows.push_back({layer.scope.empty() ? layer.name : layer.scope, layer.op,
                      std::to_string(layer.out_features) + " x " + std::to_string(layer.in_features), scheme_text(layer),
                      std::to_string(layer.packed_bytes)});
    std::array<size_t, 5> widths{};
    for (const auto& row : rows)
      for (size_t c = 0; c < row.size(); ++c) widths[c] = std::max(widths[c], row[c].size());
    for (const auto& row : rows) {
      std::string line = "  ";
      for (size_t c = 0; c + 1 < row.size(); ++c) line += pad(row[c], widths[c] + 2);
      out += line + row.back() + "\n";
    }
  }
  out += "\n";
  if (!plan.unquantized.empty()) {
    out += "left unquantized: " + std::to_string(plan.unquantized.size()) +
           (plan.unquantized.size() == 1 ? " linear layer (" : " linear layers (");
    for (size_t i = 0; i < std::min<size_t>(plan.unquantized.size(), 4); ++i) {
      const LayerRef& layer = plan.unquantized[i];
      out += (i > 0 ? ", " : "") + (layer.scope.empty() ? layer.name : layer.scope);
    }
    out += plan.unquantized.size() > 4 ? ", ...)\n" : ")\n";
  }
  int64_t packed = 0;
  for (const StagePlan& stage : plan.stages) packed += stage.packed_bytes;
  out += "estimated artifact weights: " + format_bytes(plan.estimated_bytes) + " (" + std::to_string(plan.estimated_bytes) +
         " bytes: quantized " + format_bytes(packed) + " + unchanged constants " + format_bytes(plan.unquantized_bytes) +
         "); the model's constants now: " + format_bytes(plan.original_bytes) + "\n";
  if (plan.calibration_tokens > 0)
    out += "estimated calibration peak memory: " + format_bytes(plan.calibration_peak_bytes) + " (" +
           std::to_string(plan.calibration_tokens) + " tokens x hidden " + std::to_string(plan.hidden_size) + ", block " +
           plan.peak_block + ")\n";
  else
    out += "calibration: none needed\n";
  return out;
}

nlohmann::ordered_json plan_to_json(const Plan& plan) {
  using Json = nlohmann::ordered_json;
  Json stages = Json::array();
  for (const StagePlan& stage : plan.stages) {
    Json layers = Json::array();
    for (const LayerPlan& layer : stage.layers)
      layers.push_back(Json{{"name", layer.name},
                            {"scope", layer.scope},
                            {"op", layer.op},
                            {"out_features", layer.out_features},
                            {"in_features", layer.in_features},
                            {"bits", layer.scheme.bits},
                            {"group", layer.scheme.group_for(layer.in_features)},
                            {"symmetric", layer.scheme.symmetric},
                            {"scale_dtype", layer.scheme.scale_dtype == DType::f32 ? "f32" : "f16"},
                            {"activations", to_string(layer.scheme.activations)},
                            {"scheme", quant::describe(layer.scheme)},
                            {"original_bytes", layer.original_bytes},
                            {"packed_bytes", layer.packed_bytes}});
    stages.push_back(Json{{"name", stage.name},
                          {"pass", stage.pass},
                          {"method", stage.method},
                          {"layers", layers},
                          {"excluded", stage.excluded},
                          {"original_bytes", stage.original_bytes},
                          {"packed_bytes", stage.packed_bytes}});
  }
  Json unquantized = Json::array();
  for (const LayerRef& layer : plan.unquantized) unquantized.push_back(Json{{"name", layer.name}, {"scope", layer.scope}});
  return Json{{"model", plan.model},
              {"device", plan.device},
              {"linear_layers", plan.linear_layers},
              {"stages", stages},
              {"unquantized", unquantized},
              {"original_bytes", plan.original_bytes},
              {"unquantized_bytes", plan.unquantized_bytes},
              {"estimated_bytes", plan.estimated_bytes},
              {"calibration",
               Json{{"tokens", plan.calibration_tokens},
                    {"hidden_size", plan.hidden_size},
                    {"peak_bytes", plan.calibration_peak_bytes},
                    {"peak_block", plan.peak_block}}}};
}

}  // namespace edgec::pipeline
