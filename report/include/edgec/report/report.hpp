#pragma once
// The accuracy-diff report of one compile: what was compiled for which device, how long each stage took,
// how much each compressed layer's output moved, how the size changed per component, the end-to-end metrics
// against the fp32 reference, and whether the verify gates passed. Plain data filled by the caller; JSON
// (report_json.hpp) and HTML (report_html.hpp) are views of it. Field meanings: docs/reports.md.
#include <cstdint>
#include <limits>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace edgec::report {

// The JSON schema identifier. Additive changes keep "/1"; removing or renaming a field bumps it.
inline constexpr std::string_view schema_version = "edgec.report/1";

// Which part of a multimodal model a layer or a byte belongs to (derived by the caller from the model's
// component prefixes).
enum class Component { vision, projector, language, other };

std::string_view component_name(Component component);                  // "vision", "projector", ...
std::optional<Component> component_from_name(std::string_view name);   // nullopt for an unknown name

enum class Status { passed, failed };
std::string_view status_name(Status status);  // "passed" | "failed"
std::optional<Status> status_from_name(std::string_view name);

// A verify gate's comparison: the actual value must be at most / at least the threshold.
enum class GateOp { at_most, at_least };
std::string_view gate_op_symbol(GateOp op);  // "<=" | ">="
std::optional<GateOp> gate_op_from_symbol(std::string_view symbol);

struct StageTiming {
  std::string name;  // pipeline stage, e.g. "calibrate", "quantize", "export"
  std::string pass;  // the pass run in it, e.g. "gptq" ("" when the stage is not a pass)
  double seconds = 0.0;

  bool operator==(const StageTiming&) const = default;
};

// One compressed layer. The three output metrics compare the layer's output on the calibration data
// before (y) and after (y_hat) compression; see output_error.hpp for how to compute them.
struct LayerReport {
  std::string name;   // the weight or node name
  std::string scope;  // the module path, e.g. language_model.model.layers.3.self_attn.q_proj
  Component component = Component::other;
  std::string op;     // the op after compression, e.g. "edgec.QLinear"
  int64_t out_features = 0;
  int64_t in_features = 0;
  std::string scheme;  // e.g. "w4 g32 asym f16"
  std::string method;  // e.g. "gptq"
  double relative_mse = 0.0;  // ||y - y_hat||^2 / ||y||^2
  double cosine = 1.0;        // cosine between y and y_hat, flattened
  double snr_db = std::numeric_limits<double>::infinity();  // 10 log10(||y||^2 / ||y - y_hat||^2); +inf: identical
  double error = 0.0;         // the pass's own error measure (libquant: mean per-token ||W x - W_hat x||^2)
  std::optional<double> rtn_error;  // the same for plain round-to-nearest, when the pass computed it

  bool operator==(const LayerReport&) const = default;
};

struct ComponentSize {
  Component component = Component::other;
  uint64_t bytes_before = 0;
  uint64_t bytes_after = 0;

  bool operator==(const ComponentSize&) const = default;
};

// An end-to-end metric of the compiled model next to the fp32 reference's.
struct Metric {
  std::string name;                 // "perplexity", "kl", "top1_agreement", "accuracy", ...
  std::optional<double> reference;  // the fp32 model's value, when measured
  double value = 0.0;               // the compiled model's value
  std::string unit;                 // "" when unitless, e.g. "nats/token", "%"
  std::string description;          // one line for humans, e.g. "held-out wikitext, 16 windows of 256"
  bool higher_is_better = false;

  bool operator==(const Metric&) const = default;
};

struct Latency {
  double reference_ms = 0.0;  // fp32 reference, per sample
  double compiled_ms = 0.0;   // compiled artifact, per sample
  int64_t samples = 0;
  int64_t threads = 0;

  bool operator==(const Latency&) const = default;
};

struct Gate {
  std::string metric;  // the Metric::name it checks
  GateOp op = GateOp::at_most;
  double threshold = 0.0;
  double actual = 0.0;
  bool passed = false;

  bool operator==(const Gate&) const = default;
};

struct CompileReport {
  std::string edgec_version;
  std::string recipe_path;
  std::string recipe_sha256;  // hex digest of the recipe file's bytes
  std::string model_name;
  std::string model_path;
  std::string target;  // device profile name
  Status status = Status::passed;
  std::vector<StageTiming> stages;  // in execution order
  std::vector<LayerReport> layers;  // in graph order
  std::vector<ComponentSize> sizes;
  std::vector<Metric> metrics;
  std::optional<Latency> latency;
  std::vector<Gate> gates;
  std::vector<std::string> notes;

  // Field-wise; a NaN field compares unequal, like the double it is.
  bool operator==(const CompileReport&) const = default;
};

// Whether `actual` satisfies `op threshold`. NaN never passes.
bool gate_passes(GateOp op, double threshold, double actual);

// A gate with `passed` computed from the other fields.
Gate make_gate(std::string metric, GateOp op, double threshold, double actual);

// passed when every gate passed (also when there are none), else failed.
Status status_of(const std::vector<Gate>& gates);

uint64_t total_bytes_before(const CompileReport& report);
uint64_t total_bytes_after(const CompileReport& report);

}  // namespace edgec::report
