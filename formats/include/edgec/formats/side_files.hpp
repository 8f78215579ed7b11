#pragma once
// The small files a runner needs besides a model's weights — config.json, generation_config.json, tokenizer
// files (tok512.bin, tokenizer.bin, vocab.txt, tokenizer.json), preprocessor_config.json — for any path
// load_model accepts:
//  - an .edgepack artifact: the files it carries (docs/edgepack.md "files"), each checked against its SHA-256
//    when first read; a file it does not carry is taken from the folder beside the artifact, if there;
//  - a Hugging Face folder, an .onnx / .safetensors / config.json file, or an onnx/ folder: the config folder
//    (side_file_folder).
#include <filesystem>
#include <map>
#include <optional>
#include <set>
#include <string>

#include "edgec/formats/generation_config.hpp"

namespace edgec {

// The folder holding a model's config.json / generation_config.json / tokenizer files: the model path itself
// when it is a folder, else the file's folder; when that folder has neither config.json nor
// generation_config.json, the folder above it (an onnx/ subfolder of a Hugging Face folder). For an .edgepack
// file: the folder it is in.
std::filesystem::path side_file_folder(const std::filesystem::path& model);

// The side files `edgec compile` packs from a config folder: every regular *.json, *.txt, *.bin and *.model file
// under 64 MiB except model.safetensors.index.json; name -> bytes. An absent folder gives none.
std::map<std::string, std::string> collect_side_files(const std::filesystem::path& folder);

class SideFiles {
 public:
  // `model` as load_model takes it. For an artifact, reads its header and manifest (Error(input) when they are
  // malformed); no file is read until asked for.
  explicit SideFiles(const std::filesystem::path& model);

  bool from_artifact() const { return artifact_; }
  // Where files not carried by an artifact (all files, for other models) are looked up.
  const std::filesystem::path& folder() const { return folder_; }

  bool contains(const std::string& name) const;
  // The file's bytes, or nullopt when neither the artifact nor the folder has it. Error(input) for a carried file
  // whose checksum does not match, or a file on disk that cannot be read.
  std::optional<std::string> read(const std::string& name) const;
  // The file's bytes; Error(input) naming the model (and the folder searched) when it is absent. `purpose` ends
  // the message ("needed to decode captions").
  std::string require(const std::string& name, const std::string& purpose) const;
  // How errors about `name` refer to it: "ART.edgepack: file 'vocab.txt'" for a carried file, else the path.
  std::string describe(const std::string& name) const;

  // generation_config.json, then config.json (and its text_config), as hf::read_generation_config does for a
  // folder; errors name the file as describe() does.
  hf::GenerationConfig generation_config() const;

 private:
  std::filesystem::path model_;
  std::filesystem::path folder_;
  bool artifact_ = false;
  std::set<std::string> carried_;
  mutable std::map<std::string, std::string> cache_;  // carried files already read (and verified)
};

}  // namespace edgec
