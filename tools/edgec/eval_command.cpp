// `edgec eval MODEL --task TASK --data ...`:
//  - vlm-caption: greedy-captions the eval set in batches (every image shares the prompt template, so each batch is
//    one prefill) and prints the metrics of the model's fp32_metrics.json;
//  - lm-perplexity: perplexity of a causal LM over non-overlapping windows of a token file and, with --reference,
//    the mean KL(reference || model) per token and the top-1 agreement (runtime/lm_eval.hpp).
#include <algorithm>
#include <chrono>
#include <filesystem>
#include <iostream>
#include <nlohmann/json.hpp>
#include <optional>

#include "commands.hpp"
#include "edgec/core/error.hpp"
#include "edgec/formats/caption_eval_set.hpp"
#include "edgec/formats/generation_config.hpp"
#include "edgec/formats/load.hpp"
#include "edgec/formats/side_files.hpp"
#include "edgec/runtime/caption_eval.hpp"
#include "edgec/runtime/generation.hpp"
#include "edgec/runtime/lm_eval.hpp"
#include "edgec/runtime/tokenizers.hpp"
#include "tensor_files.hpp"

namespace edgec::cli {
namespace {

namespace fs = std::filesystem;
using Json = nlohmann::ordered_json;

struct EvalArgs {
  std::string model, task, data, reference;
  int64_t limit = -1, batch = 64, window = 256;
  bool json = false;
  bool batch_given = false, window_given = false;  // set after parsing: options that belong to one task only
};

void run_caption_eval(const EvalArgs& args) {
  if (!args.reference.empty() || args.window_given)
    throw Error(ErrorCategory::usage, "edgec eval: --reference and --window belong to --task lm-perplexity");
  const auto start = std::chrono::steady_clock::now();
  const SideFiles side(args.model);  // carried by an artifact, else beside the model
  const auto config = side.generation_config();
  const Model model = load_model(args.model);
  auto lm = runtime::make_causal_model(model, config.image_token_index.value_or(3));
  const auto set = formats::load_caption_eval_set(args.data, 0, args.limit);
  if (set.captions.empty() || set.fields.empty())
    throw_input_error(args.data, "needs test_captions.txt and test_fields.i32 to score captions");
  const auto vocab = runtime::WordVocab::parse(side.require("vocab.txt", "the word vocabulary is needed to decode captions"),
                                               side.describe("vocab.txt"));
  runtime::GenerationOptions options;
  options.max_new_tokens = config.max_new_tokens.value_or(16);
  options.stop_tokens = config.eos_token_ids;
  const auto generated = runtime::caption_images(*lm, set.pixels, set.image_dims, set.template_ids, args.batch, options);
  runtime::CaptionMetrics metrics;
  for (size_t i = 0; i < generated.size(); ++i)
    metrics.add(vocab.decode(generated[i], options.stop_tokens), set.captions[i],
                runtime::CaptionFields{set.fields[3 * i], set.fields[3 * i + 1], set.fields[3 * i + 2]});
  const double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  const Json report{{"n", metrics.n},
                    {"exact_acc", metrics.rate(metrics.exact)},
                    {"brightness_acc", metrics.rate(metrics.brightness)},
                    {"size_acc", metrics.rate(metrics.size)},
                    {"class_acc", metrics.rate(metrics.label)},
                    {"parse_fail", metrics.rate(metrics.parse_fail)},
                    {"backend", "edgec-" + model.format},
                    {"model", args.model},
                    {"batch", args.batch},
                    {"seconds", seconds}};
  if (args.json) {
    std::cout << report.dump(2) << '\n';
    return;
  }
  std::cout << "model:          " << args.model << " (" << model.format << ")\n"
            << "images:         " << metrics.n << '\n';
  for (const char* key : {"exact_acc", "class_acc", "brightness_acc", "size_acc", "parse_fail"})
    std::cout << key << std::string(16 - std::string(key).size(), ' ') << report[key].get<double>() << '\n';
  std::cout << "seconds:        " << seconds << '\n';
}

// The model's one causal LM graph (inputs input_ids and position_ids, output logits); Error(input) naming `path`.
const Graph& language_model(const Model& model, const std::string& path) {
  if (model.graphs.size() != 1)
    throw_input_error(path, "holds " + std::to_string(model.graphs.size()) +
                                " graphs; --task lm-perplexity needs one causal LM graph (input_ids, position_ids -> logits)");
  const Graph& graph = model.graphs[0];
  const auto named = [](const std::vector<ValueInfo>& values, std::string_view name) {
    return std::any_of(values.begin(), values.end(), [&](const ValueInfo& v) { return v.name == name; });
  };
  if (!named(graph.inputs, "input_ids") || !named(graph.inputs, "position_ids") || !named(graph.outputs, "logits"))
    throw_input_error(path, "graph '" + graph.name + "' is not a causal LM (needs inputs input_ids, position_ids and output logits)");
  if (named(graph.inputs, "pixel_values"))
    throw_input_error(path, "graph '" + graph.name + "' takes pixel_values; --task lm-perplexity scores text-only causal LMs");
  return graph;
}

std::vector<int64_t> read_token_stream(const fs::path& file) {
  if (!fs::exists(file)) throw_input_error(file.string(), "no such file (expected token ids: raw int32 .i32 or .npy)");
  if (fs::is_directory(file)) throw_input_error(file.string(), "is a folder; --task lm-perplexity reads a token file (raw int32 .i32 or .npy)");
  return read_token_ids(file);
}

void run_lm_eval(const EvalArgs& args) {
  if (args.batch_given) throw Error(ErrorCategory::usage, "edgec eval: --batch belongs to --task vlm-caption");
  if (args.window < 2) throw Error(ErrorCategory::usage, "edgec eval: --window must be at least 2 tokens, got " + std::to_string(args.window));
  const auto start = std::chrono::steady_clock::now();
  const auto tokens = read_token_stream(args.data);
  const Model model = load_model(args.model);
  const Graph& graph = language_model(model, args.model);
  std::optional<Model> reference;
  if (!args.reference.empty()) reference = load_model(args.reference);
  const Graph* reference_graph = reference ? &language_model(*reference, args.reference) : nullptr;
  const runtime::LmEvalOptions options{.window = args.window, .limit = args.limit, .source = args.data};
  const runtime::LmEvalResult r = runtime::evaluate_lm(graph, reference_graph, std::span<const int64_t>(tokens), options);
  const double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();

  Json report{{"windows", r.windows}, {"predictions", r.predictions}, {"nll", r.nll}, {"perplexity", r.perplexity}};
  if (r.has_reference) {
    report["reference_nll"] = r.reference_nll;
    report["reference_perplexity"] = r.reference_perplexity;
    report["kl"] = r.kl;
    report["top1_agreement"] = r.top1_agreement;
  }
  report["window"] = args.window;
  report["tokens"] = tokens.size();
  report["model"] = args.model;
  report["reference"] = args.reference.empty() ? Json(nullptr) : Json(args.reference);
  report["data"] = args.data;
  report["seconds"] = seconds;
  if (args.json) {
    std::cout << report.dump(2) << '\n';
    return;
  }
  const auto line = [](const std::string& key) -> std::ostream& { return std::cout << key << std::string(22 - key.size(), ' '); };
  line("model:") << args.model << " (" << model.format << ")\n";
  if (reference) line("reference:") << args.reference << " (" << reference->format << ")\n";
  line("data:") << args.data << " (" << tokens.size() << " tokens)\n";
  line("windows:") << r.windows << " x " << args.window << " tokens\n";
  line("predictions:") << r.predictions << '\n';
  line("nll:") << r.nll << " nats/token\n";
  line("perplexity:") << r.perplexity << '\n';
  if (r.has_reference) {
    line("reference_perplexity:") << r.reference_perplexity << '\n';
    line("kl:") << r.kl << " nats/token (reference || model)\n";
    line("top1_agreement:") << r.top1_agreement << '\n';
  }
  line("seconds:") << seconds << '\n';
}

void run_eval(const EvalArgs& args) {
  if (args.task == "vlm-caption") return run_caption_eval(args);
  if (args.task == "lm-perplexity") return run_lm_eval(args);
  throw Error(ErrorCategory::usage, "edgec eval: unknown --task '" + args.task + "' (supported: vlm-caption, lm-perplexity)");
}

}  // namespace

void add_eval_command(CLI::App& app, Action& action) {
  auto* command = app.add_subcommand("eval", "Measure a model's accuracy on an eval folder or a token stream");
  auto args = std::make_shared<EvalArgs>();
  command->add_option("MODEL", args->model,
                      "A Hugging Face folder, an ONNX VLM folder, a causal LM (.onnx / HF folder) or an .edgepack artifact")
      ->required();
  command->add_option("--task", args->task, "vlm-caption or lm-perplexity")->required();
  command->add_option("--data", args->data,
                      "vlm-caption: the eval folder (manifest.json, test_pixel_values.f32, ...); "
                      "lm-perplexity: token ids (raw little-endian int32 .i32, or .npy)")
      ->required();
  command->add_option("--reference", args->reference, "lm-perplexity: the reference model for KL and top-1 agreement");
  auto* window = command->add_option("--window", args->window, "lm-perplexity: tokens per window, at least 2 (default 256)");
  command->add_option("--limit", args->limit, "Only the first N images (vlm-caption) or windows (lm-perplexity)")->check(CLI::PositiveNumber);
  auto* batch = command->add_option("--batch", args->batch, "vlm-caption: images per prefill (default 64)")->check(CLI::PositiveNumber);
  command->add_flag("--json", args->json, "Print the metrics as JSON (vlm-caption: the keys of fp32_metrics.json)");
  command->callback([&action, args, window, batch] {
    args->window_given = window->count() > 0;
    args->batch_given = batch->count() > 0;
    action = [args] { run_eval(*args); };
  });
}

}  // namespace edgec::cli
