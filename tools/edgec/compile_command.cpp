// `edgec compile recipe.yaml`: the recipe (pipeline/: strict parse, preflight against the model's shapes), then
// calibration, every stage in order, the .edgepack artifact (formats/edgepack) with provenance and golden
// samples, and the accuracy-diff report as JSON and HTML (report/). Verify gates that fail exit with 3 after the
// artifact and report are written, so a CI job keeps both for inspection.
#include <sys/resource.h>

#include <chrono>
#include <cmath>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <optional>
#include <sstream>

#include "calibration_source.hpp"
#include "commands.hpp"
#include "compile_checkpoint.hpp"
#include "compile_metrics.hpp"
#include "edgec/core/error.hpp"
#include "edgec/core/parallel.hpp"
#include "edgec/core/sha256.hpp"
#include "edgec/formats/edgepack.hpp"
#include "edgec/formats/load.hpp"
#include "edgec/formats/side_files.hpp"
#include "edgec/pipeline/device_profile.hpp"
#include "edgec/pipeline/preflight.hpp"
#include "edgec/pipeline/progress.hpp"
#include "edgec/pipeline/recipe.hpp"
#include "edgec/quant/quantize_graph.hpp"
#include "edgec/report/report_html.hpp"
#include "edgec/report/report_json.hpp"

namespace edgec::cli {
namespace {

namespace fs = std::filesystem;
using Clock = std::chrono::steady_clock;

struct CompileArgs {
  std::string recipe, output;
  std::vector<std::string> sets;
  bool dry_run = false, resume = false, json = false, quiet = false;
  int threads = 0;
};

double seconds_since(Clock::time_point start) { return std::chrono::duration<double>(Clock::now() - start).count(); }

// Adds `seconds` to the stage's row (a resumed compile continues the rows its checkpoint carried).
void add_stage_time(report::CompileReport& rep, const std::string& stage, const std::string& method, double seconds) {
  for (auto& row : rep.stages)
    if (row.name == stage) {
      row.seconds += seconds;
      return;
    }
  rep.stages.push_back({stage, method, seconds});
}

std::string read_text(const fs::path& path) {
  std::ifstream in(path, std::ios::binary);
  std::stringstream text;
  text << in.rdbuf();
  return text.str();
}

// Writes `text` to `path` through a temporary file in the same folder (no half-written report ever).
void write_atomically(const fs::path& path, const std::string& text) {
  const fs::path folder = path.parent_path().empty() ? fs::path(".") : path.parent_path();
  fs::create_directories(folder);
  const fs::path temp = folder / ("." + path.filename().string() + ".tmp");
  {
    std::ofstream out(temp, std::ios::binary | std::ios::trunc);
    out << text;
    out.close();
    if (!out) {
      std::error_code ignored;
      fs::remove(temp, ignored);
      throw_input_error(path.string(), "cannot write");
    }
  }
  fs::rename(temp, path);
}

// The device profile as the artifact records it: what its kernels run, so a runner can refuse a target mismatch.
std::map<std::string, std::string> target_properties(const pipeline::Target& target) {
  std::map<std::string, std::string> properties;
  const pipeline::DeviceProfile* profile = pipeline::find_device_profile(target.device);
  if (profile == nullptr) return properties;
  properties["description"] = std::string(profile->description);
  std::string bits, activations;
  for (const int b : profile->weight_bits) bits += (bits.empty() ? "" : ",") + std::to_string(b);
  for (const quant::ActivationMode mode : profile->activation_modes)  // the recipe's spelling of each mode
    activations += std::string(activations.empty() ? "" : ",") +
                   (mode == quant::ActivationMode::int8_dynamic ? "int8-dynamic" : mode == quant::ActivationMode::int8_static ? "int8-static" : "float");
  properties["weight_bits"] = bits;
  properties["activations"] = activations;
  if (target.threads) properties["threads"] = std::to_string(*target.threads);
  return properties;
}

// The compile's measured peak memory next to preflight's estimate of calibration's (docs/recipes.md).
std::string memory_note(const pipeline::Plan& plan) {
  rusage usage{};
  ::getrusage(RUSAGE_SELF, &usage);
  char text[160];
  std::snprintf(text, sizeof text, "peak memory (RSS) %.1f MB; preflight estimated %.1f MB for calibration", static_cast<double>(usage.ru_maxrss) / 1024.0,
                static_cast<double>(plan.calibration_peak_bytes) / 1e6);
  return text;
}

CalibrationSource calibration_source(const pipeline::Calibration& c) {
  CalibrationSource source;
  source.kind = pipeline::to_string(c.resolved_kind == pipeline::CalibrationKind::auto_detect ? c.kind : c.resolved_kind);
  source.data = c.dataset;
  source.prompt_ids = c.prompt_ids;
  source.samples = c.samples;
  source.seq_len = c.seq_len;
  source.seed = c.seed;
  source.answer_tokens = c.answer_tokens;
  if (c.preprocessing) {
    source.mean = c.preprocessing->mean;
    source.std = c.preprocessing->std;
    if (c.preprocessing->resize) {
      source.height = (*c.preprocessing->resize)[0];
      source.width = (*c.preprocessing->resize)[1];
    }
  }
  return source;
}

// sha256 of every file the model was read from, and of the calibration data (a folder: each file in it).
std::vector<EdgepackInputFile> input_hashes(const Model& model, const pipeline::Recipe& recipe) {
  std::vector<EdgepackInputFile> inputs;
  for (const fs::path& file : model.files) inputs.push_back({"model", file.string(), sha256_file(file)});
  const auto add_data = [&](const std::string& role, const fs::path& path) {
    if (path.empty() || !fs::exists(path)) return;
    if (!fs::is_directory(path)) {
      inputs.push_back({role, path.string(), sha256_file(path)});
      return;
    }
    std::vector<fs::path> files;
    for (const auto& entry : fs::recursive_directory_iterator(path))
      if (entry.is_regular_file()) files.push_back(entry.path());
    std::sort(files.begin(), files.end());
    for (const fs::path& file : files) inputs.push_back({role, file.string(), sha256_file(file)});
  };
  if (recipe.calibration) {
    add_data("calibration", recipe.calibration->dataset);
    add_data("calibration prompt ids", recipe.calibration->prompt_ids);
  }
  if (recipe.verify) add_data("verify data", recipe.verify->data);
  return inputs;
}

void run_compile(const CompileArgs& args) {
  const auto start = Clock::now();
  // Progress for humans on stderr (a bar on a terminal, lines otherwise); stdout stays for --json.
  const pipeline::ProgressStyle style = pipeline::detect_progress_style(args.quiet || args.json);
  pipeline::Progress progress(style, std::cerr, "edgec compile: ", style == pipeline::ProgressStyle::bar ? pipeline::terminal_width() : 80);
  const auto log = [&progress](const std::string& line) { progress.log(line); };
  std::vector<std::string> sets = args.sets;
  if (!args.output.empty()) sets.push_back("output.path=" + args.output);
  const pipeline::Recipe recipe = pipeline::load_recipe(args.recipe, sets);
  const std::string recipe_text = read_text(args.recipe);

  const auto load_start = Clock::now();
  Model model = load_model(recipe.model.path);
  // Weights exported as Constant nodes (PP-OCR) are weights for preflight, the sizes and the passes alike.
  for (Graph& g : model.graphs) constants_to_initializers(g);
  const pipeline::Plan plan = pipeline::preflight(recipe, model);
  const double load_seconds = seconds_since(load_start);
  if (args.dry_run) {
    if (args.json) std::cout << pipeline::plan_to_json(plan).dump(2) << '\n';
    else std::cout << pipeline::plan_to_text(plan);
    return;
  }
  const int threads = args.threads > 0 ? args.threads : recipe.target.threads.value_or(0);
  // --threads, else the recipe's target.threads, else the command's pool (every CPU).
  std::optional<ThreadPool> own_pool;
  std::optional<ParallelScope> own_scope;
  if (threads > 0 && threads != parallel_threads()) {
    own_pool.emplace(threads);
    own_scope.emplace(&*own_pool);
  }
  // The artifact's folder must be writable before any calibration time is spent.
  const fs::path out = recipe.output.path;
  fs::create_directories(out.parent_path().empty() ? fs::path(".") : out.parent_path());

  // What the result depends on: a checkpoint from anything else is refused, before any calibration.
  std::string recipe_identity = recipe_text;
  for (const auto& set : sets) recipe_identity += "\n--set " + set;
  const CompileFingerprint fingerprint{EDGEC_VERSION, sha256_hex(std::string_view(recipe_identity)), input_hashes(model, recipe)};
  const fs::path checkpoint_file = checkpoint_path(out);
  remove_stale_temporaries(out);
  remove_stale_temporaries(checkpoint_file);
  std::optional<CompileCheckpoint> resumed;
  if (args.resume && fs::exists(checkpoint_file)) {
    resumed = read_checkpoint(checkpoint_file);
    check_fingerprint(resumed->state.fingerprint, fingerprint, checkpoint_file);
    log("resuming from " + checkpoint_file.string() + ": stage " + recipe.stages.at(resumed->state.stage).name + ", block " +
        std::to_string(resumed->state.next_block));
  } else if (args.resume) {
    log("no checkpoint at " + checkpoint_file.string() + ": starting from the beginning");
  } else if (fs::exists(checkpoint_file)) {
    log("starting over: the checkpoint " + checkpoint_file.string() + " of an earlier run will be replaced (--resume continues from it)");
  }

  report::CompileReport rep;
  if (resumed) {
    rep = resumed->state.report;
    rep.notes.push_back("resumed from a checkpoint at stage '" + recipe.stages.at(resumed->state.stage).name + "', block " +
                        std::to_string(resumed->state.next_block));
  }
  rep.edgec_version = EDGEC_VERSION;
  rep.recipe_path = args.recipe;
  rep.recipe_sha256 = sha256_hex(std::string_view(recipe_text));
  rep.model_name = recipe.model.path.filename().string();
  rep.model_path = recipe.model.path.string();
  rep.target = recipe.target.device;
  add_stage_time(rep, "load", "", load_seconds);

  const Graph original = model.graphs.at(0);
  Graph& graph = model.graphs[0];
  const fs::path folder = config_folder(recipe.model.path);
  std::optional<calibration::Dataset> data;
  const bool needs_data = std::any_of(recipe.stages.begin(), recipe.stages.end(), [](const pipeline::Stage& stage) {
    return std::get<pipeline::QuantizeStage>(stage.params).needs_calibration();
  });
  if (recipe.calibration && (needs_data || recipe.output.golden_samples > 0)) {
    const auto calib_start = Clock::now();
    log("calibration data: " + (recipe.calibration->dataset.empty() ? std::string("generated by the model") : recipe.calibration->dataset.string()));
    // Generated text and model answers run the model: a bar (or a line every 10 s) while they do.
    std::string unit;
    const double interval = style == pipeline::ProgressStyle::bar ? 0.1 : 10.0;
    const CalibrationProgress on_progress = [&](const std::string& what, int64_t done, int64_t total) {
      if (what != unit) progress.begin("calibrate", unit = what, interval);
      progress.update(static_cast<size_t>(done), static_cast<size_t>(total), "");
    };
    data = load_calibration(calibration_source(*recipe.calibration), folder, original, recipe.file, on_progress);
    progress.end();
    add_stage_time(rep, "calibrate", "", seconds_since(calib_start));
  }

  size_t first_stage = 0;
  std::optional<quant::QuantizeResume> resume_point;
  if (resumed) {
    first_stage = resumed->state.stage;
    graph = std::move(resumed->graph);
    resume_point = quant::QuantizeResume{resumed->state.next_block, std::move(resumed->carried), resumed->state.peak_carried_bytes};
    resumed.reset();
  }
  double checkpoint_seconds = 0.0;  // writing --resume checkpoints, reported as a stage of its own
  for (size_t s = first_stage; s < recipe.stages.size(); ++s) {
    const pipeline::Stage& stage = recipe.stages[s];
    const pipeline::StagePlan& stage_plan = plan.stages.at(s);
    const auto& params = std::get<pipeline::QuantizeStage>(stage.params);
    log("stage " + stage.name + ": " + params.method + ", " + std::to_string(stage_plan.layers.size()) + " layers");
    const auto stage_start = Clock::now();
    double stage_checkpoint_seconds = 0.0;
    quant::QuantizeHooks hooks;
    if (resume_point && s == first_stage) hooks.resume = &*resume_point;
    // After every block that changed the graph: a checkpoint --resume continues from, written atomically.
    progress.begin(stage.name, "blocks");
    hooks.after_block = [&](const quant::BlockDone& done) {
      progress.update(done.block + 1, done.blocks, done.key);
      if (done.quantized == 0) return;
      CheckpointState state{fingerprint, s, done.runner.next_block(), done.peak_carried_bytes, rep};
      add_stage_time(state.report, stage.name, params.method, seconds_since(stage_start) - stage_checkpoint_seconds);
      for (const quant::LayerReport* layer : done.finished) state.report.layers.push_back(layer_report(model, *layer, params.method));
      const auto checkpoint_start = Clock::now();
      write_checkpoint(state, graph, done.runner.carried(), checkpoint_file);
      stage_checkpoint_seconds += seconds_since(checkpoint_start);
    };
    const bool calibrated = params.needs_calibration() && data;
    const quant::QuantizeReport result = quant::quantize_graph(graph, calibrated ? &*data : nullptr, stage_plan.options, params.method, hooks);
    progress.end();
    add_stage_time(rep, stage.name, params.method, seconds_since(stage_start) - stage_checkpoint_seconds);
    checkpoint_seconds += stage_checkpoint_seconds;
    for (const auto& layer : result.layers) rep.layers.push_back(layer_report(model, layer, params.method));
  }

  if (checkpoint_seconds > 0) add_stage_time(rep, "checkpoint", "", checkpoint_seconds);
  const auto verify_start = Clock::now();
  log("verify: the compiled model against the original");
  rep.sizes = component_sizes(model, original, graph);
  std::vector<GoldenSample> golden;
  if (data) golden = golden_samples(graph, *data, recipe.output.golden_samples);
  measure_end_to_end(recipe, model, original, graph, data ? &*data : nullptr, rep);
  if (recipe.verify) rep.gates = verify_gates(*recipe.verify, rep);
  rep.status = report::status_of(rep.gates);
  rep.stages.push_back({"verify", "", seconds_since(verify_start)});

  const auto export_start = Clock::now();
  EdgepackExtras extras;
  extras.model = edgepack_model_info(model);
  extras.target.device = recipe.target.device;
  extras.target.properties = target_properties(recipe.target);
  extras.provenance.edgec_version = EDGEC_VERSION;
  extras.provenance.recipe = recipe_text;
  extras.provenance.inputs = fingerprint.inputs;
  extras.golden = std::move(golden);
  extras.files = collect_side_files(folder);
  extras.compression = recipe.output.compression == pipeline::Compression::zstd ? EdgepackCompression::zstd : EdgepackCompression::none;
  write_edgepack(graph, extras, out);
  std::error_code ignored;
  fs::remove(checkpoint_file, ignored);  // the artifact is complete: nothing to resume
  rep.stages.push_back({"export", "", seconds_since(export_start)});
  rep.notes.push_back("artifact " + out.string() + ": " + std::to_string(fs::file_size(out)) + " bytes");
  rep.notes.push_back(memory_note(plan));

  write_atomically(recipe.output.report, report::to_json_text(rep) + "\n");
  write_atomically(recipe.output.html, report::to_html(rep));
  if (args.json) std::cout << report::to_json_text(rep) << '\n';
  log("wrote " + out.string() + " (" + std::to_string(fs::file_size(out)) + " bytes), " + recipe.output.report.string() + ", " +
      recipe.output.html.string() + " in " + std::to_string(seconds_since(start)) + " s");
  std::string failing;
  for (const auto& gate : rep.gates)
    if (!gate.passed)
      failing += "\n  " + gate.metric + " = " + std::to_string(gate.actual) + ", required " + std::string(report::gate_op_symbol(gate.op)) + " " +
                 std::to_string(gate.threshold);
  if (!failing.empty()) throw Error(ErrorCategory::accuracy, recipe.file + ": verify gates failed:" + failing);
}

}  // namespace

void add_compile_command(CLI::App& app, Action& action) {
  auto args = std::make_shared<CompileArgs>();
  CLI::App* cmd = app.add_subcommand("compile", "Compile a model as a recipe says: calibrate, quantize, verify, write one .edgepack and a report");
  cmd->add_option("recipe", args->recipe, "The recipe (YAML; docs/recipes.md)")->required();
  cmd->add_option("-o,--output", args->output, "The artifact to write (overrides output.path)");
  cmd->add_option("--set", args->sets, "key.path=value: override a recipe value before validation (repeatable)");
  cmd->add_flag("--dry-run", args->dry_run, "Stop after preflight and print the plan");
  cmd->add_flag("--resume", args->resume, "Continue from OUTPUT.checkpoint, left by a compile that was interrupted");
  cmd->add_option("--threads", args->threads, "Threads (default: target.threads, else all cores)")->check(CLI::PositiveNumber);
  cmd->add_flag("--json", args->json, "Print the plan (--dry-run) or the report as JSON on stdout");
  cmd->add_flag("--quiet", args->quiet, "No progress lines on stderr");
  cmd->callback([args, &action] { action = [args] { run_compile(*args); }; });
}

}  // namespace edgec::cli
