// Calibration data for `edgec quantize` and `edgec compile` (calibration_source.hpp).
#include "calibration_source.hpp"

#include <algorithm>
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

calibration::Dataset load_calibration(const CalibrationSource& args, const fs::path& model_folder, const Graph& graph, const std::string& who,
                                      const CalibrationProgress& progress) {
  const auto report = [&progress](const std::string& unit) -> calibration::LoadProgress {
    if (!progress) return {};
    return [&progress, unit](int64_t done, int64_t total) { progress(unit, done, total); };
  };
  if (args.kind == "generated") {
    const auto config = hf::read_generation_config(model_folder);
    return calibration::generated_text(graph, config.bos_token_id.value_or(1), {args.samples, args.seq_len, args.seed}, report("tokens"));
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
      calibration::extend_with_model_answers(set, graph, args.answer_tokens, config.eos_token_ids, report("answers"));
    }
    return set;
  }
  if (kind == "images") {
    // A model reading token ids (a VLM) takes each image with its prompt; a vision model takes it alone, as its
    // one image input.
    const bool reads_tokens = std::any_of(graph.inputs.begin(), graph.inputs.end(), [](const ValueInfo& v) { return v.name == "input_ids"; });
    const ValueInfo* image_input = nullptr;
    for (const ValueInfo& input : graph.inputs)
      if (!graph.initializer(input.name) && input.type.shape && input.type.shape->size() == 4 && (!image_input || input.name == "pixel_values"))
        image_input = &input;
    if (image_input == nullptr) throw Error(ErrorCategory::usage, who + ": image calibration data, but the model has no 4-D image input");
    if (reads_tokens && args.prompt_ids.empty())
      throw Error(ErrorCategory::usage, who + ": image calibration data needs prompt ids (--prompt-ids FILE / calibration.prompt_ids: the token ids fed with each image)");
    if (!reads_tokens && !args.prompt_ids.empty())
      throw Error(ErrorCategory::usage, who + ": prompt ids given, but the model reads no input_ids (it takes the image '" + image_input->name + "' alone)");
    if (!reads_tokens && args.answer_tokens > 0)
      throw Error(ErrorCategory::usage, who + ": answer tokens asked for, but the model generates no text (it reads no input_ids)");
    const std::vector<Dim>& dims = *image_input->type.shape;
    const int64_t channels = dims[1].known() ? dims[1].value : 3;
    const auto config = model_folder / "preprocessor_config.json";
    calibration::Preprocess preprocess;
    if (fs::exists(config)) {
      preprocess = calibration::read_preprocess(config, channels);
    } else {
      preprocess.channels = channels;
      preprocess.height = dims[2].known() ? dims[2].value : 0;
      preprocess.width = dims[3].known() ? dims[3].value : 0;
    }
    if (!args.mean.empty()) preprocess.mean = args.mean;
    if (!args.std.empty()) preprocess.std = args.std;
    if (args.height > 0) preprocess.height = args.height;
    if (args.width > 0) preprocess.width = args.width;
    if (preprocess.height <= 0 || preprocess.width <= 0)
      throw Error(ErrorCategory::usage, who + ": the model's input '" + image_input->name +
                                            "' has no fixed height and width and there is no preprocessor_config.json: give calibration.preprocessing.resize");
    calibration::ImagePrompts options{args.samples, args.seed, reads_tokens ? read_i32_ids(args.prompt_ids) : std::vector<int64_t>{}, image_input->name};
    auto set = calibration::image_prompts(data, preprocess, options);
    if (args.answer_tokens > 0) {
      const auto generation = hf::read_generation_config(model_folder);
      calibration::extend_with_model_answers(set, graph, args.answer_tokens, generation.eos_token_ids, report("answers"));
    }
    return set;
  }
  throw Error(ErrorCategory::usage, who + ": unknown calibration kind '" + kind + "' (auto, tokens, vlm-eval, images, generated)");
}

}  // namespace edgec::cli
