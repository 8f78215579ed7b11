// `edgec run`: execute a model once on inputs from files, or generate text (LMs) / captions (VLMs) with the
// KV cache, printing outputs or writing them to .npy, with --json timings. See docs/cli.md.
#include <chrono>
#include <cstdio>
#include <filesystem>
#include <iostream>
#include <nlohmann/json.hpp>
#include <numeric>

#include "commands.hpp"
#include "edgec/core/error.hpp"
#include "edgec/formats/caption_eval_set.hpp"
#include "edgec/formats/edgepack.hpp"
#include "edgec/formats/generation_config.hpp"
#include "edgec/formats/load.hpp"
#include "edgec/formats/side_files.hpp"
#include "edgec/runtime/executor.hpp"
#include "edgec/runtime/generation.hpp"
#include "edgec/runtime/tokenizers.hpp"
#include "golden_check.hpp"
#include "profile_report.hpp"
#include "tensor_files.hpp"

namespace edgec::cli {
namespace {

using Json = nlohmann::ordered_json;
namespace fs = std::filesystem;
using Clock = std::chrono::steady_clock;

struct RunArgs {
  std::string model;
  std::vector<std::string> inputs, shapes, outputs;
  int64_t generate = -1;
  std::string prompt_ids, eval_dir, tokenizer;
  int64_t image_index = -1;
  double temperature = 0.0, top_p = 1.0;
  int64_t top_k = 0;
  uint64_t seed = 0;
  bool no_kv_cache = false;
  bool json = false;
  bool golden = false;
  bool profile = false;
  bool no_optimize = false;
  int64_t repeat = 1;
};

double ms_since(Clock::time_point start) { return std::chrono::duration<double, std::milli>(Clock::now() - start).count(); }

std::string format_ms(double value) {
  char text[32];
  std::snprintf(text, sizeof text, "%.3f", value);
  return text;
}

// Text for generated ids when a tokenizer is known: --tokenizer, else the first of tok512.bin / tokenizer.bin /
// vocab.txt among the model's side files (carried by an artifact, or beside the model).
std::optional<std::string> decode_text(const RunArgs& args, const SideFiles& side, const std::vector<int64_t>& prompt,
                                       const std::vector<int64_t>& ids, const std::vector<int64_t>& stops) {
  std::optional<runtime::WordVocab> vocab;
  std::optional<runtime::Llama2cTokenizer> tokenizer;
  if (!args.tokenizer.empty()) {
    const fs::path file = args.tokenizer;
    if (file.extension() == ".txt") vocab = runtime::WordVocab::load(file);
    else tokenizer = runtime::Llama2cTokenizer::load(file);
  } else {
    for (const std::string name : {"tok512.bin", "tokenizer.bin", "vocab.txt"}) {
      const auto bytes = side.read(name);
      if (!bytes) continue;
      if (name == "vocab.txt") vocab = runtime::WordVocab::parse(*bytes, side.describe(name));
      else tokenizer = runtime::Llama2cTokenizer::parse(*bytes, side.describe(name));
      break;
    }
  }
  if (vocab) return vocab->decode(ids, stops);
  if (!tokenizer) return std::nullopt;
  std::vector<int64_t> shown = ids;
  if (!shown.empty() && std::find(stops.begin(), stops.end(), shown.back()) != stops.end()) shown.pop_back();
  return tokenizer->decode(shown, prompt.empty() ? 1 : prompt.back());
}

void run_generation(const RunArgs& args, const Model& model, double load_ms) {
  const SideFiles side(args.model);
  const auto config = side.generation_config();
  auto lm = runtime::make_causal_model(model, config.image_token_index.value_or(3), !args.no_kv_cache);

  std::vector<int64_t> prompt;
  runtime::HostTensor pixels;
  if (!args.eval_dir.empty()) {
    const auto set = formats::load_caption_eval_set(args.eval_dir, args.image_index < 0 ? 0 : args.image_index, 1);
    pixels = runtime::HostTensor::from_values<float>(DType::f32, set.image_dims, set.pixels);
    prompt = set.template_ids;
  }
  if (!args.prompt_ids.empty()) prompt = read_token_ids(args.prompt_ids);
  if (prompt.empty()) prompt.push_back(config.bos_token_id.value_or(1));
  if (lm->takes_images() && !pixels.defined())
    throw Error(ErrorCategory::usage, "edgec run: this model needs an image: give --eval DIR --image-index K");

  runtime::GenerationOptions options;
  options.max_new_tokens = args.generate >= 0 ? args.generate : config.max_new_tokens.value_or(32);
  options.stop_tokens = config.eos_token_ids;
  options.sampling = {args.temperature, args.top_k, args.top_p, args.seed};
  runtime::Profile prefill_profile, decode_profile;
  if (args.profile) lm->set_profiles(&prefill_profile, &decode_profile);
  const auto result = runtime::generate(*lm, {prompt}, pixels.defined() ? &pixels : nullptr, options);
  const auto& tokens = result.tokens.at(0);
  const auto text = decode_text(args, side, prompt, tokens, options.stop_tokens);

  const auto& t = result.timings;
  const double decode_total = std::accumulate(t.decode_ms.begin(), t.decode_ms.end(), 0.0);
  const double per_token = t.decode_ms.empty() ? 0.0 : decode_total / static_cast<double>(t.decode_ms.size());
  if (args.json) {
    Json report{{"model", args.model},
                {"prompt_tokens", prompt.size()},
                {"tokens", tokens},
                {"stopped", result.stopped.at(0) != 0},
                {"text", text ? Json(*text) : Json(nullptr)},
                {"timings",
                 {{"load_ms", load_ms},
                  {"prefill_ms", t.prefill_ms},
                  {"ttft_ms", t.prefill_ms},
                  {"decode_ms_per_token", per_token},
                  {"decode_tokens_per_s", per_token > 0 ? 1000.0 / per_token : 0.0},
                  {"decode_ms", t.decode_ms},
                  {"total_ms", load_ms + t.prefill_ms + decode_total}}}};
    if (args.image_index >= 0) report["image_index"] = args.image_index;
    if (args.profile) report["profile"] = {{"prefill", profile_json(prefill_profile)}, {"decode", profile_json(decode_profile)}};
    std::cout << report.dump(2) << '\n';
    return;
  }
  if (text) std::cout << *text << '\n';
  else {
    for (size_t i = 0; i < tokens.size(); ++i) std::cout << (i ? " " : "") << tokens[i];
    std::cout << '\n';
  }
  if (args.profile) {
    print_profile(std::cout, "profile of the prefill (" + std::to_string(prompt.size()) + " prompt tokens)", prefill_profile);
    print_profile(std::cout, "profile of " + std::to_string(t.decode_ms.size()) + " decode steps", decode_profile);
  }
}

void print_tensor(const std::string& name, const runtime::HostTensor& tensor) {
  std::cout << name << ": " << runtime::describe(tensor) << '\n';
  if (!dtype_is_float(tensor.dtype()) && !dtype_is_integer(tensor.dtype())) return;
  const auto values = tensor.to_f64();
  const size_t shown = std::min<size_t>(values.size(), 64);
  for (size_t i = 0; i < shown; ++i) std::cout << (i ? " " : "  ") << values[i];
  if (shown < values.size()) std::cout << " ... (" << values.size() << " values; --output " << name << "=FILE.npy for all)";
  std::cout << '\n';
}

void run_graph(const RunArgs& args, const Model& model, double load_ms) {
  if (model.graphs.size() != 1)
    throw Error(ErrorCategory::usage, "edgec run: " + args.model + " holds " + std::to_string(model.graphs.size()) +
                                          " graphs; run one .onnx file, or use --generate / --eval for a VLM folder");
  const Graph& graph = model.graphs[0];
  std::map<std::string, std::vector<int64_t>> shapes;
  for (const auto& text : args.shapes) {
    const auto [name, dims] = split_assignment(text, "--shape");
    shapes[name] = parse_dims(dims, "--shape " + name);
  }
  std::map<std::string, runtime::HostTensor> feeds;
  for (const auto& text : args.inputs) {
    const auto [name, file] = split_assignment(text, "--input");
    const auto shape = shapes.count(name) ? std::optional(shapes.at(name)) : std::nullopt;
    feeds[name] = read_tensor_file(file, shape);
  }
  std::map<std::string, std::string> output_files;
  runtime::RunOptions options;
  for (const auto& text : args.outputs) {
    const auto [name, file] = split_assignment(text, "--output");
    output_files[name] = file;
  }
  for (const auto& info : graph.outputs) options.outputs.push_back(info.name);
  for (const auto& [name, file] : output_files)
    if (std::find(options.outputs.begin(), options.outputs.end(), name) == options.outputs.end()) options.outputs.push_back(name);
  const runtime::Executor executor(graph, nullptr, runtime::ExecutorOptions{!args.no_optimize});
  runtime::Profile profile;
  if (args.profile) options.profile = &profile;
  // --repeat N: the first run's outputs are kept; run_ms is the median of the N runs (a warm-up run comes first
  // when N > 1, so weights are paged in and buffers allocated).
  if (args.repeat > 1) {
    runtime::RunOptions warm = options;
    warm.profile = nullptr;
    (void)executor.run(feeds, warm);
  }
  std::map<std::string, runtime::HostTensor> results;
  std::vector<double> times;
  for (int64_t r = 0; r < args.repeat; ++r) {
    const auto start = Clock::now();
    auto outputs = executor.run(feeds, options);
    times.push_back(ms_since(start));
    if (r == 0) results = std::move(outputs);
  }
  std::vector<double> sorted = times;
  std::sort(sorted.begin(), sorted.end());
  const double run_ms = sorted[sorted.size() / 2];
  for (const auto& [name, file] : output_files) write_npy(file, results.at(name));
  if (args.json) {
    Json outputs = Json::array();
    for (const auto& [name, tensor] : results)
      outputs.push_back({{"name", name}, {"dtype", std::string(dtype_name(tensor.dtype()))}, {"shape", tensor.dims()},
                         {"file", output_files.count(name) ? Json(output_files.at(name)) : Json(nullptr)}});
    Json report{{"model", args.model}, {"outputs", outputs}, {"timings", {{"load_ms", load_ms}, {"run_ms", run_ms}}}};
    if (args.repeat > 1) report["timings"]["run_ms_all"] = times;
    if (args.profile) {
      report["profile"] = profile_json(profile);
      const auto& o = executor.optimize_report();
      report["profile"]["optimizer"] = {{"folded", o.folded}, {"chains", o.chains}, {"chain_nodes", o.chain_nodes}, {"epilogues", o.epilogues}};
    }
    std::cout << report.dump(2) << '\n';
    return;
  }
  for (const auto& [name, tensor] : results)
    if (!output_files.count(name)) print_tensor(name, tensor);
  if (args.repeat > 1) std::cout << "run: median " << format_ms(run_ms) << " ms of " << args.repeat << " runs (after a warm-up run)\n";
  if (args.profile) {
    const auto& o = executor.optimize_report();
    std::cout << "optimizer: " << o.folded << " nodes folded into constants, " << o.chain_nodes << " element-wise nodes fused into "
              << o.chains << " chains (" << o.epilogues << " of them into the Conv/MatMul/Gemm before them)\n";
    print_profile(std::cout, "profile (" + std::to_string(args.repeat) + (args.repeat == 1 ? " run)" : " runs)"), profile);
  }
}

std::string format_number(double value) {
  char text[32];
  std::snprintf(text, sizeof text, "%.3g", value);
  return text;
}

// --golden: the artifact's golden samples, replayed and compared within their tolerances.
void run_golden(const RunArgs& args) {
  const auto start = Clock::now();
  const EdgepackContents contents = read_edgepack(args.model);
  if (contents.extras.golden.empty())
    throw_input_error(args.model, "holds no golden samples (compile it with calibration data and output.golden_samples > 0)");
  const auto checks = check_golden(contents.graph, contents.extras.golden, args.model);
  const double run_ms = ms_since(start);
  std::string failures;
  Json rows = Json::array();
  for (const auto& check : checks) {
    const std::string bound = format_number(check.tolerance.abs) + " + " + format_number(check.tolerance.rel) + " |expected|";
    rows.push_back({{"sample", check.sample}, {"output", check.output}, {"shape", check.dims}, {"elements", check.elements},
                    {"outside", check.outside}, {"max_abs_diff", check.max_diff}, {"tolerance_abs", check.tolerance.abs},
                    {"tolerance_rel", check.tolerance.rel}, {"passed", check.passed()}});
    if (!args.json)
      std::cout << "golden " << check.sample << " " << check.output << ": max |diff| " << format_number(check.max_diff) << " (allowed " << bound
                << "), " << check.outside << " of " << check.elements << " outside: " << (check.passed() ? "ok" : "FAILED") << '\n';
    if (!check.passed())
      failures += "\n  sample '" + check.sample + "' output '" + check.output + "': " + std::to_string(check.outside) + " of " +
                  std::to_string(check.elements) + " elements outside " + bound + " (worst at " + std::to_string(check.worst) + ": got " +
                  format_number(check.got) + ", expected " + format_number(check.expected) + ")";
  }
  if (args.json)
    std::cout << Json{{"model", args.model}, {"golden", rows}, {"passed", failures.empty()}, {"timings", {{"run_ms", run_ms}}}}.dump(2) << '\n';
  else if (failures.empty())
    std::cout << "golden: all " << contents.extras.golden.size() << " samples reproduce their outputs\n";
  if (!failures.empty()) throw Error(ErrorCategory::accuracy, args.model + ": golden samples not reproduced:" + failures);
}

}  // namespace

void add_run_command(CLI::App& app, Action& action) {
  auto* command = app.add_subcommand("run", "Execute a model on inputs, or generate tokens / captions with a KV cache");
  auto args = std::make_shared<RunArgs>();
  command->add_option("MODEL", args->model, "An .onnx file or folder, a Hugging Face folder or an .edgepack artifact")->required();
  command->add_option("--input", args->inputs, "name=FILE (.npy, raw .f32/.i64 with --shape, token ids .i32); repeatable");
  command->add_option("--shape", args->shapes, "name=D0,D1,... for a raw input file; repeatable");
  command->add_option("--output", args->outputs, "name=FILE.npy: write that value (graph output or intermediate); repeatable");
  command->add_option("--generate", args->generate, "Generate up to N new tokens (LMs and VLMs)")->check(CLI::NonNegativeNumber);
  command->add_option("--prompt-ids", args->prompt_ids, "Prompt token ids (.i32 raw or .npy); default BOS");
  command->add_option("--temperature", args->temperature, "0 = greedy (default)")->check(CLI::NonNegativeNumber);
  command->add_option("--top-k", args->top_k, "Sample from the k most likely tokens (0 = all)")->check(CLI::NonNegativeNumber);
  command->add_option("--top-p", args->top_p, "Nucleus sampling mass")->check(CLI::Range(0.0, 1.0));
  command->add_option("--seed", args->seed, "Random seed for sampling");
  command->add_flag("--no-kv-cache", args->no_kv_cache, "Rerun the full sequence at every step (reference)");
  command->add_option("--eval", args->eval_dir, "A VLM eval folder (test_pixel_values.f32, prompt_template_ids.i32)");
  command->add_option("--image-index", args->image_index, "Image K of --eval to caption")->check(CLI::NonNegativeNumber);
  command->add_option("--tokenizer", args->tokenizer,
                      "tok512.bin (llama2.c) or vocab.txt; default: carried by the artifact, or found next to the model");
  command->add_flag("--json", args->json, "Machine-readable output with timings");
  command->add_flag("--profile", args->profile,
                    "Time every node: per-op and per-node totals after the outputs (with --json: a \"profile\" object); "
                    "with --generate, the prefill and the decode steps apart");
  command->add_flag("--no-optimize", args->no_optimize,
                    "Run the graph as it is: no constant folding, no fused element-wise chains (plain runs; the outputs are the same bits)");
  command->add_option("--repeat", args->repeat, "Run the graph N times after a warm-up run and report the median time (plain runs)")
      ->check(CLI::PositiveNumber);
  command->add_flag("--golden", args->golden,
                    "Replay an .edgepack's golden samples and check every output within its tolerance (exit 3 when one is not reproduced)");
  command->callback([&action, args] {
    action = [args] {
      if (args->image_index >= 0 && args->eval_dir.empty())
        throw Error(ErrorCategory::usage, "edgec run: --image-index needs --eval DIR");
      const bool generating = args->generate >= 0 || !args->eval_dir.empty() || !args->prompt_ids.empty();
      if (generating && !args->inputs.empty())
        throw Error(ErrorCategory::usage, "edgec run: --input is for plain runs; generation takes --prompt-ids / --eval");
      if (args->golden) {
        if (generating || !args->inputs.empty() || !args->outputs.empty())
          throw Error(ErrorCategory::usage, "edgec run: --golden replays the artifact's own inputs; it takes no --input, --output or generation options");
        return run_golden(*args);
      }
      const auto start = Clock::now();
      const Model model = load_model(args->model);
      const double load_ms = ms_since(start);
      if (generating) run_generation(*args, model, load_ms);
      else run_graph(*args, model, load_ms);
    };
  });
}

}  // namespace edgec::cli
