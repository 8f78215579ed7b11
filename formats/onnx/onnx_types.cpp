// Element types and value types: ONNX numbers and TypeProtos <-> IR DType and ValueType.
#include <array>
#include <utility>

#include "edgec/core/error.hpp"
#include "onnx_internal.hpp"

namespace edgec::onnx_format::detail {
namespace {

// Index = TensorProto.DataType number. 17-22 postdate libonnx 1.12, so they are listed by number here.
constexpr std::array<DType, 23> kDTypes{
    DType::undefined,  DType::f32,       DType::u8,     DType::i8,         DType::u16,        DType::i16,
    DType::i32,        DType::i64,       DType::string, DType::boolean,    DType::f16,        DType::f64,
    DType::u32,        DType::u64,       DType::complex64, DType::complex128, DType::bf16,   DType::f8e4m3fn,
    DType::f8e4m3fnuz, DType::f8e5m2,    DType::f8e5m2fnuz, DType::u4,     DType::i4,
};

constexpr size_t kMaxNameInMessage = 160;

}  // namespace

std::string quote_name(std::string_view name) {
  static constexpr char kHex[] = "0123456789abcdef";
  std::string out = "'";
  for (size_t i = 0; i < name.size(); ++i) {
    if (i == kMaxNameInMessage) {
      out += "...";
      break;
    }
    const auto c = static_cast<unsigned char>(name[i]);
    if (c < 0x20 || c == 0x7f) {
      out += "\\x";
      out += kHex[c >> 4];
      out += kHex[c & 15];
    } else {
      out += static_cast<char>(c);
    }
  }
  return out + "'";
}

std::optional<DType> dtype_from_onnx(int32_t data_type) {
  if (data_type <= 0 || static_cast<size_t>(data_type) >= kDTypes.size()) return std::nullopt;
  return kDTypes[static_cast<size_t>(data_type)];
}

int32_t dtype_to_onnx(DType dtype) {
  for (size_t i = 1; i < kDTypes.size(); ++i)
    if (kDTypes[i] == dtype) return static_cast<int32_t>(i);
  return 0;  // undefined
}

namespace {

// The element type of a tensor-like TypeProto; 0 (unset) stays undefined, as subgraph types may omit it.
DType element_type(int32_t elem_type, const ImportContext& ctx, const std::string& field) {
  if (elem_type == 0) return DType::undefined;
  const auto dtype = dtype_from_onnx(elem_type);
  if (!dtype)
    throw_input_error(ctx.path, field + ": unknown elem_type " + std::to_string(elem_type) + " (expected 1-22)");
  return *dtype;
}

std::optional<std::vector<Dim>> import_shape(bool has_shape, const onnx::TensorShapeProto& shape) {
  if (!has_shape) return std::nullopt;
  std::vector<Dim> dims;
  dims.reserve(static_cast<size_t>(shape.dim_size()));
  for (const auto& dim : shape.dim()) {
    if (dim.has_dim_value() && dim.dim_value() >= 0)
      dims.push_back(Dim::of(dim.dim_value()));
    else if (dim.has_dim_param() && !dim.dim_param().empty())
      dims.push_back(Dim::named(dim.dim_param()));
    else
      dims.push_back(Dim{});  // unknown, or a negative size some exporters write for "dynamic"
  }
  return dims;
}

void import_type_into(const onnx::TypeProto& proto, const ImportContext& ctx, const std::string& field,
                      int depth, ValueType& out, bool outermost) {
  if (depth > kMaxNesting)
    throw_input_error(ctx.path, field + ": type nests more than " + std::to_string(kMaxNesting) + " levels");
  auto set_kind = [&](ValueKind kind) {
    if (outermost) out.kind = kind;
  };
  switch (proto.value_case()) {
    case onnx::TypeProto::kTensorType:
      set_kind(ValueKind::tensor);
      out.dtype = element_type(proto.tensor_type().elem_type(), ctx, field);
      out.shape = import_shape(proto.tensor_type().has_shape(), proto.tensor_type().shape());
      return;
    case onnx::TypeProto::kSparseTensorType:
      set_kind(ValueKind::sparse_tensor);
      out.dtype = element_type(proto.sparse_tensor_type().elem_type(), ctx, field);
      out.shape = import_shape(proto.sparse_tensor_type().has_shape(), proto.sparse_tensor_type().shape());
      return;
    case onnx::TypeProto::kSequenceType:
      set_kind(ValueKind::sequence);
      import_type_into(proto.sequence_type().elem_type(), ctx, field, depth + 1, out, false);
      return;
    case onnx::TypeProto::kOptionalType:
      set_kind(ValueKind::optional);
      import_type_into(proto.optional_type().elem_type(), ctx, field, depth + 1, out, false);
      return;
    case onnx::TypeProto::kMapType:
      set_kind(ValueKind::map);
      import_type_into(proto.map_type().value_type(), ctx, field, depth + 1, out, false);
      return;
    default:  // opaque or not set
      set_kind(ValueKind::unknown);
      return;
  }
}

void export_tensor_type(const ValueType& type, onnx::TypeProto_Tensor& tensor) {
  if (type.dtype != DType::undefined) tensor.set_elem_type(dtype_to_onnx(type.dtype));
  if (!type.shape) return;
  auto* shape = tensor.mutable_shape();
  for (const Dim& dim : *type.shape) {
    auto* out = shape->add_dim();
    if (dim.known())
      out->set_dim_value(dim.value);
    else if (!dim.symbol.empty())
      out->set_dim_param(dim.symbol);
  }
}

}  // namespace

ValueType import_type(const onnx::TypeProto& proto, const ImportContext& ctx, const std::string& field) {
  ValueType type;
  import_type_into(proto, ctx, field, 0, type, true);
  return type;
}

void export_type(const ValueType& type, onnx::TypeProto& proto) {
  switch (type.kind) {
    case ValueKind::tensor:
      export_tensor_type(type, *proto.mutable_tensor_type());
      return;
    case ValueKind::sparse_tensor: {
      auto* sparse = proto.mutable_sparse_tensor_type();
      onnx::TypeProto_Tensor dense;
      export_tensor_type(type, dense);
      if (dense.has_elem_type()) sparse->set_elem_type(dense.elem_type());
      if (dense.has_shape()) *sparse->mutable_shape() = dense.shape();
      return;
    }
    case ValueKind::sequence:
      export_tensor_type(type, *proto.mutable_sequence_type()->mutable_elem_type()->mutable_tensor_type());
      return;
    case ValueKind::optional:
      export_tensor_type(type, *proto.mutable_optional_type()->mutable_elem_type()->mutable_tensor_type());
      return;
    case ValueKind::map: {
      // The IR does not keep a map's key type; ONNX maps (ai.onnx.ml) mostly use int64 keys.
      auto* map = proto.mutable_map_type();
      map->set_key_type(onnx::TensorProto::INT64);
      export_tensor_type(type, *map->mutable_value_type()->mutable_tensor_type());
      return;
    }
    case ValueKind::unknown:
      return;
  }
}

}  // namespace edgec::onnx_format::detail
