#pragma once
// ONNX import and export (opsets 9-21). Initializers, Constant nodes and external data become IR tensors;
// external data is memory-mapped and must live inside the model's folder.
#include <filesystem>

#include "edgec/core/model.hpp"

namespace edgec::onnx_format {

Model import_onnx_file(const std::filesystem::path& file);
// Every *.onnx file directly inside `dir`, sorted by name; each becomes one graph named after its file stem.
Model import_onnx_folder(const std::filesystem::path& dir);
// Writes `graph` as an ONNX ModelProto (tensor data inline), atomically (temporary file, then rename).
void export_onnx(const Graph& graph, const std::filesystem::path& out);
// One serialized TensorProto (e.g. the input_0.pb / output_0.pb of ONNX's conformance cases), checked like an
// initializer. Throws Error(input) naming the file for anything else (SequenceProto, OptionalProto, garbage).
Tensor read_tensor_proto_file(const std::filesystem::path& file);

}  // namespace edgec::onnx_format
