// What the manifest encoder and decoder share: the dtype numbering, section names, and the checks of string
// tensors and carried file names.
#include <array>
#include <cstring>

#include "edgepack/manifest_codec.hpp"

namespace edgec::edgepack {
namespace {

// Index = the format's DataType number.
constexpr std::array kDataTypes{
    DType::undefined, DType::f32,        DType::f16,    DType::bf16,       DType::f64,       DType::i8,
    DType::u8,        DType::i16,        DType::u16,    DType::i32,        DType::u32,       DType::i64,
    DType::u64,       DType::boolean,    DType::i4,     DType::u4,         DType::f8e4m3fn,  DType::f8e4m3fnuz,
    DType::f8e5m2,    DType::f8e5m2fnuz, DType::complex64, DType::complex128, DType::string,
};
static_assert(kDataTypes.size() == pb::DataType_MAX + 1, "every DataType of edgepack.proto has an IR dtype");

}  // namespace

pb::DataType to_proto(DType dtype) {
  for (size_t i = 0; i < kDataTypes.size(); ++i)
    if (kDataTypes[i] == dtype) return static_cast<pb::DataType>(i);
  return pb::DATA_TYPE_UNDEFINED;
}

std::optional<DType> from_proto(int value) {
  if (value < 0 || static_cast<size_t>(value) >= kDataTypes.size()) return std::nullopt;
  return kDataTypes[static_cast<size_t>(value)];
}

bool string_records_valid(std::span<const std::byte> bytes, int64_t elements) {
  size_t at = 0;
  for (int64_t i = 0; i < elements; ++i) {
    if (bytes.size() - at < 4) return false;
    uint32_t length = 0;
    for (size_t b = 0; b < 4; ++b) length |= static_cast<uint32_t>(bytes[at + b]) << (8 * b);
    at += 4;
    if (bytes.size() - at < length) return false;
    at += length;
  }
  return at == bytes.size();
}

bool file_name_valid(const std::string& name) {
  if (name.empty() || name == "." || name == "..") return false;
  return name.find_first_of(std::string("/\\\0", 3)) == std::string::npos;
}

std::string node_label(const std::string& node_name, size_t node_index) {
  return node_name.empty() ? "#" + std::to_string(node_index) : node_name;
}

std::string attribute_label(const std::string& prefix, const std::string& node, const std::string& attribute,
                            std::optional<size_t> list_index) {
  std::string label = prefix + node + "." + attribute;
  if (list_index) label += "[" + std::to_string(*list_index) + "]";
  return label;
}

std::string golden_label(const std::string& sample, const std::string& value) { return sample + "/" + value; }

}  // namespace edgec::edgepack
