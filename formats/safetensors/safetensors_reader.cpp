// Reads one .safetensors file: validates the whole header against the file before creating any tensor, then
// returns views of the mapped data section (no weight is copied).
#include <algorithm>
#include <array>
#include <limits>
#include <optional>
#include <utility>
#include <vector>

#include "edgec/core/error.hpp"
#include "edgec/formats/safetensors.hpp"
#include "safetensors/strict_json.hpp"

namespace edgec::safetensors {
namespace {

using formats_detail::describe_json;
using formats_detail::printable;
using nlohmann::json;

// The reference implementation refuses headers above 100 MB; so do we, before parsing anything.
constexpr uint64_t kMaxHeaderBytes = uint64_t{100} << 20;
// Root object -> entry object -> shape array -> numbers: anything deeper is not a safetensors header.
constexpr int kMaxHeaderDepth = 4;

struct DTypeName {
  std::string_view name;
  DType dtype;
};

constexpr std::array kDTypes{
    DTypeName{"F32", DType::f32},    DTypeName{"F16", DType::f16},   DTypeName{"BF16", DType::bf16},
    DTypeName{"F64", DType::f64},    DTypeName{"I8", DType::i8},     DTypeName{"U8", DType::u8},
    DTypeName{"I16", DType::i16},    DTypeName{"U16", DType::u16},   DTypeName{"I32", DType::i32},
    DTypeName{"U32", DType::u32},    DTypeName{"I64", DType::i64},   DTypeName{"U64", DType::u64},
    DTypeName{"BOOL", DType::boolean}, DTypeName{"F8_E4M3", DType::f8e4m3fn}, DTypeName{"F8_E5M2", DType::f8e5m2},
};

std::optional<DType> dtype_from_header(std::string_view name) {
  for (const auto& entry : kDTypes)
    if (entry.name == name) return entry.dtype;
  return std::nullopt;
}

std::string supported_dtypes() {
  std::string list;
  for (const auto& entry : kDTypes) list += (list.empty() ? "" : " ") + std::string(entry.name);
  return list;
}

std::optional<uint64_t> non_negative(const json& value) {
  if (value.is_number_unsigned()) return value.get<uint64_t>();
  return std::nullopt;  // negative integers are number_integer, fractions number_float
}

struct Entry {
  std::string name;
  DType dtype = DType::undefined;
  std::vector<int64_t> dims;
  uint64_t begin = 0;
  uint64_t end = 0;
};

Entry parse_entry(const std::string& file, const std::string& name, const json& value, uint64_t data_size) {
  const std::string where = file + ": tensor '" + printable(name) + "'";
  if (!value.is_object())
    throw_input_error(where, "expected an object with dtype, shape and data_offsets, got " + describe_json(value));
  Entry entry;
  entry.name = name;

  const auto dtype_it = value.find("dtype");
  if (dtype_it == value.end()) throw_input_error(where, "dtype: missing");
  if (!dtype_it->is_string()) throw_input_error(where, "dtype: expected a string, got " + describe_json(*dtype_it));
  const auto dtype = dtype_from_header(dtype_it->get_ref<const std::string&>());
  if (!dtype)
    throw_input_error(where, "dtype: unknown dtype " + describe_json(*dtype_it) + " (supported: " +
                                 supported_dtypes() + ")");
  entry.dtype = *dtype;

  const auto shape_it = value.find("shape");
  if (shape_it == value.end()) throw_input_error(where, "shape: missing");
  if (!shape_it->is_array())
    throw_input_error(where, "shape: expected an array of non-negative integers, got " + describe_json(*shape_it));
  for (const json& dim : *shape_it) {
    const auto size = non_negative(dim);
    if (!size || *size > static_cast<uint64_t>(std::numeric_limits<int64_t>::max()))
      throw_input_error(where, "shape: expected non-negative integers, got " + describe_json(dim));
    entry.dims.push_back(static_cast<int64_t>(*size));
  }
  const auto count = element_count(entry.dims);
  const auto needed = count ? dtype_storage_bytes(entry.dtype, static_cast<uint64_t>(*count)) : std::nullopt;
  if (!needed)
    throw_input_error(where, "shape: " + dims_to_string(entry.dims) + " has more elements than can be stored");

  const auto offsets_it = value.find("data_offsets");
  if (offsets_it == value.end()) throw_input_error(where, "data_offsets: missing");
  const json& offsets = *offsets_it;
  std::optional<uint64_t> begin;
  std::optional<uint64_t> end;
  if (offsets.is_array() && offsets.size() == 2) {
    begin = non_negative(offsets[0]);
    end = non_negative(offsets[1]);
  }
  if (!begin || !end || *begin > *end)
    throw_input_error(where, "data_offsets: expected [begin, end] with 0 <= begin <= end, got " +
                                 describe_json(offsets));
  entry.begin = *begin;
  entry.end = *end;
  if (entry.end > data_size)
    throw_input_error(where, "data_offsets: end " + std::to_string(entry.end) + " is past the data section (" +
                                 std::to_string(data_size) + " bytes)");
  if (entry.end - entry.begin != *needed)
    throw_input_error(where, "data_offsets: " + std::string(dtype_name(entry.dtype)) + " " +
                                 dims_to_string(entry.dims) + " needs " + std::to_string(*needed) + " bytes, got " +
                                 std::to_string(entry.end - entry.begin));
  return entry;
}

std::map<std::string, std::string> parse_metadata(const std::string& file, const json& value) {
  const std::string where = file + ": __metadata__";
  if (!value.is_object())
    throw_input_error(where, "expected an object of string values, got " + describe_json(value));
  std::map<std::string, std::string> metadata;
  for (const auto& [key, item] : value.items()) {
    if (!item.is_string())
      throw_input_error(where + "." + printable(key), "expected a string, got " + describe_json(item));
    metadata.emplace(key, item.get<std::string>());
  }
  return metadata;
}

}  // namespace

Checkpoint read_file(const std::filesystem::path& path) {
  const std::string file = path.string();
  auto mapped = MappedFile::open(path);
  const auto bytes = mapped->bytes();
  if (bytes.size() < 8)
    throw_input_error(file, "header length: the file has " + std::to_string(bytes.size()) +
                                " bytes, fewer than the 8-byte header length");
  uint64_t header_size = 0;
  for (int i = 7; i >= 0; --i) header_size = (header_size << 8) | static_cast<uint8_t>(bytes[static_cast<size_t>(i)]);
  if (header_size > bytes.size() - 8)
    throw_input_error(file, "header length: " + std::to_string(header_size) + " bytes, but only " +
                                std::to_string(bytes.size() - 8) + " follow it");
  if (header_size > kMaxHeaderBytes)
    throw_input_error(file, "header length: " + std::to_string(header_size) + " bytes exceeds the 100 MiB limit");
  const std::string_view header_text(reinterpret_cast<const char*>(bytes.data() + 8), static_cast<size_t>(header_size));
  const size_t data_start = 8 + static_cast<size_t>(header_size);
  const uint64_t data_size = bytes.size() - data_start;

  const json header = formats_detail::parse_strict_json(header_text, file + ": header", kMaxHeaderDepth);
  if (!header.is_object()) throw_input_error(file + ": header", "expected a JSON object, got " + describe_json(header));

  Checkpoint checkpoint;
  std::vector<Entry> entries;
  for (const auto& [key, value] : header.items()) {
    if (key == "__metadata__")
      checkpoint.metadata = parse_metadata(file, value);
    else
      entries.push_back(parse_entry(file, key, value, data_size));
  }
  // Byte ranges may leave gaps but must not share bytes: sort by start, compare neighbours.
  std::vector<const Entry*> by_offset;
  for (const auto& entry : entries) by_offset.push_back(&entry);
  std::sort(by_offset.begin(), by_offset.end(), [](const Entry* a, const Entry* b) {
    return std::pair(a->begin, a->end) < std::pair(b->begin, b->end);
  });
  for (size_t i = 1; i < by_offset.size(); ++i)
    if (by_offset[i]->begin < by_offset[i - 1]->end)
      throw_input_error(file + ": tensor '" + printable(by_offset[i]->name) + "'",
                        "data_offsets: [" + std::to_string(by_offset[i]->begin) + ", " +
                            std::to_string(by_offset[i]->end) + "] overlaps tensor '" +
                            printable(by_offset[i - 1]->name) + "' [" + std::to_string(by_offset[i - 1]->begin) +
                            ", " + std::to_string(by_offset[i - 1]->end) + "]");

  // Everything checked: now create the views.
  for (auto& entry : entries) {
    const size_t offset = data_start + static_cast<size_t>(entry.begin);
    const size_t size = static_cast<size_t>(entry.end - entry.begin);
    checkpoint.tensors.emplace(entry.name, Tensor::view(entry.dtype, std::move(entry.dims), mapped, offset, size));
  }
  checkpoint.files.push_back(path);
  return checkpoint;
}

}  // namespace edgec::safetensors
