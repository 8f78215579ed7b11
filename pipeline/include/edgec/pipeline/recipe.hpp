#pragma once
// A recipe: what `edgec compile recipe.yaml` does to a model, read from YAML by a strict validator. The grammar
// (every key, type, default and range) and the error format are specified in docs/recipes.md.
//
// Every problem found is reported at once, sorted by position, one per line as `FILE:LINE:COL: message` (or
// `--set ARG: message` for a value given on the command line), in one Error(usage): the CLI exits with 2.
#include <array>
#include <cstdint>
#include <filesystem>
#include <optional>
#include <string>
#include <variant>
#include <vector>

#include "edgec/quant/scheme.hpp"

namespace edgec::pipeline {

// Where a value was written: a position in the recipe file, or a `--set` argument.
struct SourceRef {
  std::string file;          // the recipe path as the user passed it
  int line = 0, column = 0;  // 1-based; 0 when unknown (the message then starts with the file alone)
  std::string set_argument;  // "stages.0.bits=3" when the value came from `--set`, else ""

  // "recipe.yaml:3:7", "recipe.yaml" or "--set stages.0.bits=3": what an error message starts with.
  std::string prefix() const;
};

enum class ModelFormat { auto_detect, onnx, hf };

struct ModelSpec {
  std::filesystem::path path;  // resolved against the recipe's folder (a `--set` value: the current folder)
  ModelFormat format = ModelFormat::auto_detect;
  SourceRef where;
};

enum class CalibrationKind { auto_detect, tokens, vlm_eval, images, generated };
enum class PixelLayout { nchw, nhwc };

// Overrides of the image preprocessing the model's preprocessor_config.json describes (images only).
struct Preprocessing {
  std::optional<std::array<int64_t, 2>> resize;  // [height, width]
  std::vector<float> mean, std;                  // per channel (one value: every channel)
  std::optional<double> rescale;                 // pixel scale before mean/std (the image loader: 1/255)
  PixelLayout layout = PixelLayout::nchw;
  SourceRef where, rescale_where, layout_where;
};

struct Calibration {
  std::filesystem::path dataset;               // empty for kind generated
  CalibrationKind kind = CalibrationKind::auto_detect;
  CalibrationKind resolved_kind = CalibrationKind::auto_detect;  // auto resolved from the dataset's path
  int64_t samples = 128;
  int64_t seq_len = 256;
  uint64_t seed = 0;
  std::filesystem::path prompt_ids;             // images: the token ids fed with each image
  int64_t answer_tokens = 0;
  std::optional<Preprocessing> preprocessing;
  SourceRef where;
};

// A layer pattern: a glob (`*`, `?`, matched against the whole name) or `re:REGEX` (searched), tried against a
// layer's weight name, scope and node name (edgec::quant::name_matches).
struct Pattern {
  std::string text;
  SourceRef where;
};

// A per-layer scheme: the stage's scheme with some keys replaced. The first override whose targets match wins.
struct SchemeOverride {
  std::vector<Pattern> targets;
  quant::WeightScheme scheme;
  SourceRef where;
  std::optional<SourceRef> bits_where, group_where;  // where the override sets them; nullopt: inherited from the stage
};

struct QuantizeStage {
  std::string method = "rtn";       // rtn, gptq, awq, smoothquant, awq+gptq, smoothquant+gptq
  quant::WeightScheme scheme;       // with the method's implied settings (SmoothQuant: W8 per-channel sym, int8 act.)
  bool allow_partial_groups = false;
  bool mse_clip = false;
  double clip_norm = 2.0;
  double damp = 0.01;
  int64_t block = 128;
  bool act_order = true;
  double alpha = 0.5;
  std::vector<Pattern> targets;     // empty: every linear layer (edgec::quant::find_linear_layers)
  std::vector<Pattern> ignore;
  std::vector<SchemeOverride> overrides;
  SourceRef method_where, bits_where, group_where, targets_where;

  // Whether the method needs calibration data (everything but plain RTN with float or per-token activations).
  bool needs_calibration() const;
};

// One entry of `stages`. `params` grows an alternative per pass kind (prune.* later).
struct Stage {
  using Params = std::variant<QuantizeStage>;
  std::string name;  // "stage<i>" unless given
  std::string pass;  // "quantize"
  Params params;
  SourceRef where, name_where;
};

struct Target {
  std::string device = "x86-64";    // a name of device_profiles() (device_profile.hpp)
  std::optional<int> threads;
  SourceRef where, device_where;
};

enum class Compression { none, zstd };

struct Output {
  std::filesystem::path path;       // default: the recipe's stem + ".edgepack", beside the recipe
  Compression compression = Compression::none;
  int64_t golden_samples = 4;
  std::filesystem::path report;     // default: path + ".report.json"
  std::filesystem::path html;       // default: path + ".report.html"
};

// Accuracy, size and latency gates the compiled artifact must pass (exit code 3 when one fails).
struct Verify {
  std::optional<double> max_kl, min_top1, max_perplexity, min_accuracy, max_accuracy_drop, max_size_mb, max_latency_ms;
  std::optional<int64_t> samples;
  std::filesystem::path data;       // the evaluation data; required by the accuracy gates
  SourceRef where;
};

struct Recipe {
  std::string file;                 // as the user passed it (error messages start with it)
  std::filesystem::path folder;     // relative paths inside the recipe are resolved against it
  int version = 1;
  ModelSpec model;
  std::optional<Calibration> calibration;
  std::vector<Stage> stages;
  Target target;
  Output output;
  std::optional<Verify> verify;
};

// Parses and validates `yaml`. `display_path` starts every error message; relative paths of the recipe are
// resolved against `folder`. `set_arguments` ("a.b.c=value", "stages.0.bits=3") are applied to the YAML tree
// before validation. Missing files named by the recipe (model, dataset, prompt_ids, verify.data) are errors.
// Throws Error(usage) listing every problem found.
Recipe parse_recipe(const std::string& yaml, const std::string& display_path, const std::filesystem::path& folder,
                    const std::vector<std::string>& set_arguments = {});

// Reads the recipe file at `path` (as the user typed it) and parses it; relative paths resolve against its folder.
// Error(usage) when the file cannot be read.
Recipe load_recipe(const std::string& path, const std::vector<std::string>& set_arguments = {});

const char* to_string(ModelFormat format);
const char* to_string(CalibrationKind kind);
const char* to_string(PixelLayout layout);
const char* to_string(Compression compression);
const char* to_string(quant::ActivationMode mode);  // "float", "int8-dynamic", "int8-static"

}  // namespace edgec::pipeline
