// Calibration datasets (calibration/dataset.hpp) from files written by the test: token windows (.i32, .i64, .npy),
// named .npy tensors, preprocessor configs and IDX images; determinism by seed and the input errors.
#include <doctest/doctest.h>

#include <algorithm>
#include <cmath>
#include <cstring>
#include <functional>
#include <map>
#include <set>
#include <string>
#include <vector>

#include "../hf/synthetic.hpp"
#include "edgec/calibration/dataset.hpp"
#include "edgec/core/error.hpp"
#include "edgec/formats/npy.hpp"

using namespace edgec;
using edgec::test::TempDir;
using edgec::test::write_bytes;

namespace {

template <typename T>
std::string raw_bytes(const std::vector<T>& values) {
  std::string out(values.size() * sizeof(T), '\0');
  std::memcpy(out.data(), values.data(), out.size());
  return out;
}

ErrorCategory category_of(const std::function<void()>& fn) {
  try {
    fn();
  } catch (const Error& e) {
    return e.category();
  }
  FAIL("expected an Error");
  return ErrorCategory::internal;
}

// Position of `window` as a contiguous slice of `ids`, or -1.
int64_t find_window(const std::vector<int64_t>& ids, const std::vector<int64_t>& window) {
  const auto it = std::search(ids.begin(), ids.end(), window.begin(), window.end());
  return it == ids.end() ? -1 : static_cast<int64_t>(it - ids.begin());
}

}  // namespace

TEST_CASE("token_windows: seeded windows of consecutive ids from .i32, .i64 and .npy files") {
  TempDir dir("calib_tokens");
  std::vector<int32_t> ids32(1000);
  for (size_t i = 0; i < ids32.size(); ++i) ids32[i] = static_cast<int32_t>((i * 7919) % 5003);  // all distinct
  const std::vector<int64_t> ids(ids32.begin(), ids32.end());
  write_bytes(dir.path() / "ids.i32", raw_bytes(ids32));
  write_bytes(dir.path() / "ids.i64", raw_bytes(ids));
  npy::write(dir.path() / "ids.npy", Tensor::from_values<int32_t>(DType::i32, {1000}, std::span<const int32_t>(ids32)));

  calibration::TokenWindows options;
  options.samples = 6;
  options.sequence_length = 64;
  options.seed = 3;
  const calibration::Dataset a = calibration::token_windows(dir.path() / "ids.i32", options);
  REQUIRE(a.samples.size() == 6);
  std::set<int64_t> starts;
  for (const auto& sample : a.samples) {
    CHECK(sample.tokens == 64);
    const auto& input = sample.inputs.at("input_ids");
    CHECK(input.dtype() == DType::i64);
    CHECK(input.dims() == std::vector<int64_t>{1, 64});
    const int64_t start = find_window(ids, input.to_i64());
    CHECK(start >= 0);
    starts.insert(start);
    std::vector<int64_t> positions(64);
    for (int64_t i = 0; i < 64; ++i) positions[static_cast<size_t>(i)] = i;
    CHECK(sample.inputs.at("position_ids").to_i64() == positions);
  }
  CHECK(starts.size() > 1);  // random offsets
  CHECK(a.description.find("6 windows of 64 tokens") != std::string::npos);
  // The same windows from every encoding, and again for the same seed; another seed moves them.
  for (const char* name : {"ids.i64", "ids.npy", "ids.i32"}) {
    CAPTURE(name);
    const calibration::Dataset b = calibration::token_windows(dir.path() / name, options);
    REQUIRE(b.samples.size() == 6);
    for (size_t i = 0; i < 6; ++i) CHECK(b.samples[i].inputs.at("input_ids").to_i64() == a.samples[i].inputs.at("input_ids").to_i64());
  }
  options.seed = 4;
  const calibration::Dataset c = calibration::token_windows(dir.path() / "ids.i32", options);
  bool differs = false;
  for (size_t i = 0; i < 6; ++i) differs = differs || c.samples[i].inputs.at("input_ids").to_i64() != a.samples[i].inputs.at("input_ids").to_i64();
  CHECK(differs);

  // Fewer ids than one window: the whole file is the one window.
  write_bytes(dir.path() / "short.i32", raw_bytes(std::vector<int32_t>{5, 6, 7}));
  const calibration::Dataset s = calibration::token_windows(dir.path() / "short.i32", options);
  REQUIRE(s.samples.size() == 1);
  CHECK(s.samples[0].inputs.at("input_ids").to_i64() == std::vector<int64_t>{5, 6, 7});
  CHECK(s.samples[0].tokens == 3);

  write_bytes(dir.path() / "odd.i64", std::string(12, '\0'));
  write_bytes(dir.path() / "empty.i32", "");
  npy::write(dir.path() / "floats.npy", Tensor::from_values<float>(DType::f32, {2}, std::span<const float>(std::vector<float>{1, 2})));
  CHECK(category_of([&] { calibration::token_windows(dir.path() / "odd.i64", options); }) == ErrorCategory::input);
  CHECK(category_of([&] { calibration::token_windows(dir.path() / "empty.i32", options); }) == ErrorCategory::input);
  CHECK(category_of([&] { calibration::token_windows(dir.path() / "floats.npy", options); }) == ErrorCategory::input);
  CHECK(category_of([&] { calibration::token_windows(dir.path() / "missing.i32", options); }) == ErrorCategory::input);
  options.samples = 0;
  CHECK(category_of([&] { calibration::token_windows(dir.path() / "ids.i32", options); }) == ErrorCategory::usage);
}

TEST_CASE("tensor_files: one sample per file set") {
  TempDir dir("calib_npy");
  std::map<std::string, std::vector<std::filesystem::path>> files;
  for (int i = 0; i < 3; ++i) {
    const std::vector<float> x{static_cast<float>(i), 1.5f, -2.0f, 4.0f};
    const std::vector<int64_t> ids{i, i + 1};
    npy::write(dir.path() / ("x" + std::to_string(i) + ".npy"), Tensor::from_values<float>(DType::f32, {2, 2}, std::span<const float>(x)));
    npy::write(dir.path() / ("ids" + std::to_string(i) + ".npy"), Tensor::from_values<int64_t>(DType::i64, {1, 2}, std::span<const int64_t>(ids)));
    files["x"].push_back(dir.path() / ("x" + std::to_string(i) + ".npy"));
    files["input_ids"].push_back(dir.path() / ("ids" + std::to_string(i) + ".npy"));
  }
  const calibration::Dataset set = calibration::tensor_files(files);
  REQUIRE(set.samples.size() == 3);
  CHECK(set.samples[2].inputs.at("x").to_f32() == std::vector<float>{2.0f, 1.5f, -2.0f, 4.0f});
  CHECK(set.samples[2].inputs.at("x").dims() == std::vector<int64_t>{2, 2});
  CHECK(set.samples[1].inputs.at("input_ids").to_i64() == std::vector<int64_t>{1, 2});
  files["x"].pop_back();
  CHECK(category_of([&] { calibration::tensor_files(files); }) == ErrorCategory::usage);
}

TEST_CASE("read_preprocess and image_prompts from an IDX file") {
  TempDir dir("calib_images");
  write_bytes(dir.path() / "pre.json",
              R"({"image_mean": [0.5], "image_std": [0.25], "crop_size": {"height": 2, "width": 3}, "size": 9})");
  const calibration::Preprocess p = calibration::read_preprocess(dir.path() / "pre.json", 1);
  CHECK(p.height == 2);
  CHECK(p.width == 3);
  CHECK(p.mean == std::vector<float>{0.5f});
  CHECK(p.std == std::vector<float>{0.25f});
  write_bytes(dir.path() / "size.json", R"({"image_mean": 0.1, "image_std": 2, "size": {"shortest_edge": 5}})");
  const calibration::Preprocess q = calibration::read_preprocess(dir.path() / "size.json", 3);
  CHECK(q.height == 5);
  CHECK(q.channels == 3);
  CHECK(q.mean == std::vector<float>{0.1f});
  write_bytes(dir.path() / "nomean.json", R"({"image_std": [1]})");
  write_bytes(dir.path() / "zero.json", R"({"image_mean": [0], "image_std": [0]})");
  write_bytes(dir.path() / "bad.json", "{");
  for (const char* name : {"nomean.json", "zero.json", "bad.json", "missing.json"}) {
    CAPTURE(name);
    CHECK(category_of([&] { calibration::read_preprocess(dir.path() / name, 1); }) == ErrorCategory::input);
  }

  // 4 images of 4 x 6: pixel (y, x) of image i = 10 i + 6 y + x... as bytes.
  std::string idx{'\0', '\0', '\x08', '\x03', '\0', '\0', '\0', '\x04', '\0', '\0', '\0', '\x04', '\0', '\0', '\0', '\x06'};
  for (int i = 0; i < 4; ++i)
    for (int y = 0; y < 4; ++y)
      for (int x = 0; x < 6; ++x) idx.push_back(static_cast<char>(50 * i + 6 * y + x));
  write_bytes(dir.path() / "images-idx3-ubyte", idx);
  calibration::ImagePrompts prompts;
  prompts.samples = 3;
  prompts.seed = 7;
  prompts.prompt_ids = {1, 9, 9, 2};
  const calibration::Dataset set = calibration::image_prompts(dir.path() / "images-idx3-ubyte", p, prompts);
  REQUIRE(set.samples.size() == 3);
  std::set<int> seen;
  for (const auto& sample : set.samples) {
    CHECK(sample.inputs.at("input_ids").to_i64() == std::vector<int64_t>{1, 9, 9, 2});
    const auto& pixels = sample.inputs.at("pixel_values");
    REQUIRE(pixels.dims() == std::vector<int64_t>{1, 1, 2, 3});
    const auto v = pixels.to_f32();
    // Nearest resize 4x6 -> 2x3 reads rows 0, 2 and columns 0, 2, 4; then (x / 255 - 0.5) / 0.25.
    const float first = v[0] * 0.25f + 0.5f;
    const int image = static_cast<int>(std::lround(first * 255.0f)) / 50;
    seen.insert(image);
    for (int y = 0; y < 2; ++y)
      for (int x = 0; x < 3; ++x) {
        const float pixel = static_cast<float>(50 * image + 6 * (2 * y) + 2 * x) / 255.0f;
        CHECK(v[static_cast<size_t>(y * 3 + x)] == doctest::Approx((pixel - 0.5f) / 0.25f));
      }
  }
  CHECK(seen.size() == 3);  // distinct images
  const calibration::Dataset again = calibration::image_prompts(dir.path() / "images-idx3-ubyte", p, prompts);
  for (size_t i = 0; i < 3; ++i) CHECK(again.samples[i].inputs.at("pixel_values").to_f32() == set.samples[i].inputs.at("pixel_values").to_f32());
  // Without a prompt: the images alone, as the input a vision model reads.
  prompts.prompt_ids.clear();
  prompts.input_name = "x";
  const calibration::Dataset alone = calibration::image_prompts(dir.path() / "images-idx3-ubyte", p, prompts);
  REQUIRE(alone.samples.size() == 3);
  for (size_t i = 0; i < 3; ++i) {
    CHECK(alone.samples[i].inputs.size() == 1);
    CHECK(alone.samples[i].inputs.at("x").to_f32() == set.samples[i].inputs.at("pixel_values").to_f32());
  }
  prompts.input_name.clear();
  CHECK(category_of([&] { calibration::image_prompts(dir.path() / "images-idx3-ubyte", p, prompts); }) == ErrorCategory::usage);
  prompts.input_name = "pixel_values";
  prompts.prompt_ids = {1};
  write_bytes(dir.path() / "short-idx3-ubyte", idx.substr(0, idx.size() - 1));
  CHECK(category_of([&] { calibration::image_prompts(dir.path() / "short-idx3-ubyte", p, prompts); }) == ErrorCategory::input);
}
