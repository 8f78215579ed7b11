#include "edgec/formats/load.hpp"

#include <algorithm>

#include "edgec/core/error.hpp"
#include "edgec/formats/edgepack.hpp"
#include "edgec/formats/hf.hpp"
#include "edgec/formats/onnx.hpp"

namespace edgec {
namespace fs = std::filesystem;

namespace {

bool folder_has_onnx(const fs::path& dir) {
  std::error_code ec;
  for (const auto& entry : fs::directory_iterator(dir, ec))
    if (entry.path().extension() == ".onnx" && entry.is_regular_file()) return true;
  return false;
}

}  // namespace

Model load_model(const fs::path& path) {
  std::error_code ec;
  if (!fs::exists(path, ec)) throw_input_error(path.string(), "no such file or folder");
  if (fs::is_directory(path, ec)) {
    // A folder edgec wrote (model.onnx beside the source's config.json) holds no safetensors.
    if (fs::exists(path / "config.json", ec) && fs::exists(path / "model.onnx", ec) && !fs::exists(path / "model.safetensors", ec) &&
        !fs::exists(path / "model.safetensors.index.json", ec))
      return onnx_format::import_onnx_file(path / "model.onnx");
    if (fs::exists(path / "config.json", ec)) return hf::import_folder(path);
    if (folder_has_onnx(path)) return onnx_format::import_onnx_folder(path);
    throw_input_error(path.string(),
                      "not a model folder: expected config.json with model.safetensors (Hugging Face) or *.onnx files");
  }
  const auto name = path.filename().string();
  if (path.extension() == ".edgepack") return load_edgepack_model(path);
  if (path.extension() == ".onnx") return onnx_format::import_onnx_file(path);
  if (path.extension() == ".safetensors" || name == "model.safetensors.index.json" || name == "config.json") {
    const auto dir = path.parent_path().empty() ? fs::path(".") : path.parent_path();
    if (!fs::exists(dir / "config.json", ec))
      throw_input_error(path.string(), "a safetensors checkpoint needs config.json beside it to describe the architecture");
    return hf::import_folder(dir);
  }
  throw_input_error(path.string(), "unrecognised model format: expected an .onnx file, a .safetensors file, an .edgepack artifact or a model folder");
}

}  // namespace edgec
