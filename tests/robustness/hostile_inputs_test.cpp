// Hostile and damaged real checkpoints through the public entry point (load_model), checking the three
// promises of the input layer: only edgec::Error(input) escapes, the message is one line naming the file,
// and no single allocation exceeds what the file's size justifies.
#include <doctest/doctest.h>

#include <algorithm>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <random>

#include "allocation_tracker.hpp"
#include "edgec/core/error.hpp"
#include "edgec/formats/load.hpp"
#include "test_paths.hpp"

namespace fs = std::filesystem;
using edgec::Error;
using edgec::ErrorCategory;

namespace {

std::vector<char> read_bytes(const fs::path& path) {
  std::ifstream in(path, std::ios::binary);
  return {std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>()};
}

void write_bytes(const fs::path& path, const char* data, size_t size) {
  std::ofstream out(path, std::ios::binary | std::ios::trunc);
  out.write(data, static_cast<std::streamsize>(size));
}

struct Outcome {
  int loaded = 0;
  int rejected = 0;
};

// Loads `model_path` (whose damaged file is `file`, `file_size` bytes) and checks the promises.
void load_and_check(const fs::path& model_path, const fs::path& file, size_t file_size, Outcome& outcome) {
  edgec::test::reset_largest_allocation();
  try {
    const auto model = edgec::load_model(model_path);
    ++outcome.loaded;
  } catch (const Error& e) {
    ++outcome.rejected;
    const std::string message = e.what();
    REQUIRE_MESSAGE(e.category() == ErrorCategory::input, message);
    REQUIRE_MESSAGE(message.find('\n') == std::string::npos, message);
    // The message names the damaged file (or, for a folder, the folder or one of its files).
    REQUIRE_MESSAGE(message.find(file.parent_path().string()) != std::string::npos, message);
  }
  // Copying the file's tensors once is justified; anything beyond that (plus slack for bookkeeping) is not.
  const size_t bound = file_size + (size_t{1} << 20);
  REQUIRE_MESSAGE(edgec::test::largest_allocation() <= bound,
                  "largest allocation " << edgec::test::largest_allocation() << " for a " << file_size << "-byte file");
}

fs::path fresh_dir(const std::string& name) {
  const auto dir = fs::temp_directory_path() / ("edgec_robust_" + name);
  fs::remove_all(dir);
  fs::create_directories(dir);
  return dir;
}

// Every prefix length near the start (headers live there) and evenly spread lengths over the rest.
std::vector<size_t> truncation_lengths(size_t size, size_t dense_prefix, size_t spread) {
  std::vector<size_t> lengths;
  for (size_t n = 0; n < std::min(size, dense_prefix); ++n) lengths.push_back(n);
  for (size_t i = 0; i < spread && size > dense_prefix; ++i)
    lengths.push_back(dense_prefix + (size - dense_prefix) * i / spread);
  return lengths;
}

// Patches `count` bytes at `offset` of an existing file in place (cheaper than rewriting a large file).
void patch_bytes(const fs::path& path, size_t offset, const char* data, size_t count) {
  std::fstream file(path, std::ios::binary | std::ios::in | std::ios::out);
  file.seekp(static_cast<std::streamoff>(offset));
  file.write(data, static_cast<std::streamsize>(count));
}

void run_damage(const fs::path& original_model, const std::string& damaged_name, const fs::path& model_dir,
                const fs::path& damaged_file, size_t dense_prefix, size_t spread, int flips, size_t flip_region) {
  const auto bytes = read_bytes(original_model);
  REQUIRE(!bytes.empty());
  Outcome truncated, flipped;
  // Longest first, so each truncation is a resize of the previous one.
  auto lengths = truncation_lengths(bytes.size(), dense_prefix, spread);
  std::sort(lengths.rbegin(), lengths.rend());
  write_bytes(damaged_file, bytes.data(), bytes.size());
  for (const size_t length : lengths) {
    CAPTURE(length);
    fs::resize_file(damaged_file, length);
    load_and_check(model_dir, damaged_file, length, truncated);
  }
  write_bytes(damaged_file, bytes.data(), bytes.size());
  std::mt19937 rng(20261125);
  for (int i = 0; i < flips; ++i) {
    const size_t region = std::min(flip_region, bytes.size());
    const int count = 1 + static_cast<int>(rng() % 4);
    std::vector<size_t> positions;
    for (int k = 0; k < count; ++k) {
      const size_t at = rng() % region;
      const char flipped_byte = static_cast<char>(bytes[at] ^ static_cast<char>(1 + rng() % 255));
      patch_bytes(damaged_file, at, &flipped_byte, 1);
      positions.push_back(at);
    }
    CAPTURE(i);
    load_and_check(model_dir, damaged_file, bytes.size(), flipped);
    for (const size_t at : positions) patch_bytes(damaged_file, at, &bytes[at], 1);
  }
  MESSAGE(damaged_name << ": truncations loaded/rejected " << truncated.loaded << "/" << truncated.rejected
                       << ", byte flips loaded/rejected " << flipped.loaded << "/" << flipped.rejected);
  CHECK(truncated.rejected > 0);
  CHECK(flipped.rejected > 0);
}

}  // namespace

TEST_CASE("damaged stories260k safetensors: truncations and byte flips") {
  const auto source = edgec::test::shared_model("stories260k");
  if (source.empty()) return;
  const auto dir = fresh_dir("stories");
  fs::copy_file(source / "config.json", dir / "config.json");
  // The header is ~4 KB: every truncation inside it and past it, then lengths spread over the data.
  run_damage(source / "model.safetensors", "stories260k", dir, dir / "model.safetensors", 6000, 200, 1500, 6000);
  fs::remove_all(dir);
}

TEST_CASE("damaged PP-OCR cls ONNX model: truncations and byte flips") {
  const auto source = edgec::test::ppocr_models();
  if (source.empty()) return;
  const auto dir = fresh_dir("ppocr_cls");
  const auto file = dir / "cls.onnx";
  run_damage(source / "ch_ppocr_mobile_v2.0_cls_infer.onnx", "PP-OCR cls", file, file, 3000, 300, 1500,
             std::numeric_limits<size_t>::max());
  fs::remove_all(dir);
}

TEST_CASE("damaged fmnist-vlm-a config.json never escapes as anything but an input error") {
  const auto source = edgec::test::shared_model("fmnist-vlm-a");
  if (source.empty()) return;
  const auto dir = fresh_dir("vlm_config");
  fs::create_symlink(source / "model.safetensors", dir / "model.safetensors");
  const auto config = dir / "config.json";
  // Every truncation of config.json, and flips spread over it.
  const auto bytes = read_bytes(source / "config.json");
  run_damage(source / "config.json", "fmnist-vlm-a config.json", dir, config, bytes.size(), 0, 1000, bytes.size());
  fs::remove_all(dir);
}

TEST_CASE("a safetensors header claiming 2^60 elements is rejected without allocating them") {
  const auto source = edgec::test::shared_model("stories260k");
  if (source.empty()) return;
  const auto dir = fresh_dir("huge");
  fs::copy_file(source / "config.json", dir / "config.json");
  const std::string header =
      R"({"model.embed_tokens.weight":{"dtype":"F32","shape":[1073741824,1073741824],"data_offsets":[0,16]}})";
  std::string file(8, '\0');
  const uint64_t length = header.size();
  std::memcpy(file.data(), &length, 8);
  file += header + std::string(16, '\0');
  write_bytes(dir / "model.safetensors", file.data(), file.size());
  Outcome outcome;
  load_and_check(dir, dir / "model.safetensors", file.size(), outcome);
  CHECK(outcome.rejected == 1);
  fs::remove_all(dir);
}
