// A serialized TensorProto on its own (the input_N.pb / output_N.pb files of ONNX's conformance cases).
// Parsing is the importer's: the same size checks, dtypes and messages as an initializer.
#include <climits>

#include "edgec/core/error.hpp"
#include "edgec/formats/onnx.hpp"
#include "onnx_internal.hpp"

namespace edgec::onnx_format {

Tensor read_tensor_proto_file(const std::filesystem::path& file) {
  const std::string where = file.string();
  std::error_code ec;
  if (std::filesystem::is_directory(file, ec)) throw_input_error(where, "is a folder; expected a TensorProto file");
  const auto mapped = MappedFile::open(file);
  if (mapped->size() > static_cast<size_t>(INT_MAX))
    throw_input_error(where, "file is " + std::to_string(mapped->size()) +
                                 " bytes; protobuf cannot parse a message over 2 GiB");
  onnx::TensorProto proto;
  // An empty file is a valid (empty) message; the dtype check below rejects it.
  if (!proto.ParseFromArray(mapped->bytes().data(), static_cast<int>(mapped->size())))
    throw_input_error(where, "not a valid TensorProto (corrupt, truncated, or a SequenceProto/OptionalProto)");
  if (proto.data_location() == onnx::TensorProto::EXTERNAL)
    throw_input_error(where, "a TensorProto file cannot keep its data externally");
  detail::ImportContext ctx{where, file.parent_path().empty() ? std::filesystem::path(".") : file.parent_path(), {}};
  const std::string field = proto.name().empty() ? std::string("tensor") : "tensor " + detail::quote_name(proto.name());
  return detail::import_tensor(proto, ctx, field);
}

}  // namespace edgec::onnx_format
