#include "edgec/quant/quantize_graph.hpp"

#include <algorithm>
#include <chrono>
#include <cmath>
#include <map>
#include <set>

#include "edgec/calibration/blockwise.hpp"
#include "edgec/calibration/linear_stats.hpp"
#include "edgec/core/error.hpp"
#include "edgec/quant/layers.hpp"
#include "edgec/quant/scale_folding.hpp"

namespace edgec::quant {

namespace {

using Clock = std::chrono::steady_clock;

double seconds_since(Clock::time_point start) { return std::chrono::duration<double>(Clock::now() - start).count(); }

struct Selected {
  LinearLayer layer;
  WeightScheme scheme;
};

bool layer_matches(const std::string& pattern, const Graph& graph, const LinearLayer& layer) {
  const Node& node = graph.nodes[layer.node];
  return name_matches(pattern, layer.weight) || (!node.scope.empty() && name_matches(pattern, node.scope)) ||
         (!node.name.empty() && name_matches(pattern, node.name));
}

std::vector<Selected> select_layers(const Graph& graph, const QuantizeOptions& options, QuantizeReport& report) {
  std::vector<Selected> selected;
  for (const LinearLayer& layer : find_linear_layers(graph)) {
    const bool ignored = std::any_of(options.ignore.begin(), options.ignore.end(),
                                     [&](const std::string& pattern) { return layer_matches(pattern, graph, layer); });
    if (ignored) {
      report.skipped.push_back(layer.weight);
      continue;
    }
    WeightScheme scheme = options.scheme;
    for (const auto& rule : options.overrides)
      if (layer_matches(rule.pattern, graph, layer)) {
        scheme = rule.scheme;
        break;
      }
    // A grouped convolution is many small products, each with its own inputs: no one Hessian describes it, so
    // it is rounded to nearest with float activations whatever the method (docs/quantization.md).
    if (layer.conv_groups > 1) scheme.activations = ActivationMode::float_;
    validate_scheme(scheme, "layer '" + layer.weight + "'");
    selected.push_back(Selected{layer, scheme});
  }
  return selected;
}

QuantizedWeight round_weight(const std::vector<float>& weight, const Selected& item, const calibration::LinearStats* stats,
                             const QuantizeOptions& options, LayerReport& report) {
  const int64_t n = item.layer.out_features, k = item.layer.in_features;
  if (options.rounding == Rounding::gptq) {
    GptqReport gptq;
    QuantizedWeight q = quantize_gptq(weight.data(), n, k, *stats->hessian, item.scheme, options.gptq, "layer '" + item.layer.weight + "'", &gptq);
    report.dead_columns = gptq.dead_columns;
    return q;
  }
  if (options.transform == Transform::awq && options.awq.clip_search && stats != nullptr)
    return quantize_clip_searched(weight.data(), n, k, *stats->hessian, item.scheme, options.awq);
  return quantize_rtn(weight.data(), n, k, item.scheme, options.rtn);
}

// Whether calibration sees the layer as one linear product (every layer but a grouped convolution).
bool observable(const Selected& item) { return item.layer.conv_groups <= 1; }

// Runs the block once to collect every layer's statistics.
calibration::LinearStatsCollector observe(calibration::BlockwiseRunner& runner, size_t block, const std::vector<const Selected*>& layers,
                                          int64_t samples) {
  std::map<std::string, calibration::StatsRequest> requests;
  for (const Selected* item : layers) {
    if (!observable(*item)) continue;
    calibration::StatsRequest request;
    request.hessian = true;
    request.channel_ranges = true;
    request.samples = samples;
    requests[item->layer.output] = request;
  }
  calibration::LinearStatsCollector collector(std::move(requests));
  runner.observe(block, collector);
  return collector;
}

// Folds scales into the graph. `row_weights` receives, for each layer that absorbed a scaling into its output
// rows, s_r^2 per row: its errors are reported in the original output units.
void migrate_scales(Graph& graph, const std::vector<const Selected*>& block_layers, calibration::LinearStatsCollector& stats,
                    const QuantizeOptions& options, std::map<std::string, LayerReport*>& reports,
                    std::map<std::string, std::vector<double>>& row_weights) {
  std::vector<LinearLayer> layers;
  for (const Selected* item : block_layers) layers.push_back(item->layer);
  for (const InputGroup& group : input_groups(graph, layers)) {
    if (group.absorber == InputGroup::Absorber::none) continue;
    const LinearLayer& first = layers[group.layers.front()];
    const calibration::LinearStats& input = stats.stats(first.output);
    const int64_t k = first.in_features;
    std::vector<double> scales;
    if (options.transform == Transform::awq) {
      std::vector<std::vector<float>> weights;
      std::vector<AwqLayerView> views;
      for (size_t l : group.layers) weights.push_back(read_weight(graph, layers[l]));
      for (size_t i = 0; i < group.layers.size(); ++i) views.push_back(AwqLayerView{weights[i].data(), layers[group.layers[i]].out_features});
      std::vector<double> mean_abs(input.abs_sum.size());
      for (size_t j = 0; j < mean_abs.size(); ++j) mean_abs[j] = input.abs_sum[j] / static_cast<double>(std::max<int64_t>(input.tokens, 1));
      const AwqScales found = search_awq_scales(views, k, mean_abs, *input.hessian, block_layers[group.layers.front()]->scheme, options.awq);
      for (size_t l : group.layers) reports.at(layers[l].output)->awq_alpha = found.alpha;
      if (found.alpha == 0.0) continue;
      scales = found.scales;
    } else {
      std::vector<double> weight_max(static_cast<size_t>(k), 0.0);
      for (size_t l : group.layers) {
        const auto weight = read_weight(graph, layers[l]);
        for (int64_t row = 0; row < layers[l].out_features; ++row)
          for (int64_t j = 0; j < k; ++j)
            weight_max[static_cast<size_t>(j)] = std::max<double>(weight_max[static_cast<size_t>(j)], std::fabs(weight[static_cast<size_t>(row * k + j)]));
      }
      scales = smoothquant_scales(input.abs_max, weight_max, options.smoothquant);
      for (size_t l : group.layers) reports.at(layers[l].output)->smoothed = true;
    }
    fold_channel_scales(graph, group, layers, scales);
    if (group.absorber == InputGroup::Absorber::linear) {
      auto& weights = row_weights[layers[group.absorber_layer].output];
      if (weights.empty()) weights.assign(scales.size(), 1.0);
      for (size_t r = 0; r < scales.size(); ++r) weights[r] *= scales[r] * scales[r];
    }
  }
}

}  // namespace

void apply_method(const std::string& method, QuantizeOptions& options) {
  if (method == "rtn") {
    options.transform = Transform::none;
    options.rounding = Rounding::rtn;
  } else if (method == "gptq") {
    options.transform = Transform::none;
    options.rounding = Rounding::gptq;
  } else if (method == "awq" || method == "awq+gptq") {
    options.transform = Transform::awq;
    options.rounding = method == "awq" ? Rounding::rtn : Rounding::gptq;
  } else if (method == "smoothquant" || method == "smoothquant+gptq") {
    options.transform = Transform::smoothquant;
    options.rounding = method == "smoothquant" ? Rounding::rtn : Rounding::gptq;
    // SmoothQuant is a W8A8 method: 8-bit per-channel symmetric weights, int8 activations (per token unless the
    // caller chose per-tensor static).
    if (options.scheme.activations == ActivationMode::float_) options.scheme.activations = ActivationMode::int8_dynamic;
    options.scheme.bits = 8;
    options.scheme.group_size = 0;
    options.scheme.symmetric = true;
  } else {
    throw Error(ErrorCategory::usage, "unknown quantization method '" + method +
                                          "' (expected rtn, gptq, awq, smoothquant, awq+gptq or smoothquant+gptq)");
  }
}

QuantizeReport quantize_graph(Graph& graph, const calibration::Dataset* data, const QuantizeOptions& options, const std::string& method_name,
                              const QuantizeHooks& hooks) {
  const auto start = Clock::now();
  QuantizeReport report;
  report.method = method_name;
  report.calibration = data ? data->description : "none";
  constants_to_initializers(graph);  // weights exported as Constant nodes are weights too
  std::vector<Selected> selected = select_layers(graph, options, report);
  const bool needs_data = options.rounding == Rounding::gptq || options.transform != Transform::none ||
                          std::any_of(selected.begin(), selected.end(), [](const Selected& s) { return s.scheme.activations == ActivationMode::int8_static; });
  if (needs_data && (data == nullptr || data->samples.empty()))
    throw Error(ErrorCategory::usage, "quantization method '" + method_name + "' needs calibration data (--calib)");

  std::map<std::string, LayerReport*> reports;
  report.layers.reserve(selected.size());
  for (const Selected& item : selected) {
    LayerReport layer;
    layer.name = item.layer.weight;
    layer.scope = graph.nodes[item.layer.node].scope;
    layer.op = graph.nodes[item.layer.node].qualified_op();
    layer.out_features = item.layer.out_features;
    layer.in_features = item.layer.in_features;
    layer.scheme = describe(item.scheme);
    report.layers.push_back(layer);
    reports[item.layer.output] = &report.layers.back();
  }

  if (data == nullptr || data->samples.empty()) {
    for (const Selected& item : selected) {
      const auto layer_start = Clock::now();
      const auto weight = read_weight(graph, item.layer);
      rewrite_to_qlinear(graph, item.layer, quantize_rtn(weight.data(), item.layer.out_features, item.layer.in_features, item.scheme, options.rtn), item.scheme);
      reports.at(item.layer.output)->seconds = seconds_since(layer_start);
    }
    remove_unused_initializers(graph);
    report.seconds = seconds_since(start);
    return report;
  }

  calibration::BlockwiseRunner runner(graph, *data);
  const auto& blocks = runner.blocks();
  report.blocks = static_cast<int64_t>(blocks.size());
  size_t first = 0;
  if (hooks.resume != nullptr) {
    first = hooks.resume->next_block;
    runner.restore(first, hooks.resume->carried);
    report.peak_carried_bytes = hooks.resume->peak_carried_bytes;
  }
  std::map<size_t, const Selected*> by_node;
  for (const Selected& item : selected) by_node[item.layer.node] = &item;
  // Blocks after the last selected layer change nothing: they are not run.
  size_t end = first;
  for (size_t b = first; b < blocks.size(); ++b)
    for (size_t index : blocks[b].nodes)
      if (by_node.count(index)) end = b + 1;
  const int64_t samples = static_cast<int64_t>(data->samples.size());
  std::vector<const LayerReport*> finished;
  std::vector<const Selected*> block_layers;
  size_t block_start = 0;  // finished.size() when the block began
  const auto block_done = [&](size_t b) {
    runner.advance(b);
    for (const Selected* item : block_layers) finished.push_back(reports.at(item->layer.output));
    if (hooks.after_block)
      hooks.after_block(BlockDone{b, end, blocks[b].key, finished.size() - block_start, runner, finished, report.peak_carried_bytes});
  };
  for (size_t b = first; b < end; ++b) {
    block_layers.clear();
    block_start = finished.size();
    for (size_t index : blocks[b].nodes)
      if (const auto it = by_node.find(index); it != by_node.end()) block_layers.push_back(it->second);
    report.peak_carried_bytes = std::max(report.peak_carried_bytes, runner.carried_bytes());
    if (block_layers.empty()) {
      block_done(b);
      continue;
    }
    // Grouped convolutions: round to nearest now, on the original weight.
    std::vector<const Selected*> observed;
    for (const Selected* item : block_layers) {
      if (observable(*item)) {
        observed.push_back(item);
        continue;
      }
      const auto layer_start = Clock::now();
      const auto weight = read_weight(graph, item->layer);
      rewrite_to_qlinear(graph, item->layer, quantize_rtn(weight.data(), item->layer.out_features, item->layer.in_features, item->scheme, options.rtn),
                         item->scheme);
      reports.at(item->layer.output)->seconds = seconds_since(layer_start);
      finished.push_back(reports.at(item->layer.output));
    }
    block_layers = std::move(observed);
    if (block_layers.empty()) {
      block_done(b);
      continue;
    }
    calibration::LinearStatsCollector original = observe(runner, b, block_layers, samples);
    for (const Selected* item : block_layers) {
      const auto& stats = original.stats(item->layer.output);
      LayerReport& layer = *reports.at(item->layer.output);
      const auto weight = read_weight(graph, item->layer);
      const int64_t n = item->layer.out_features, k = item->layer.in_features;
      layer.tokens = stats.tokens;
      layer.rtn_error = stats.hessian->output_error(weight.data(), quantize_rtn(weight.data(), n, k, item->scheme).dequantize().data(), n);
      const std::vector<float> zeros(weight.size(), 0.0f);
      layer.output_energy = stats.hessian->output_error(weight.data(), zeros.data(), n);
    }
    calibration::LinearStatsCollector current = std::move(original);
    std::map<std::string, std::vector<double>> row_weights;
    if (options.transform != Transform::none) {
      migrate_scales(graph, block_layers, current, options, reports, row_weights);
      current = observe(runner, b, block_layers, samples);  // statistics of the scaled activations
    }
    for (const Selected* item : block_layers) {
      const auto layer_start = Clock::now();
      const auto& stats = current.stats(item->layer.output);
      LayerReport& layer = *reports.at(item->layer.output);
      const auto weight = read_weight(graph, item->layer);
      const QuantizedWeight quantized = round_weight(weight, *item, &stats, options, layer);
      const auto weighted = row_weights.find(item->layer.output);
      const std::vector<float> dequantized = quantized.dequantize();
      const std::vector<double>* rows = weighted == row_weights.end() ? nullptr : &weighted->second;
      layer.error = stats.hessian->output_error(weight.data(), dequantized.data(), item->layer.out_features, rows);
      const std::vector<float> zeros(weight.size(), 0.0f);
      layer.quantized_energy = stats.hessian->output_error(zeros.data(), dequantized.data(), item->layer.out_features, rows);
      QLinearExtras extras;
      if (item->scheme.activations == ActivationMode::int8_static) {
        const double range = stats.abs_max_overall();
        extras.activation_scale = static_cast<float>(range > 0.0 ? range / 127.0 : 1.0);
      }
      rewrite_to_qlinear(graph, item->layer, quantized, item->scheme, extras);
      layer.seconds = seconds_since(layer_start);
    }
    block_done(b);
  }
  remove_unused_initializers(graph);
  report.seconds = seconds_since(start);
  return report;
}

}  // namespace edgec::quant
