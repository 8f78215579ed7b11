// `edgec eval MODEL --task vlm-caption --data DIR`: greedy-captions the eval set in batches (every image shares
// the prompt template, so each batch is one prefill) and prints the metrics of the model's fp32_metrics.json.
#include <chrono>
#include <filesystem>
#include <iostream>
#include <nlohmann/json.hpp>

#include "commands.hpp"
#include "edgec/core/error.hpp"
#include "edgec/formats/caption_eval_set.hpp"
#include "edgec/formats/generation_config.hpp"
#include "edgec/formats/load.hpp"
#include "edgec/runtime/caption_eval.hpp"
#include "edgec/runtime/generation.hpp"
#include "edgec/runtime/tokenizers.hpp"

namespace edgec::cli {
namespace {

namespace fs = std::filesystem;
using Json = nlohmann::ordered_json;

struct EvalArgs {
  std::string model, task, data;
  int64_t limit = -1, batch = 64;
  bool json = false;
};

fs::path config_folder(const fs::path& model) {
  const fs::path dir = fs::is_directory(model) ? model : model.parent_path();
  if (fs::exists(dir / "config.json")) return dir;
  return dir.parent_path();
}

void run_eval(const EvalArgs& args) {
  if (args.task != "vlm-caption") throw Error(ErrorCategory::usage, "edgec eval: unknown --task '" + args.task + "' (supported: vlm-caption)");
  const auto start = std::chrono::steady_clock::now();
  const fs::path folder = config_folder(args.model);
  const auto config = hf::read_generation_config(folder);
  const Model model = load_model(args.model);
  auto lm = runtime::make_causal_model(model, config.image_token_index.value_or(3));
  const auto set = formats::load_caption_eval_set(args.data, 0, args.limit);
  if (set.captions.empty() || set.fields.empty())
    throw_input_error(args.data, "needs test_captions.txt and test_fields.i32 to score captions");
  const auto vocab = runtime::WordVocab::load(folder / "vocab.txt");
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

}  // namespace

void add_eval_command(CLI::App& app, Action& action) {
  auto* command = app.add_subcommand("eval", "Measure a model's accuracy on an eval folder");
  auto args = std::make_shared<EvalArgs>();
  command->add_option("MODEL", args->model, "A Hugging Face folder or an ONNX VLM folder")->required();
  command->add_option("--task", args->task, "vlm-caption")->required();
  command->add_option("--data", args->data, "The eval folder (manifest.json, test_pixel_values.f32, ...)")->required();
  command->add_option("--limit", args->limit, "Only the first N images")->check(CLI::PositiveNumber);
  command->add_option("--batch", args->batch, "Images per prefill (default 64)")->check(CLI::PositiveNumber);
  command->add_flag("--json", args->json, "Print the metrics as JSON (the keys of fp32_metrics.json)");
  command->callback([&action, args] { action = [args] { run_eval(*args); }; });
}

}  // namespace edgec::cli
