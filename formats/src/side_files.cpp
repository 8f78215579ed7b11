// SideFiles: a model's config / generation config / tokenizer files, from an .edgepack artifact or a folder.
#include "edgec/formats/side_files.hpp"

#include <fstream>
#include <iterator>

#include "edgec/core/error.hpp"
#include "edgec/formats/edgepack.hpp"

namespace edgec {
namespace {

namespace fs = std::filesystem;

bool is_artifact(const fs::path& model) { return model.extension() == ".edgepack" && !fs::is_directory(model); }

std::string read_whole_file(const fs::path& file) {
  std::ifstream in(file, std::ios::binary);
  if (!in) throw_input_error(file.string(), "cannot open");
  std::string bytes{std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>()};
  if (in.bad()) throw_input_error(file.string(), "cannot read");
  return bytes;
}

}  // namespace

fs::path side_file_folder(const fs::path& model) {
  if (is_artifact(model)) return model.parent_path();
  const fs::path dir = fs::is_directory(model) ? model : model.parent_path();
  if (fs::exists(dir / "config.json") || fs::exists(dir / "generation_config.json")) return dir;
  return dir.parent_path();
}

std::map<std::string, std::string> collect_side_files(const fs::path& folder) {
  std::map<std::string, std::string> files;
  if (!fs::is_directory(folder)) return files;
  for (const auto& entry : fs::directory_iterator(folder)) {
    if (!entry.is_regular_file()) continue;
    const std::string name = entry.path().filename().string(), ext = entry.path().extension().string();
    if (ext == ".json" || ext == ".txt" || ext == ".bin" || ext == ".model")
      if (name != "model.safetensors.index.json" && entry.file_size() < (64u << 20)) files[name] = read_whole_file(entry.path());
  }
  return files;
}

SideFiles::SideFiles(const fs::path& model) : model_(model), folder_(side_file_folder(model)), artifact_(is_artifact(model)) {
  if (!artifact_) return;
  for (const auto& name : inspect_edgepack(model).files) carried_.insert(name);
}

bool SideFiles::contains(const std::string& name) const {
  if (carried_.count(name)) return true;
  const fs::path file = folder_ / name;
  return fs::is_regular_file(file);
}

std::optional<std::string> SideFiles::read(const std::string& name) const {
  if (carried_.count(name)) {
    auto it = cache_.find(name);
    if (it == cache_.end()) it = cache_.emplace(name, read_edgepack_file(model_, name)).first;
    return it->second;
  }
  const fs::path file = folder_ / name;
  if (!fs::is_regular_file(file)) return std::nullopt;
  return read_whole_file(file);
}

std::string SideFiles::require(const std::string& name, const std::string& purpose) const {
  if (auto bytes = read(name)) return std::move(*bytes);
  const fs::path beside = folder_ / name;
  if (artifact_)
    throw_input_error(model_.string(), "carries no '" + name + "' and there is none beside it (" + beside.string() + "); " + purpose);
  throw_input_error(beside.string(), "no such file; " + purpose);
}

std::string SideFiles::describe(const std::string& name) const {
  if (carried_.count(name)) return model_.string() + ": file '" + name + "'";
  return (folder_ / name).string();
}

hf::GenerationConfig SideFiles::generation_config() const {
  hf::GenerationConfig config;
  for (const char* name : {"generation_config.json", "config.json"})
    if (const auto text = read(name)) hf::merge_generation_config(config, *text, describe(name));
  return config;
}

}  // namespace edgec
