#pragma once
// Calibration datasets: each sample is one set of graph inputs (a token window, or an image plus its prompt).
// Every loader is deterministic: the same files, counts and seed give the same samples.
#include <cstdint>
#include <filesystem>
#include <functional>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "edgec/core/graph.hpp"
#include "edgec/runtime/host_tensor.hpp"

namespace edgec::calibration {

struct Sample {
  std::map<std::string, runtime::HostTensor> inputs;  // by graph input name
  int64_t tokens = 0;                                  // sequence positions the sample feeds the model
};

struct Dataset {
  std::vector<Sample> samples;
  std::string description;  // what was loaded, for reports ("128 windows of 256 tokens from FILE, seed 0")
};

struct TokenWindows {
  int64_t samples = 128;
  int64_t sequence_length = 256;
  uint64_t seed = 0;
};

// Token ids (.i32 / .i64 raw little-endian, or .npy integers) cut into `samples` windows of
// `sequence_length` tokens at seeded random offsets (as GPTQ's wikitext2 loader); inputs input_ids and
// position_ids [1, L] (i64). Fewer tokens than one window: the whole file is one window.
Dataset token_windows(const std::filesystem::path& file, const TokenWindows& options);

// Image preprocessing: resize (nearest, when the size differs), x/255, then (x - mean) / std per channel.
struct Preprocess {
  int64_t channels = 1, height = 28, width = 28;
  std::vector<float> mean{0.0f}, std{1.0f};
};

// Reads mean/std/size from a Hugging Face preprocessor_config.json (image_mean, image_std, size or
// crop_size, do_rescale). Error(input) naming the file and field when something is missing or malformed.
Preprocess read_preprocess(const std::filesystem::path& preprocessor_config, int64_t channels);

struct ImagePrompts {
  int64_t samples = 128;
  uint64_t seed = 0;
  // The token ids fed with each image (image placeholder tokens included; inputs input_ids, position_ids), or
  // none: a vision model that reads the image alone.
  std::vector<int64_t> prompt_ids;
  std::string input_name = "pixel_values";  // the graph input the image feeds
};

// Images in the VLM eval format (../shared/models/*/eval: test_pixel_values.f32 + prompt_template_ids.i32).
Dataset vlm_eval_images(const std::filesystem::path& eval_dir, int64_t samples, uint64_t seed);
// Images from IDX files (MNIST / Fashion-MNIST, plain or .gz), PNG/JPEG files or a folder of them,
// preprocessed, each with the same prompt. Inputs `input_name` [1,C,H,W] (pixel_values), and with a prompt
// input_ids, position_ids.
Dataset image_prompts(const std::filesystem::path& images, const Preprocess& preprocess, const ImagePrompts& options);

// Text sampled from the model itself (a causal LM graph: input_ids, position_ids -> logits): `samples`
// sequences of `sequence_length` tokens starting at `bos`, temperature 1, seeded. In-distribution calibration
// text when no corpus is at hand, and never the evaluation set.
// `progress(done, total)`: progress in generated positions (optional).
using LoadProgress = std::function<void(int64_t, int64_t)>;
Dataset generated_text(const Graph& graph, int64_t bos, const TokenWindows& options, const LoadProgress& progress = {});

// Appends to every sample's input_ids what the model (fed the sample, images included) generates greedily,
// up to `max_new_tokens` or a stop token, so the calibration also sees the answer tokens (a VLM's captions).
// `progress(done, total)`: samples answered (optional).
void extend_with_model_answers(Dataset& set, const Graph& graph, int64_t max_new_tokens, const std::vector<int64_t>& stop_tokens,
                               const LoadProgress& progress = {});

// Named tensors from .npy files, one sample per file set: inputs[name] = files[i] for sample i.
Dataset tensor_files(const std::map<std::string, std::vector<std::filesystem::path>>& files);

}  // namespace edgec::calibration
