#include "edgec/formats/caption_eval_set.hpp"

#include <fstream>
#include <nlohmann/json.hpp>

#include "edgec/core/error.hpp"

namespace edgec::formats {
namespace {

std::vector<int64_t> manifest_shape(const nlohmann::json& manifest, const std::string& file, const std::filesystem::path& where) {
  try {
    return manifest.at("files").at(file).at("shape").get<std::vector<int64_t>>();
  } catch (const nlohmann::json::exception&) {
    throw_input_error(where.string() + ": files." + file + ".shape", "missing or not a list of integers");
  }
}

template <class T>
std::vector<T> read_raw(const std::filesystem::path& file, int64_t skip, int64_t count) {
  std::ifstream in(file, std::ios::binary);
  if (!in) throw_input_error(file.string(), "cannot open");
  in.seekg(static_cast<std::streamoff>(skip) * static_cast<std::streamoff>(sizeof(T)));
  std::vector<T> values(static_cast<size_t>(count));
  in.read(reinterpret_cast<char*>(values.data()), static_cast<std::streamsize>(values.size() * sizeof(T)));
  if (in.gcount() != static_cast<std::streamsize>(values.size() * sizeof(T)))
    throw_input_error(file.string(), "truncated: expected " + std::to_string(count) + " values after " + std::to_string(skip));
  return values;
}

nlohmann::json read_manifest(const std::filesystem::path& manifest_path) {
  std::ifstream manifest_in(manifest_path);
  if (!manifest_in) throw_input_error(manifest_path.string(), "cannot open (is this an eval folder?)");
  try {
    return nlohmann::json::parse(manifest_in);
  } catch (const nlohmann::json::exception& e) {
    throw_input_error(manifest_path.string(), std::string("invalid JSON: ") + e.what());
  }
}

std::vector<int64_t> read_pixel_shape(const nlohmann::json& manifest, const std::filesystem::path& manifest_path) {
  auto shape = manifest_shape(manifest, "test_pixel_values.f32", manifest_path);
  if (shape.size() != 4) throw_input_error(manifest_path.string() + ": test_pixel_values.f32", "expected a [N,C,H,W] shape");
  return shape;
}

}  // namespace

bool is_classification_eval_set(const std::filesystem::path& dir) {
  return std::filesystem::is_directory(dir) && std::filesystem::exists(dir / "manifest.json") &&
         std::filesystem::exists(dir / "test_pixel_values.f32") && std::filesystem::exists(dir / "test_labels.i32");
}

ClassificationEvalSet load_classification_eval_set(const std::filesystem::path& dir, int64_t count) {
  const auto manifest_path = dir / "manifest.json";
  const nlohmann::json manifest = read_manifest(manifest_path);
  const auto shape = read_pixel_shape(manifest, manifest_path);
  const auto label_shape = manifest_shape(manifest, "test_labels.i32", manifest_path);
  if (label_shape.size() != 1 || label_shape[0] != shape[0])
    throw_input_error(manifest_path.string() + ": test_labels.i32", "expected [" + std::to_string(shape[0]) + "] labels, one per image");
  ClassificationEvalSet set;
  set.total = shape[0];
  if (count < 0 || count > set.total) count = set.total;
  const int64_t image = shape[1] * shape[2] * shape[3];
  set.image_dims = {count, shape[1], shape[2], shape[3]};
  set.pixels = read_raw<float>(dir / "test_pixel_values.f32", 0, count * image);
  set.labels = read_raw<int32_t>(dir / "test_labels.i32", 0, count);
  return set;
}

CaptionEvalSet load_caption_eval_set(const std::filesystem::path& dir, int64_t first, int64_t count) {
  const auto manifest_path = dir / "manifest.json";
  const nlohmann::json manifest = read_manifest(manifest_path);
  CaptionEvalSet set;
  const auto pixel_shape = read_pixel_shape(manifest, manifest_path);
  set.total = pixel_shape[0];
  if (first < 0 || first >= set.total)
    throw_input_error(dir.string(), "image index " + std::to_string(first) + " outside [0, " + std::to_string(set.total) + ")");
  if (count < 0 || first + count > set.total) count = set.total - first;
  set.first = first;
  const int64_t image = pixel_shape[1] * pixel_shape[2] * pixel_shape[3];
  set.image_dims = {count, pixel_shape[1], pixel_shape[2], pixel_shape[3]};
  set.pixels = read_raw<float>(dir / "test_pixel_values.f32", first * image, count * image);
  const auto template_shape = manifest_shape(manifest, "prompt_template_ids.i32", manifest_path);
  const auto ids = read_raw<int32_t>(dir / "prompt_template_ids.i32", 0, template_shape.at(0));
  set.template_ids.assign(ids.begin(), ids.end());
  if (std::filesystem::exists(dir / "test_fields.i32")) set.fields = read_raw<int32_t>(dir / "test_fields.i32", first * 3, count * 3);
  if (std::ifstream captions(dir / "test_captions.txt"); captions) {
    std::string line;
    for (int64_t i = 0; i < first + count && std::getline(captions, line); ++i)
      if (i >= first) set.captions.push_back(line);
    if (static_cast<int64_t>(set.captions.size()) != count)
      throw_input_error((dir / "test_captions.txt").string(), "fewer lines than images");
  }
  return set;
}

}  // namespace edgec::formats
