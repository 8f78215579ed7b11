#include "edgec/calibration/dataset.hpp"

#include <zlib.h>

#include <algorithm>
#include <cstring>
#include <fstream>
#include <nlohmann/json.hpp>
#include <numeric>
#include <random>

#include "edgec/core/error.hpp"
#include "edgec/formats/caption_eval_set.hpp"
#include "edgec/formats/image.hpp"
#include "edgec/formats/npy.hpp"
#include "edgec/runtime/generation.hpp"

namespace edgec::calibration {

namespace fs = std::filesystem;
using runtime::HostTensor;

namespace {

std::vector<char> read_file(const fs::path& file) {
  std::ifstream in(file, std::ios::binary);
  if (!in) throw_input_error(file.string(), "cannot open");
  return {std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>()};
}

std::vector<int64_t> read_ids(const fs::path& file) {
  std::vector<int64_t> ids;
  if (file.extension() == ".npy") {
    const Tensor tensor = npy::read(file);
    if (!dtype_is_integer(tensor.dtype())) throw_input_error(file.string(), "token ids must be integers");
    return HostTensor::from_ir(tensor).to_i64();
  }
  const auto bytes = read_file(file);
  const size_t width = file.extension() == ".i64" ? 8 : 4;
  if (bytes.size() % width != 0)
    throw_input_error(file.string(), std::to_string(bytes.size()) + " bytes is not a whole number of " +
                                         std::to_string(width * 8) + "-bit token ids");
  for (size_t at = 0; at < bytes.size(); at += width) {
    if (width == 8) {
      int64_t v;
      std::memcpy(&v, bytes.data() + at, 8);
      ids.push_back(v);
    } else {
      int32_t v;
      std::memcpy(&v, bytes.data() + at, 4);
      ids.push_back(v);
    }
  }
  return ids;
}

HostTensor ids_tensor(const std::vector<int64_t>& ids) {
  return HostTensor::from_values<int64_t>(DType::i64, {1, static_cast<int64_t>(ids.size())}, ids);
}

HostTensor positions_tensor(int64_t length) {
  std::vector<int64_t> positions(static_cast<size_t>(length));
  std::iota(positions.begin(), positions.end(), 0);
  return ids_tensor(positions);
}

Sample token_sample(const std::vector<int64_t>& ids) {
  Sample sample;
  sample.inputs["input_ids"] = ids_tensor(ids);
  sample.inputs["position_ids"] = positions_tensor(static_cast<int64_t>(ids.size()));
  sample.tokens = static_cast<int64_t>(ids.size());
  return sample;
}

// The first `count` of a seeded Fisher-Yates shuffle of [0, total) (our own, so every library gives the same).
std::vector<int64_t> choose(int64_t total, int64_t count, uint64_t seed) {
  std::vector<int64_t> order(static_cast<size_t>(total));
  std::iota(order.begin(), order.end(), 0);
  std::mt19937_64 rng(seed);
  for (int64_t i = total - 1; i > 0; --i) std::swap(order[static_cast<size_t>(i)], order[rng() % static_cast<uint64_t>(i + 1)]);
  order.resize(static_cast<size_t>(std::min(total, count)));
  return order;
}

uint32_t big_endian(const unsigned char* p) {
  return (uint32_t{p[0]} << 24) | (uint32_t{p[1]} << 16) | (uint32_t{p[2]} << 8) | uint32_t{p[3]};
}

// IDX (MNIST) bytes, gunzipped when the file is gzip.
std::vector<unsigned char> read_idx_bytes(const fs::path& file) {
  gzFile in = gzopen(file.string().c_str(), "rb");  // reads plain files too
  if (in == nullptr) throw_input_error(file.string(), "cannot open");
  std::vector<unsigned char> bytes;
  std::vector<unsigned char> chunk(1 << 20);
  int got;
  while ((got = gzread(in, chunk.data(), static_cast<unsigned>(chunk.size()))) > 0)
    bytes.insert(bytes.end(), chunk.begin(), chunk.begin() + got);
  const bool failed = got < 0;
  gzclose(in);
  if (failed) throw_input_error(file.string(), "corrupt gzip data");
  return bytes;
}

struct RawImages {
  int64_t count = 0, channels = 1, height = 0, width = 0;
  std::vector<unsigned char> pixels;  // [count, H, W, C]
};

RawImages read_idx_images(const fs::path& file) {
  auto bytes = read_idx_bytes(file);
  if (bytes.size() < 16 || bytes[0] != 0 || bytes[1] != 0 || bytes[2] != 0x08 || bytes[3] != 3)
    throw_input_error(file.string(), "not an IDX file of unsigned bytes with 3 dimensions (expected magic 0x00000803)");
  RawImages images;
  images.count = big_endian(&bytes[4]);
  images.height = big_endian(&bytes[8]);
  images.width = big_endian(&bytes[12]);
  if (images.count == 0 || images.height == 0 || images.width == 0)
    throw_input_error(file.string(), "IDX header says " + std::to_string(images.count) + " images of " + std::to_string(images.height) +
                                         "x" + std::to_string(images.width) + ": no pixels to calibrate on");
  // Each factor is below 2^32: compare by division so a crafted header cannot wrap the product past 2^64.
  const uint64_t image_bytes = static_cast<uint64_t>(images.height) * static_cast<uint64_t>(images.width);
  const uint64_t data_bytes = bytes.size() - 16;
  if (data_bytes % image_bytes != 0 || data_bytes / image_bytes != static_cast<uint64_t>(images.count))
    throw_input_error(file.string(), "IDX header says " + std::to_string(images.count) + " images of " +
                                         std::to_string(images.height) + "x" + std::to_string(images.width) + " but the data is " +
                                         std::to_string(bytes.size() - 16) + " bytes");
  images.pixels.assign(bytes.begin() + 16, bytes.end());
  return images;
}

bool is_idx(const fs::path& file) {
  const std::string name = file.filename().string();
  return name.find("idx3") != std::string::npos || file.extension() == ".idx";
}

HostTensor preprocess_image(const unsigned char* pixels, int64_t height, int64_t width, int64_t channels, const Preprocess& p) {
  HostTensor out = HostTensor::empty(DType::f32, {1, p.channels, p.height, p.width});
  float* dst = out.mutable_data<float>();
  for (int64_t c = 0; c < p.channels; ++c) {
    const int64_t source_channel = std::min(c, channels - 1);
    const float mean = p.mean[static_cast<size_t>(c) % p.mean.size()], std = p.std[static_cast<size_t>(c) % p.std.size()];
    for (int64_t y = 0; y < p.height; ++y)
      for (int64_t x = 0; x < p.width; ++x) {
        const int64_t sy = y * height / p.height, sx = x * width / p.width;  // nearest
        const float value = static_cast<float>(pixels[(sy * width + sx) * channels + source_channel]) / 255.0f;
        dst[(c * p.height + y) * p.width + x] = (value - mean) / std;
      }
  }
  return out;
}

// The image with its prompt (a VLM), or alone as `input_name` (a vision model: no prompt).
Sample image_sample(HostTensor pixels, const std::vector<int64_t>& prompt, const std::string& input_name = "pixel_values") {
  Sample sample = prompt.empty() ? Sample{} : token_sample(prompt);
  sample.inputs[input_name] = std::move(pixels);
  return sample;
}

}  // namespace

Dataset token_windows(const fs::path& file, const TokenWindows& options) {
  if (options.samples <= 0 || options.sequence_length <= 0)
    throw Error(ErrorCategory::usage, "calibration: samples and sequence length must be positive");
  const auto ids = read_ids(file);
  if (ids.empty()) throw_input_error(file.string(), "no token ids");
  Dataset set;
  const int64_t total = static_cast<int64_t>(ids.size());
  const int64_t length = std::min(options.sequence_length, total);
  // A file no longer than one window is that one window (more samples would all be the same copy of it).
  const int64_t samples = length == total ? 1 : options.samples;
  std::mt19937_64 rng(options.seed);
  for (int64_t i = 0; i < samples; ++i) {
    const int64_t start = static_cast<int64_t>(rng() % static_cast<uint64_t>(total - length + 1));
    set.samples.push_back(token_sample({ids.begin() + start, ids.begin() + start + length}));
  }
  set.description = std::to_string(samples) + (samples == 1 ? " window of " : " windows of ") + std::to_string(length) + " tokens from " +
                    file.string() + " (seed " + std::to_string(options.seed) + ")";
  return set;
}

Preprocess read_preprocess(const fs::path& config_file, int64_t channels) {
  std::ifstream in(config_file);
  if (!in) throw_input_error(config_file.string(), "cannot open");
  nlohmann::json config;
  try {
    config = nlohmann::json::parse(in);
  } catch (const nlohmann::json::exception& e) {
    throw_input_error(config_file.string(), std::string("invalid JSON: ") + e.what());
  }
  Preprocess p;
  p.channels = channels;
  const auto floats = [&](const char* key) {
    const auto it = config.find(key);
    if (it == config.end()) throw_input_error(config_file.string() + ": " + key, "missing");
    if (it->is_number()) return std::vector<float>{it->get<float>()};
    if (!it->is_array() || it->empty()) throw_input_error(config_file.string() + ": " + key, "expected a number or a list of numbers");
    return it->get<std::vector<float>>();
  };
  p.mean = floats("image_mean");
  p.std = floats("image_std");
  for (float s : p.std)
    if (!(s > 0.0f)) throw_input_error(config_file.string() + ": image_std", "must be positive");
  for (const char* key : {"crop_size", "size"}) {
    const auto it = config.find(key);
    if (it == config.end()) continue;
    if (it->is_number_integer()) {
      p.height = p.width = it->get<int64_t>();
    } else if (it->is_object() && it->contains("height") && it->contains("width")) {
      p.height = it->at("height").get<int64_t>();
      p.width = it->at("width").get<int64_t>();
    } else if (it->is_object() && it->contains("shortest_edge")) {
      p.height = p.width = it->at("shortest_edge").get<int64_t>();
    } else {
      throw_input_error(config_file.string() + ": " + key, "expected an integer or {height, width}");
    }
    break;
  }
  if (p.height <= 0 || p.width <= 0 || p.height > 4096 || p.width > 4096)
    throw_input_error(config_file.string() + ": size", "image size outside [1, 4096]");
  return p;
}

Dataset vlm_eval_images(const fs::path& eval_dir, int64_t samples, uint64_t seed) {
  const auto header = formats::load_caption_eval_set(eval_dir, 0, 1);
  Dataset set;
  const int64_t image = header.image_dims[1] * header.image_dims[2] * header.image_dims[3];
  for (int64_t index : choose(header.total, samples, seed)) {
    const auto one = formats::load_caption_eval_set(eval_dir, index, 1);
    set.samples.push_back(image_sample(HostTensor::from_values<float>(DType::f32, one.image_dims, std::span<const float>(one.pixels.data(), static_cast<size_t>(image))),
                                       one.template_ids));
  }
  set.description = std::to_string(set.samples.size()) + " images from " + eval_dir.string() + " (seed " + std::to_string(seed) + ")";
  return set;
}

Dataset image_prompts(const fs::path& images, const Preprocess& preprocess, const ImagePrompts& options) {
  if (options.input_name.empty()) throw Error(ErrorCategory::usage, "calibration: images need the name of the input they feed");
  Dataset set;
  if (fs::is_regular_file(images) && is_idx(images)) {
    const RawImages raw = read_idx_images(images);
    const int64_t size = raw.height * raw.width;
    for (int64_t index : choose(raw.count, options.samples, options.seed))
      set.samples.push_back(image_sample(
          preprocess_image(raw.pixels.data() + index * size, raw.height, raw.width, 1, preprocess), options.prompt_ids, options.input_name));
  } else {
    std::vector<fs::path> files;
    if (fs::is_directory(images)) {
      for (const auto& entry : fs::directory_iterator(images)) {
        const auto ext = entry.path().extension().string();
        if (ext == ".png" || ext == ".jpg" || ext == ".jpeg" || ext == ".PNG" || ext == ".JPG") files.push_back(entry.path());
      }
      std::sort(files.begin(), files.end());
      if (files.empty()) throw_input_error(images.string(), "no .png or .jpg images in this folder");
    } else {
      files.push_back(images);
    }
    for (int64_t index : choose(static_cast<int64_t>(files.size()), options.samples, options.seed)) {
      const Image image = load_image(files[static_cast<size_t>(index)], static_cast<int>(preprocess.channels));
      set.samples.push_back(image_sample(preprocess_image(image.pixels.data(), image.height, image.width, image.channels, preprocess),
                                         options.prompt_ids, options.input_name));
    }
  }
  set.description = std::to_string(set.samples.size()) + " images from " + images.string() + " (seed " + std::to_string(options.seed) + ")";
  return set;
}

Dataset generated_text(const Graph& graph, int64_t bos, const TokenWindows& options, const LoadProgress& progress) {
  if (options.samples <= 0 || options.sequence_length <= 1)
    throw Error(ErrorCategory::usage, "calibration: generated text needs samples > 0 and a sequence length > 1");
  runtime::GraphCausalModel model(graph);
  runtime::GenerationOptions generation;
  generation.max_new_tokens = options.sequence_length - 1;
  generation.sampling.temperature = 1.0;
  generation.sampling.seed = options.seed;
  generation.on_step = progress;
  const runtime::TokenRows prompts(static_cast<size_t>(options.samples), std::vector<int64_t>{bos});
  const auto result = runtime::generate(model, prompts, nullptr, generation);
  Dataset set;
  for (const auto& tokens : result.tokens) {
    std::vector<int64_t> ids{bos};
    ids.insert(ids.end(), tokens.begin(), tokens.end());
    set.samples.push_back(token_sample(ids));
  }
  set.description = std::to_string(options.samples) + " sequences of " + std::to_string(options.sequence_length) +
                    " tokens sampled from the model (temperature 1, seed " + std::to_string(options.seed) + ")";
  return set;
}

void extend_with_model_answers(Dataset& set, const Graph& graph, int64_t max_new_tokens, const std::vector<int64_t>& stop_tokens,
                               const LoadProgress& progress) {
  runtime::GraphCausalModel model(graph);
  runtime::GenerationOptions generation;
  generation.max_new_tokens = max_new_tokens;
  generation.stop_tokens = stop_tokens;
  for (Sample& sample : set.samples) {
    std::vector<int64_t> ids = sample.inputs.at("input_ids").to_i64();
    const auto pixels = sample.inputs.find("pixel_values");
    const auto result = runtime::generate(model, {ids}, pixels == sample.inputs.end() ? nullptr : &pixels->second, generation);
    ids.insert(ids.end(), result.tokens[0].begin(), result.tokens[0].end());
    Sample extended = token_sample(ids);
    for (auto& [name, value] : sample.inputs)
      if (name != "input_ids" && name != "position_ids") extended.inputs[name] = value;
    sample = std::move(extended);
    if (progress) progress(static_cast<int64_t>(&sample - set.samples.data()) + 1, static_cast<int64_t>(set.samples.size()));
  }
  set.description += ", each followed by the model's greedy answer (up to " + std::to_string(max_new_tokens) + " tokens)";
}

Dataset tensor_files(const std::map<std::string, std::vector<fs::path>>& files) {
  Dataset set;
  size_t count = 0;
  for (const auto& [name, list] : files) {
    if (count != 0 && list.size() != count)
      throw Error(ErrorCategory::usage, "calibration: input '" + name + "' has " + std::to_string(list.size()) +
                                            " files but another input has " + std::to_string(count));
    count = list.size();
  }
  set.samples.resize(count);
  for (const auto& [name, list] : files)
    for (size_t i = 0; i < list.size(); ++i) set.samples[i].inputs[name] = HostTensor::from_ir(npy::read(list[i]));
  set.description = std::to_string(count) + " samples of " + std::to_string(files.size()) + " .npy inputs";
  return set;
}

}  // namespace edgec::calibration
