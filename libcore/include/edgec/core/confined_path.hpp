#pragma once
// Model files name other files (ONNX external data, safetensors shards). A hostile model must not be able to
// make edgec read arbitrary files, so such names are resolved only inside the model's folder.
#include <filesystem>
#include <string>

namespace edgec {

struct ConfinedPath {
  std::filesystem::path path;  // canonical, set when `problem` is empty
  std::string problem;         // e.g. "contains '..'", "resolves to /etc/x, outside the model's folder /m"
};

// Resolves `relative` (as written in the model file) inside `folder`: rejects empty names, control
// characters, absolute paths, any ".." component, a target that does not exist or is not a regular file,
// and anything whose canonical path (symlinks resolved) is not strictly below `folder`'s canonical path.
// `folder_label` names the folder in messages ("the model's folder", "the index's folder").
ConfinedPath resolve_inside_folder(const std::filesystem::path& folder, const std::string& relative,
                                   const std::string& folder_label);

}  // namespace edgec
