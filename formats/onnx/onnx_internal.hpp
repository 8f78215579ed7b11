#pragma once
// Shared pieces of the ONNX importer and exporter: dtype and type mapping, tensor conversion, and the
// per-file context every error message is built from. Internal to formats/onnx.
#include <onnx/onnx_pb.h>

#include <filesystem>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <string_view>

#include "edgec/core/graph.hpp"
#include "edgec/core/mapped_file.hpp"

namespace edgec::onnx_format::detail {

// Nested subgraphs (If/Loop/Scan bodies) and nested TypeProtos deeper than this are rejected, so a
// hostile file cannot exhaust the stack. Real models nest a handful of levels.
inline constexpr int kMaxNesting = 64;
// Highest default-domain opset the importer accepts.
inline constexpr int64_t kMaxDefaultOpset = 21;
// Attributes of kind TYPE_PROTO have no IR counterpart; they travel as a string with this prefix
// followed by the TypeProto in protobuf text format, and are turned back into TYPE_PROTO on export.
inline constexpr std::string_view kTypeProtoPrefix = "onnx.TypeProto:";

// What one import needs besides the proto: the file (for messages and external data) and the
// mappings of external data files already opened (shared by all tensors that point into them).
struct ImportContext {
  std::string path;                 // model file as given, starts every error message
  std::filesystem::path folder;     // external data must live inside this folder
  std::map<std::filesystem::path, std::shared_ptr<const MappedFile>> external_files;
};

// A name made safe for a one-line message: control characters escaped, long names shortened.
std::string quote_name(std::string_view name);

// ONNX TensorProto.DataType number <-> DType (including 17-22, newer than libonnx 1.12's enum).
std::optional<DType> dtype_from_onnx(int32_t data_type);
int32_t dtype_to_onnx(DType dtype);

// TensorProto -> Tensor. Checks dims and data size against each other before allocating anything.
// `field` names the tensor in messages ("initializer 'w'"). Clears the proto's payload once copied, so
// peak memory stays near one copy of the weights.
Tensor import_tensor(onnx::TensorProto& proto, ImportContext& ctx, const std::string& field);
// The data of a tensor whose data_location is EXTERNAL: a view of a file inside ctx.folder (no copy).
// `needed` is the byte size dtype x dims requires; `desc` describes them ("f32 [64,3]").
Tensor import_external_tensor(const onnx::TensorProto& proto, ImportContext& ctx, const std::string& field,
                              DType dtype, std::vector<int64_t> dims, uint64_t needed, const std::string& desc);
// Tensor -> TensorProto with the data inline (raw_data, or string_data for strings).
// `with_data` false: type and dims only (the caller points the tensor at external data).
void export_tensor(const Tensor& tensor, onnx::TensorProto& proto, const std::string& where, bool with_data = true);

// TypeProto <-> ValueType. Nested kinds (a sequence of optional tensors, ...) keep the innermost tensor's
// element type and shape.
ValueType import_type(const onnx::TypeProto& proto, const ImportContext& ctx, const std::string& field);
void export_type(const ValueType& type, onnx::TypeProto& proto);

}  // namespace edgec::onnx_format::detail
