#pragma once
// What `edgec compile` measures for its report (compile_command.cpp): per-layer output errors, sizes per model
// component, golden samples for the on-device runner, end-to-end metrics of the compiled graph against the
// original, and the recipe's verify gates over them.
#include <string>
#include <vector>

#include "edgec/calibration/dataset.hpp"
#include "edgec/core/model.hpp"
#include "edgec/formats/edgepack.hpp"
#include "edgec/pipeline/recipe.hpp"
#include "edgec/quant/quantize_graph.hpp"
#include "edgec/report/report.hpp"

namespace edgec::cli {

// The report row of one quantized layer: relative MSE, cosine and SNR of its output on the calibration tokens,
// from the layer's Hessian (NaN when the stage ran without calibration data).
report::LayerReport layer_report(const Model& model, const quant::LayerReport& layer, const std::string& method);

// Bytes of every constant before (`original`) and after (`compiled`), per component of `model`.
std::vector<report::ComponentSize> component_sizes(const Model& model, const Graph& original, const Graph& compiled);

// The first `count` calibration samples with the compiled graph's outputs and their tolerances.
std::vector<GoldenSample> golden_samples(const Graph& compiled, const calibration::Dataset& data, int64_t count);

// End-to-end metrics and latency into `report`: perplexity / KL / top-1 agreement for a causal LM on
// verify.data's tokens; caption accuracy for a VLM on a verify.data eval folder; otherwise the outputs' relative
// error and top-1 agreement on calibration samples. Always the artifact size.
void measure_end_to_end(const pipeline::Recipe& recipe, const Model& model, const Graph& original, const Graph& compiled,
                        const calibration::Dataset* data, report::CompileReport& report);

// One gate per verify key the recipe sets; a gate on a metric that was not measured fails (actual NaN).
std::vector<report::Gate> verify_gates(const pipeline::Verify& verify, const report::CompileReport& report);

}  // namespace edgec::cli
