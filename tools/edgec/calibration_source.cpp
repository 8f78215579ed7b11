// Calibration data for `edgec quantize` and `edgec compile` (calibration_source.hpp).
#include "calibration_source.hpp"

#include <fstream>

#include "edgec/core/error.hpp"
#include "edgec/formats/generation_config.hpp"
#include "edgec/formats/side_files.hpp"

namespace edgec::cli {

namespace fs = std::filesystem;

namespace {

std::vector<int64_t> read_i32_ids(const fs::path& file) {
  std::ifstream in(file, std::ios::binary);
  if (!in) throw_input_error(file.string(), "cannot open (expected raw int32 token ids)");
  std::vector<int64_t> ids;
  int32_t value;
  while (in.read(reinterpret_cast<char*>(&value), 4)) ids.push_back(value);
  if (in.gcount() != 0) throw_input_error(file.string(), "size is not a multiple of 4 bytes (raw int32 token ids)");
  if (ids.empty()) throw_input_error(file.string(), "no token ids");
  return ids;
}

}  // namespace

fs::path config_folder(const fs::path& model) { return side_file_folder(model); }

calibration::Dataset load_calibration(const CalibrationSource& args, const fs::path& model_folder, const Graph& graph, const std::string& who) {
  if (args.kind == "generated") {
    const auto config = hf::read_generation_config(model_folder);
    return calibration::generated_text(graph, config.bos_token_id.value_or(1), {args.samples, args.seq_len, args.seed});
  }
  const fs::path data = args.data;
  if (!fs::exists(data)) throw_input_error(data.string(), "no such calibration file or folder");
  std::string kind = args.kind;
  if (kind == "auto") {
    const auto ext = data.extension().string();
    if (fs::is_directory(data) && fs::exists(data / "manifest.json") && fs::exists(data / "test_pixel_values.f32")) kind = "vlm-eval";
    else if (ext == ".i32" || ext == ".i64" || ext == ".npy") kind = "tokens";
    else kind = "images";
  }
  if (kind == "tokens") return calibration::token_windows(data, {args.samples, args.seq_len, args.seed});
  if (kind == "vlm-eval") {
    auto set = calibration::vlm_eval_images(data, args.samples, args.seed);
    if (args.answer_tokens > 0) {
      const auto config = hf::read_generation_config(model_folder);
      calibration::extend_with_model_answers(set, graph, args.answer_tokens, config.eos_token_ids);
    }
    return set;
  }
  if (kind == "images") {
    if (args.prompt_ids.empty())
      throw Error(ErrorCategory::usage, who + ": image calibration data needs prompt ids (--prompt-ids FILE / calibration.prompt_ids: the token ids fed with each image)");
    const auto config = model_folder / "preprocessor_config.json";
    auto preprocess = calibration::read_preprocess(config, 1);
    if (!args.mean.empty()) preprocess.mean = args.mean;
    if (!args.std.empty()) preprocess.std = args.std;
    if (args.height > 0) preprocess.height = args.height;
    if (args.width > 0) preprocess.width = args.width;
    calibration::ImagePrompts options{args.samples, args.seed, read_i32_ids(args.prompt_ids)};
    auto set = calibration::image_prompts(data, preprocess, options);
    if (args.answer_tokens > 0) {
      const auto generation = hf::read_generation_config(model_folder);
      calibration::extend_with_model_answers(set, graph, args.answer_tokens, generation.eos_token_ids);
    }
    return set;
  }
  throw Error(ErrorCategory::usage, who + ": unknown calibration kind '" + kind + "' (auto, tokens, vlm-eval, images, generated)");
}

}  // namespace edgec::cli
