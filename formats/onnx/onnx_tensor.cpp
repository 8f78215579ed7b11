// TensorProto <-> Tensor for inline data (raw_data and the typed repeated fields).
// Every size is checked against dims before a byte is allocated: a header cannot claim more than the file holds.
#include <bit>
#include <cstring>
#include <limits>

#include "edgec/core/error.hpp"
#include "onnx_internal.hpp"

namespace edgec::onnx_format::detail {
namespace {

static_assert(std::endian::native == std::endian::little, "ONNX raw_data is little-endian; so must the host be");

// Which typed field holds the values of each dtype, per onnx.proto.
enum class Field { float_data, double_data, int32_data, int64_data, uint64_data, string_data };

const char* field_name(Field field) {
  switch (field) {
    case Field::float_data: return "float_data";
    case Field::double_data: return "double_data";
    case Field::int32_data: return "int32_data";
    case Field::int64_data: return "int64_data";
    case Field::uint64_data: return "uint64_data";
    case Field::string_data: return "string_data";
  }
  return "?";
}

Field field_of(DType dtype) {
  switch (dtype) {
    case DType::f32: case DType::complex64: return Field::float_data;
    case DType::f64: case DType::complex128: return Field::double_data;
    case DType::i64: return Field::int64_data;
    case DType::u32: case DType::u64: return Field::uint64_data;
    case DType::string: return Field::string_data;
    default: return Field::int32_data;  // every type narrower than 32 bits, and i32
  }
}

int field_size(const onnx::TensorProto& p, Field field) {
  switch (field) {
    case Field::float_data: return p.float_data_size();
    case Field::double_data: return p.double_data_size();
    case Field::int32_data: return p.int32_data_size();
    case Field::int64_data: return p.int64_data_size();
    case Field::uint64_data: return p.uint64_data_size();
    case Field::string_data: return p.string_data_size();
  }
  return 0;
}

constexpr Field kAllFields[] = {Field::float_data, Field::double_data, Field::int32_data,
                                Field::int64_data, Field::uint64_data, Field::string_data};

// Values the typed field must hold for `count` elements (two per element for complex, two elements per
// int32 for the packed 4-bit types), or nullopt on overflow.
std::optional<uint64_t> values_needed(DType dtype, uint64_t count) {
  switch (dtype) {
    case DType::complex64:
    case DType::complex128:
      return count > std::numeric_limits<uint64_t>::max() / 2 ? std::nullopt : std::optional<uint64_t>(count * 2);
    case DType::i4:
    case DType::u4: return count / 2 + count % 2;
    default: return count;
  }
}

// Range an int32_data entry may have for a narrow dtype (bit patterns of f16/bf16/f8 are unsigned).
std::pair<int64_t, int64_t> int32_range(DType dtype) {
  switch (dtype) {
    case DType::i8: return {-128, 127};
    case DType::i16: return {-32768, 32767};
    case DType::u16: case DType::f16: case DType::bf16: return {0, 65535};
    case DType::i32: return {std::numeric_limits<int32_t>::min(), std::numeric_limits<int32_t>::max()};
    default: return {0, 255};  // u8, bool, f8*, packed i4/u4 pairs
  }
}

template <class Src, class Dst>
std::vector<std::byte> copy_values(const google::protobuf::RepeatedField<Src>& values) {
  std::vector<std::byte> bytes(static_cast<size_t>(values.size()) * sizeof(Dst));
  for (int i = 0; i < values.size(); ++i) {
    const auto value = static_cast<Dst>(values.Get(i));
    std::memcpy(bytes.data() + static_cast<size_t>(i) * sizeof(Dst), &value, sizeof(Dst));
  }
  return bytes;
}

std::vector<std::byte> narrow_int32(const onnx::TensorProto& p, DType dtype, const std::string& context,
                                    const ImportContext& ctx) {
  const auto [lo, hi] = int32_range(dtype);
  const size_t width = dtype == DType::i4 || dtype == DType::u4 ? 1 : static_cast<size_t>(dtype_bits(dtype) / 8);
  std::vector<std::byte> bytes(static_cast<size_t>(p.int32_data_size()) * width);
  for (int i = 0; i < p.int32_data_size(); ++i) {
    const int32_t value = p.int32_data(i);
    if (value < lo || value > hi)
      throw_input_error(ctx.path, context + ": int32_data[" + std::to_string(i) + "] = " + std::to_string(value) +
                                      " is out of range for " + std::string(dtype_name(dtype)) + " (expected " +
                                      std::to_string(lo) + ".." + std::to_string(hi) + ")");
    const auto bits = static_cast<uint32_t>(dtype == DType::boolean ? (value != 0) : value);
    std::memcpy(bytes.data() + static_cast<size_t>(i) * width, &bits, width);  // little-endian low bytes
  }
  return bytes;
}

// Strings become (u32 length, bytes) records, the IR's layout for string tensors.
std::vector<std::byte> string_records(const onnx::TensorProto& p) {
  size_t total = 0;
  for (const auto& s : p.string_data()) total += 4 + s.size();
  std::vector<std::byte> bytes(total);
  size_t at = 0;
  for (const auto& s : p.string_data()) {
    const auto length = static_cast<uint32_t>(s.size());
    std::memcpy(bytes.data() + at, &length, 4);
    if (!s.empty()) std::memcpy(bytes.data() + at + 4, s.data(), s.size());
    at += 4 + s.size();
  }
  return bytes;
}

void clear_payload(onnx::TensorProto& p) {
  // Release the proto's copy now that the tensor owns one (keeps peak memory near one copy of the weights).
  std::string().swap(*p.mutable_raw_data());
  p.clear_raw_data();
  p.clear_float_data();
  p.clear_double_data();
  p.clear_int32_data();
  p.clear_int64_data();
  p.clear_uint64_data();
  p.clear_string_data();
}

}  // namespace

Tensor import_tensor(onnx::TensorProto& p, ImportContext& ctx, const std::string& field) {
  auto fail = [&](const std::string& what) { throw_input_error(ctx.path, field + ": " + what); };
  if (p.has_segment()) fail("segmented tensors (TensorProto.segment) are not supported");
  if (p.data_type() == 0) fail("data_type is 0 (UNDEFINED); expected an element type 1-22");
  const auto dtype = dtype_from_onnx(p.data_type());
  if (!dtype) fail("unknown data_type " + std::to_string(p.data_type()) + " (expected 1-22)");
  std::vector<int64_t> dims(p.dims().begin(), p.dims().end());
  for (size_t i = 0; i < dims.size(); ++i)
    if (dims[i] < 0) fail("dims[" + std::to_string(i) + "] is " + std::to_string(dims[i]) + "; dims must be >= 0");
  const auto count = element_count(dims);
  if (!count) fail("dims " + dims_to_string(dims) + " overflow the element count");
  const std::string desc = std::string(dtype_name(*dtype)) + " " + dims_to_string(dims);
  const auto elements = static_cast<uint64_t>(*count);

  if (p.data_location() == onnx::TensorProto::EXTERNAL) {
    if (*dtype == DType::string) fail("string tensors cannot keep their data externally");
    const auto needed = dtype_storage_bytes(*dtype, elements);
    if (!needed) fail(desc + " is too large to address");
    return import_external_tensor(p, ctx, field, *dtype, std::move(dims), *needed, desc);
  }
  if (p.data_location() != onnx::TensorProto::DEFAULT)
    fail("unknown data_location " + std::to_string(p.data_location()) + " (expected 0 DEFAULT or 1 EXTERNAL)");
  if (p.external_data_size() != 0) fail("has external_data entries but data_location is not EXTERNAL");

  const Field typed = field_of(*dtype);
  for (const Field other : kAllFields)
    if (other != typed && field_size(p, other) != 0)
      fail(std::string("has ") + field_name(other) + " but " + std::string(dtype_name(*dtype)) +
           " tensors keep their values in " + (*dtype == DType::string ? "string_data" : "raw_data or ") +
           (*dtype == DType::string ? "" : field_name(typed)));

  std::vector<std::byte> bytes;
  if (*dtype == DType::string) {
    if (p.has_raw_data()) fail("string tensors keep their values in string_data, not raw_data");
    if (static_cast<uint64_t>(p.string_data_size()) != elements)
      fail("string_data has " + std::to_string(p.string_data_size()) + " values but " + desc + " needs " +
           std::to_string(elements));
    bytes = string_records(p);
  } else {
    const auto needed = dtype_storage_bytes(*dtype, elements);
    if (!needed) fail(desc + " is too large to address");
    if (p.has_raw_data()) {
      if (field_size(p, typed) != 0) fail("has both raw_data and " + std::string(field_name(typed)));
      if (p.raw_data().size() != *needed)
        fail("raw_data has " + std::to_string(p.raw_data().size()) + " bytes but " + desc + " needs " +
             std::to_string(*needed));
      bytes.resize(p.raw_data().size());
      if (!bytes.empty()) std::memcpy(bytes.data(), p.raw_data().data(), bytes.size());
    } else {
      const auto values = values_needed(*dtype, elements);
      const auto present = static_cast<uint64_t>(field_size(p, typed));
      if (!values || present != *values) {
        if (present == 0)
          fail("has no data: " + desc + " needs " + std::to_string(*needed) + " bytes of raw_data or " +
               (values ? std::to_string(*values) : std::string("too many")) + " values in " + field_name(typed));
        fail(std::string(field_name(typed)) + " has " + std::to_string(present) + " values but " + desc + " needs " +
             (values ? std::to_string(*values) : std::string("more than can exist")));
      }
      switch (*dtype) {
        case DType::f32: case DType::complex64: bytes = copy_values<float, float>(p.float_data()); break;
        case DType::f64: case DType::complex128: bytes = copy_values<double, double>(p.double_data()); break;
        case DType::i64: bytes = copy_values<int64_t, int64_t>(p.int64_data()); break;
        case DType::u64: bytes = copy_values<uint64_t, uint64_t>(p.uint64_data()); break;
        case DType::u32:
          for (int i = 0; i < p.uint64_data_size(); ++i)
            if (p.uint64_data(i) > std::numeric_limits<uint32_t>::max())
              fail("uint64_data[" + std::to_string(i) + "] = " + std::to_string(p.uint64_data(i)) +
                   " is out of range for u32");
          bytes = copy_values<uint64_t, uint32_t>(p.uint64_data());
          break;
        default: bytes = narrow_int32(p, *dtype, field, ctx); break;
      }
      if (bytes.size() != *needed)  // cannot happen after the count check; kept as a cheap invariant
        fail("typed data converts to " + std::to_string(bytes.size()) + " bytes but " + desc + " needs " +
             std::to_string(*needed));
    }
  }
  clear_payload(p);
  return Tensor::owning(*dtype, std::move(dims), std::move(bytes));
}

void export_tensor(const Tensor& tensor, onnx::TensorProto& proto, const std::string& where, bool with_data) {
  const int32_t data_type = dtype_to_onnx(tensor.dtype());
  if (data_type == 0) throw_input_error(where, "cannot export a tensor without an element type");
  proto.set_data_type(data_type);
  for (const int64_t dim : tensor.dims()) proto.add_dims(dim);
  const auto bytes = tensor.bytes();
  if (!with_data) return;
  if (tensor.dtype() != DType::string) {
    proto.set_raw_data(bytes.empty() ? std::string() : std::string(reinterpret_cast<const char*>(bytes.data()), bytes.size()));
    return;
  }
  size_t at = 0;
  while (at < bytes.size()) {
    uint32_t length = 0;
    if (bytes.size() - at < 4) throw_input_error(where, "string tensor has a truncated length record");
    std::memcpy(&length, bytes.data() + at, 4);
    at += 4;
    if (length > bytes.size() - at) throw_input_error(where, "string tensor record runs past its data");
    proto.add_string_data(std::string(reinterpret_cast<const char*>(bytes.data() + at), length));
    at += length;
  }
}

}  // namespace edgec::onnx_format::detail
