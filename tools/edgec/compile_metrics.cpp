#include "compile_metrics.hpp"

#include <algorithm>
#include <chrono>
#include <cmath>
#include <filesystem>
#include <fstream>
#include <limits>

#include "calibration_source.hpp"
#include "edgec/core/error.hpp"
#include "edgec/core/parallel.hpp"
#include "edgec/formats/caption_eval_set.hpp"
#include "edgec/formats/generation_config.hpp"
#include "edgec/formats/npy.hpp"
#include "edgec/runtime/caption_eval.hpp"
#include "edgec/runtime/executor.hpp"
#include "edgec/runtime/generation.hpp"
#include "edgec/runtime/lm_eval.hpp"
#include "edgec/runtime/tokenizers.hpp"
#include "tensor_files.hpp"

namespace edgec::cli {
namespace {

namespace fs = std::filesystem;
constexpr double kNaN = std::numeric_limits<double>::quiet_NaN();

report::Component component_for(const Model& model, const std::string& name) {
  const std::string component = component_of(model, name);
  if (component == "vision_tower") return report::Component::vision;
  if (component == "multi_modal_projector") return report::Component::projector;
  if (component == "language_model") return report::Component::language;
  return report::Component::other;
}

bool has_value(const std::vector<ValueInfo>& values, std::string_view name) {
  return std::any_of(values.begin(), values.end(), [&](const ValueInfo& v) { return v.name == name; });
}

bool is_causal_lm(const Graph& graph) {
  return has_value(graph.inputs, "input_ids") && has_value(graph.inputs, "position_ids") && has_value(graph.outputs, "logits") &&
         !has_value(graph.inputs, "pixel_values");
}

// The first output of `graph` on each sample.
std::vector<std::vector<float>> first_outputs(const Graph& graph, const calibration::Dataset& data, size_t count) {
  const runtime::Executor executor(graph);
  std::vector<std::vector<float>> outputs;
  for (size_t i = 0; i < std::min(count, data.samples.size()); ++i)
    outputs.push_back(executor.run(data.samples[i].inputs).at(graph.outputs.front().name).to_f32());
  return outputs;
}

// Median wall time of `runs` runs of `graph` on `inputs`, in milliseconds.
double latency_ms(const Graph& graph, const std::map<std::string, runtime::HostTensor>& inputs, int runs) {
  const runtime::Executor executor(graph);
  executor.run(inputs);  // warm-up: first-touch allocations and caches
  std::vector<double> times;
  for (int i = 0; i < runs; ++i) {
    const auto start = std::chrono::steady_clock::now();
    executor.run(inputs);
    times.push_back(std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - start).count());
  }
  std::sort(times.begin(), times.end());
  return times[times.size() / 2];
}

void lm_metrics(const pipeline::Verify& verify, const Graph& original, const Graph& compiled, report::CompileReport& report) {
  const std::vector<int64_t> tokens = read_token_ids(verify.data);
  runtime::LmEvalOptions options;
  options.limit = verify.samples.value_or(16);
  options.source = verify.data.string();
  const runtime::LmEvalResult r = runtime::evaluate_lm(compiled, &original, std::span<const int64_t>(tokens), options);
  const std::string what = verify.data.filename().string() + ", " + std::to_string(r.windows) + " windows of 256 tokens";
  report.metrics.push_back({"perplexity", r.reference_perplexity, r.perplexity, "", what, false});
  report.metrics.push_back({"kl", 0.0, r.kl, "nats/token", "KL(fp32 || compiled) per token, " + what, false});
  report.metrics.push_back({"top1_agreement", 1.0, r.top1_agreement, "", "next-token argmax agreement with fp32, " + what, true});
}

double caption_accuracy(const Model& model, const fs::path& folder, const fs::path& eval, int64_t limit) {
  const auto config = hf::read_generation_config(folder);
  auto lm = runtime::make_causal_model(model, config.image_token_index.value_or(3));
  const auto set = formats::load_caption_eval_set(eval, 0, limit);
  if (set.captions.empty() || set.fields.empty()) throw_input_error(eval.string(), "needs test_captions.txt and test_fields.i32 to score captions");
  const auto vocab = runtime::WordVocab::load(folder / "vocab.txt");
  runtime::GenerationOptions options;
  options.max_new_tokens = config.max_new_tokens.value_or(16);
  options.stop_tokens = config.eos_token_ids;
  const auto generated = runtime::caption_images(*lm, set.pixels, set.image_dims, set.template_ids, 16, options);
  runtime::CaptionMetrics metrics;
  for (size_t i = 0; i < generated.size(); ++i)
    metrics.add(vocab.decode(generated[i], options.stop_tokens), set.captions[i],
                runtime::CaptionFields{set.fields[3 * i], set.fields[3 * i + 1], set.fields[3 * i + 2]});
  return metrics.rate(metrics.exact);
}

// Top-1 accuracy of an image classifier (one image input, logits [B, classes] first output) on a labelled set.
double classification_accuracy(const Graph& graph, const formats::ClassificationEvalSet& set) {
  constexpr int64_t kBatch = 100;
  runtime::Executor executor(graph);
  const int64_t count = set.image_dims[0], image = set.image_dims[1] * set.image_dims[2] * set.image_dims[3];
  int64_t correct = 0;
  for (int64_t first = 0; first < count; first += kBatch) {
    const int64_t batch = std::min(kBatch, count - first);
    const std::span<const float> pixels(set.pixels.data() + first * image, static_cast<size_t>(batch * image));
    std::map<std::string, runtime::HostTensor> inputs;
    inputs[graph.inputs.front().name] =
        runtime::HostTensor::from_values<float>(DType::f32, {batch, set.image_dims[1], set.image_dims[2], set.image_dims[3]}, pixels);
    runtime::RunOptions options;
    options.outputs = {graph.outputs.front().name};
    const auto logits = executor.run(inputs, options).at(graph.outputs.front().name).to_f32();
    const int64_t classes = static_cast<int64_t>(logits.size()) / batch;
    for (int64_t b = 0; b < batch; ++b) {
      const auto row = logits.begin() + b * classes;
      correct += std::max_element(row, row + classes) - row == set.labels[static_cast<size_t>(first + b)];
    }
  }
  return count > 0 ? static_cast<double>(correct) / static_cast<double>(count) : kNaN;
}

void output_metrics(const Graph& original, const Graph& compiled, const calibration::Dataset& data, report::CompileReport& report) {
  constexpr size_t kSamples = 8;
  const auto reference = first_outputs(original, data, kSamples), outputs = first_outputs(compiled, data, kSamples);
  double error = 0, energy = 0;
  int64_t rows = 0, agree = 0;
  const auto dims = original.type_of(original.outputs.front().name);
  for (size_t s = 0; s < reference.size(); ++s) {
    const auto& a = reference[s];
    const auto& b = outputs[s];
    for (size_t i = 0; i < a.size(); ++i) {
      error += (static_cast<double>(a[i]) - b[i]) * (static_cast<double>(a[i]) - b[i]);
      energy += static_cast<double>(a[i]) * a[i];
    }
    // Top-1 along the last axis, when the output is declared with a known last dim.
    int64_t classes = 0;
    if (dims && dims->shape && !dims->shape->empty() && dims->shape->back().known()) classes = dims->shape->back().value;
    if (classes > 1 && a.size() % static_cast<size_t>(classes) == 0)
      for (size_t r = 0; r < a.size() / static_cast<size_t>(classes); ++r, ++rows) {
        const auto row = [&](const std::vector<float>& v) { return v.begin() + static_cast<std::ptrdiff_t>(r * static_cast<size_t>(classes)); };
        agree += std::max_element(row(a), row(a) + classes) - row(a) == std::max_element(row(b), row(b) + classes) - row(b);
      }
  }
  const std::string what = std::to_string(reference.size()) + " calibration samples, output " + original.outputs.front().name;
  report.metrics.push_back({"output_relative_mse", 0.0, energy > 0 ? error / energy : kNaN, "", what, false});
  if (rows > 0)
    report.metrics.push_back({"top1_agreement", 1.0, static_cast<double>(agree) / static_cast<double>(rows), "", "argmax agreement, " + what, true});
}

}  // namespace

report::LayerReport layer_report(const Model& model, const quant::LayerReport& layer, const std::string& method) {
  report::LayerReport row;
  row.name = layer.name;
  row.scope = layer.scope;
  row.component = component_for(model, layer.scope.empty() ? layer.name : layer.scope);
  row.op = layer.op == "Conv" ? "edgec.QConv" : "edgec.QLinear";
  row.out_features = layer.out_features;
  row.in_features = layer.in_features;
  row.scheme = layer.scheme;
  row.method = method;
  row.error = layer.error;
  if (layer.tokens > 0) {
    row.rtn_error = layer.rtn_error;
    const double energy = layer.output_energy, quantized = layer.quantized_energy, error = layer.error;
    row.relative_mse = energy > 0 ? error / energy : kNaN;
    row.snr_db = error > 0 ? 10.0 * std::log10(energy / error) : std::numeric_limits<double>::infinity();
    // <y, y_hat> = (|y|^2 + |y_hat|^2 - |y - y_hat|^2) / 2, every term from the layer's Hessian.
    row.cosine = energy > 0 && quantized > 0 ? (energy + quantized - error) / (2.0 * std::sqrt(energy * quantized)) : kNaN;
  } else {
    row.relative_mse = row.cosine = row.snr_db = kNaN;
  }
  return row;
}

std::vector<report::ComponentSize> component_sizes(const Model& model, const Graph& original, const Graph& compiled) {
  std::map<report::Component, report::ComponentSize> sizes;
  for (const auto& [name, tensor] : original.initializers) {
    auto& size = sizes[component_for(model, name)];
    size.component = component_for(model, name);
    size.bytes_before += tensor.bytes().size();
  }
  for (const auto& [name, tensor] : compiled.initializers) {
    auto& size = sizes[component_for(model, name)];
    size.component = component_for(model, name);
    size.bytes_after += tensor.bytes().size();
  }
  std::vector<report::ComponentSize> out;
  for (const auto& [component, size] : sizes) out.push_back(size);
  return out;
}

std::vector<GoldenSample> golden_samples(const Graph& compiled, const calibration::Dataset& data, int64_t count) {
  std::vector<GoldenSample> golden;
  const runtime::Executor executor(compiled);
  for (size_t i = 0; i < std::min(static_cast<size_t>(std::max<int64_t>(count, 0)), data.samples.size()); ++i) {
    GoldenSample sample;
    sample.name = "calibration_" + std::to_string(i);
    for (const auto& [name, tensor] : data.samples[i].inputs) sample.inputs.emplace(name, tensor.to_ir());
    const auto results = executor.run(data.samples[i].inputs);
    for (const auto& output : compiled.outputs) {
      const runtime::HostTensor& value = results.at(output.name);
      sample.outputs.emplace(output.name, value.to_ir());
      // Another machine's kernels may sum in another order: a few float ulps of the output's scale.
      double scale = 0;
      if (dtype_is_float(value.dtype()))
        for (const float v : value.to_f32()) scale = std::max(scale, std::fabs(static_cast<double>(v)));
      sample.tolerances[output.name] = GoldenTolerance{1e-4 * scale + 1e-6, 1e-3};
    }
    golden.push_back(std::move(sample));
  }
  return golden;
}

void measure_end_to_end(const pipeline::Recipe& recipe, const Model& model, const Graph& original, const Graph& compiled,
                        const calibration::Dataset* data, report::CompileReport& report) {
  const double before = static_cast<double>(report::total_bytes_before(report)), after = static_cast<double>(report::total_bytes_after(report));
  report.metrics.push_back({"size_mb", before / 1e6, after / 1e6, "MB", "bytes of every constant (weights, scales, zero points)", false});
  const bool has_data = recipe.verify && !recipe.verify->data.empty();
  if (has_data && is_causal_lm(compiled)) {
    lm_metrics(*recipe.verify, original, compiled, report);
  } else if (has_data && fs::is_directory(recipe.verify->data) && fs::exists(recipe.verify->data / "test_captions.txt")) {
    const int64_t limit = recipe.verify->samples.value_or(200);
    Model reference = model;
    reference.graphs.at(0) = original;
    const fs::path folder = config_folder(recipe.model.path);
    const double fp32 = caption_accuracy(reference, folder, recipe.verify->data, limit);
    const double compiled_acc = caption_accuracy(model, folder, recipe.verify->data, limit);
    report.metrics.push_back({"accuracy", fp32, compiled_acc, "", "exact caption, first " + std::to_string(limit) + " eval images", true});
  } else if (has_data && formats::is_classification_eval_set(recipe.verify->data)) {
    const int64_t limit = recipe.verify->samples.value_or(1000);
    const auto set = formats::load_classification_eval_set(recipe.verify->data, limit);
    const double fp32 = classification_accuracy(original, set), compiled_acc = classification_accuracy(compiled, set);
    report.metrics.push_back({"accuracy", fp32, compiled_acc, "", "top-1, first " + std::to_string(set.labels.size()) + " labelled eval images", true});
    if (data != nullptr && !data->samples.empty()) output_metrics(original, compiled, *data, report);
  } else if (data != nullptr && !data->samples.empty()) {
    output_metrics(original, compiled, *data, report);
  }
  if (data != nullptr && !data->samples.empty()) {
    report::Latency latency;
    latency.samples = 1;
    latency.threads = parallel_threads();
    latency.reference_ms = latency_ms(original, data->samples.front().inputs, 3);
    latency.compiled_ms = latency_ms(compiled, data->samples.front().inputs, 3);
    report.latency = latency;
  }
}

std::vector<report::Gate> verify_gates(const pipeline::Verify& verify, const report::CompileReport& report) {
  const auto metric = [&](const std::string& name) -> const report::Metric* {
    for (const auto& m : report.metrics)
      if (m.name == name) return &m;
    return nullptr;
  };
  const auto value = [&](const std::string& name) { return metric(name) ? metric(name)->value : kNaN; };
  std::vector<report::Gate> gates;
  using report::GateOp;
  if (verify.max_kl) gates.push_back(report::make_gate("kl", GateOp::at_most, *verify.max_kl, value("kl")));
  if (verify.min_top1) gates.push_back(report::make_gate("top1_agreement", GateOp::at_least, *verify.min_top1, value("top1_agreement")));
  if (verify.max_perplexity) gates.push_back(report::make_gate("perplexity", GateOp::at_most, *verify.max_perplexity, value("perplexity")));
  if (verify.min_accuracy) gates.push_back(report::make_gate("accuracy", GateOp::at_least, *verify.min_accuracy, value("accuracy")));
  if (verify.max_accuracy_drop) {
    const report::Metric* accuracy = metric("accuracy");
    const double drop = accuracy && accuracy->reference ? *accuracy->reference - accuracy->value : kNaN;
    gates.push_back(report::make_gate("accuracy_drop", GateOp::at_most, *verify.max_accuracy_drop, drop));
  }
  if (verify.max_size_mb) gates.push_back(report::make_gate("size_mb", GateOp::at_most, *verify.max_size_mb, value("size_mb")));
  if (verify.max_latency_ms)
    gates.push_back(report::make_gate("latency_ms", GateOp::at_most, *verify.max_latency_ms, report.latency ? report.latency->compiled_ms : kNaN));
  return gates;
}

}  // namespace edgec::cli
