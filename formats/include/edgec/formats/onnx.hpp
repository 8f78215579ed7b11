#pragma once
// ONNX import and export (opsets 9-21). Initializers, Constant nodes and external data become IR tensors;
// external data is memory-mapped and must live inside the model's folder.
#include <filesystem>

#include "edgec/core/model.hpp"

namespace edgec::onnx_format {

Model import_onnx_file(const std::filesystem::path& file);
// Every *.onnx file directly inside `dir`, sorted by name; each becomes one graph named after its file stem.
Model import_onnx_folder(const std::filesystem::path& dir);
// Where export_onnx puts the initializers' bytes.
enum class ExternalData {
  never,   // inline raw_data (one file; protobuf caps it at 2 GiB)
  always,  // every initializer of at least `external_min_bytes` in OUT.data
  // External when the initializers hold at least kAutoExternalBytes: a large model then loads by mapping the data
  // file (no copy), a small one stays one file.
  automatic,
};
inline constexpr uint64_t kAutoExternalBytes = uint64_t{64} << 20;

struct OnnxExportOptions {
  ExternalData external = ExternalData::automatic;
  uint64_t external_min_bytes = 1024;  // smaller initializers stay inline
};

// Writes `graph` as an ONNX ModelProto, atomically (temporary file, then rename). With external data, the
// initializers' bytes go to `<out>.data` next to it (ONNX's external data: location = that file's name, offset,
// length), each at an offset that is a multiple of 64 so a reader can map and use them in place; the data file is
// written and flushed before the model, so a model on disk never names a missing data file.
void export_onnx(const Graph& graph, const std::filesystem::path& out, const OnnxExportOptions& options = {});
// One serialized TensorProto (e.g. the input_0.pb / output_0.pb of ONNX's conformance cases), checked like an
// initializer. Throws Error(input) naming the file for anything else (SequenceProto, OptionalProto, garbage).
Tensor read_tensor_proto_file(const std::filesystem::path& file);

}  // namespace edgec::onnx_format
