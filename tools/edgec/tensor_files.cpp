#include "tensor_files.hpp"

#include <fstream>

#include "edgec/core/error.hpp"
#include "edgec/formats/npy.hpp"

namespace edgec::cli {

std::pair<std::string, std::string> split_assignment(const std::string& text, const std::string& option) {
  const auto eq = text.find('=');
  if (eq == std::string::npos || eq == 0 || eq + 1 == text.size())
    throw Error(ErrorCategory::usage, option + " expects name=value, got '" + text + "'");
  return {text.substr(0, eq), text.substr(eq + 1)};
}

std::vector<int64_t> parse_dims(const std::string& text, const std::string& option) {
  std::vector<int64_t> dims;
  size_t start = 0;
  while (start <= text.size()) {
    const size_t comma = std::min(text.find(',', start), text.size());
    const std::string item = text.substr(start, comma - start);
    size_t used = 0;
    int64_t value = -1;
    try {
      value = std::stoll(item, &used);
    } catch (const std::exception&) {
      used = 0;
    }
    if (used != item.size() || item.empty() || value < 0)
      throw Error(ErrorCategory::usage, option + ": '" + text + "' is not a comma-separated list of dims");
    dims.push_back(value);
    start = comma + 1;
  }
  return dims;
}

namespace {

runtime::HostTensor read_raw(const std::filesystem::path& file, DType dtype, size_t element_bytes,
                             const std::optional<std::vector<int64_t>>& shape) {
  std::ifstream in(file, std::ios::binary);
  if (!in) throw_input_error(file.string(), "cannot open");
  in.seekg(0, std::ios::end);
  const auto bytes = static_cast<size_t>(in.tellg());
  in.seekg(0);
  if (bytes % element_bytes != 0)
    throw_input_error(file.string(), std::to_string(bytes) + " bytes is not a whole number of " + std::string(dtype_name(dtype)) + " values");
  const auto count = static_cast<int64_t>(bytes / element_bytes);
  std::vector<int64_t> dims = shape ? *shape : std::vector<int64_t>{count};
  const auto expected = element_count(dims);
  if (!expected || *expected != count)
    throw_input_error(file.string(), "holds " + std::to_string(count) + " " + std::string(dtype_name(dtype)) + " values but --shape " +
                                         dims_to_string(dims) + " needs " + (expected ? std::to_string(*expected) : std::string("too many")));
  auto tensor = runtime::HostTensor::empty(dtype, dims);
  in.read(reinterpret_cast<char*>(tensor.mutable_raw()), static_cast<std::streamsize>(bytes));
  return tensor;
}

runtime::HostTensor widen_ids(const runtime::HostTensor& ids) {
  const auto values = ids.to_i64();
  return runtime::HostTensor::from_values<int64_t>(DType::i64, ids.dims(), values);
}

}  // namespace

runtime::HostTensor read_tensor_file(const std::filesystem::path& file, const std::optional<std::vector<int64_t>>& shape) {
  const std::string ext = file.extension().string();
  if (ext == ".npy") {
    auto tensor = runtime::HostTensor::from_ir(npy::read(file));
    if (shape && *shape != tensor.dims())
      throw_input_error(file.string(), "shape " + dims_to_string(tensor.dims()) + " differs from --shape " + dims_to_string(*shape));
    return tensor;
  }
  if (ext == ".f32") return read_raw(file, DType::f32, 4, shape);
  if (ext == ".i32") return widen_ids(read_raw(file, DType::i32, 4, shape));
  if (ext == ".i64") return read_raw(file, DType::i64, 8, shape);
  throw_input_error(file.string(), "unknown input file type '" + ext + "' (expected .npy, .f32, .i32 or .i64)");
}

std::vector<int64_t> read_token_ids(const std::filesystem::path& file) {
  const std::string ext = file.extension().string();
  // Raw little-endian int32 is the token-id format of every model folder: any other extension is read as it.
  const auto tensor = ext == ".npy" || ext == ".i64" || ext == ".f32" ? read_tensor_file(file, std::nullopt)
                                                                      : read_raw(file, DType::i32, 4, std::nullopt);
  if (!dtype_is_integer(tensor.dtype())) throw_input_error(file.string(), "token ids must be integers, got " + runtime::describe(tensor));
  return tensor.to_i64();
}

void write_npy(const std::filesystem::path& file, const runtime::HostTensor& tensor) { npy::write(file, tensor.to_ir()); }

}  // namespace edgec::cli
