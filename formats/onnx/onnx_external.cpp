// External tensor data (TensorProto.data_location = EXTERNAL): a memory-mapped view, never a copy.
// A model file must not be able to read arbitrary files: `location` is resolved only inside the model's
// folder (no absolute paths, no "..", no symlink leading out of it).
#include <charconv>
#include <system_error>

#include "edgec/core/confined_path.hpp"
#include "edgec/core/error.hpp"
#include "onnx_internal.hpp"

namespace edgec::onnx_format::detail {
namespace fs = std::filesystem;
namespace {

uint64_t parse_number(const std::string& text, const ImportContext& ctx, const std::string& field,
                      const std::string& key) {
  uint64_t value = 0;
  const char* end = text.data() + text.size();
  const auto [ptr, ec] = std::from_chars(text.data(), end, value);
  if (text.empty() || ec != std::errc() || ptr != end)
    throw_input_error(ctx.path, field + ": external_data '" + key + "' is " + quote_name(text) +
                                    "; expected a non-negative decimal integer");
  return value;
}

fs::path resolve_location(const std::string& location, const ImportContext& ctx, const std::string& field) {
  auto resolved = resolve_inside_folder(ctx.folder, location, "the model's folder");
  if (!resolved.problem.empty())
    throw_input_error(ctx.path, field + ": external data location " + quote_name(location) + " " + resolved.problem);
  return std::move(resolved.path);
}

}  // namespace

Tensor import_external_tensor(const onnx::TensorProto& p, ImportContext& ctx, const std::string& field,
                              DType dtype, std::vector<int64_t> dims, uint64_t needed, const std::string& desc) {
  auto fail = [&](const std::string& what) { throw_input_error(ctx.path, field + ": " + what); };
  if (p.has_raw_data() || p.float_data_size() || p.double_data_size() || p.int32_data_size() ||
      p.int64_data_size() || p.uint64_data_size() || p.string_data_size())
    fail("has data_location EXTERNAL but also inline data");
  std::optional<std::string> location;
  std::optional<uint64_t> offset, length;
  for (const auto& entry : p.external_data()) {
    const auto& key = entry.key();
    if (key == "location") {
      if (location) fail("external_data lists 'location' twice");
      location = entry.value();
    } else if (key == "offset") {
      if (offset) fail("external_data lists 'offset' twice");
      offset = parse_number(entry.value(), ctx, field, key);
    } else if (key == "length") {
      if (length) fail("external_data lists 'length' twice");
      length = parse_number(entry.value(), ctx, field, key);
    }
    // "checksum" and unknown keys are informational.
  }
  if (!location) fail("data_location is EXTERNAL but external_data has no 'location'");
  if (length && *length != needed)
    fail("external_data 'length' is " + std::to_string(*length) + " but " + desc + " needs " + std::to_string(needed));

  const fs::path target = resolve_location(*location, ctx, field);
  auto& file = ctx.external_files[target];
  if (!file) {
    try {
      file = MappedFile::open(target);
    } catch (const Error& error) {
      ctx.external_files.erase(target);
      fail(std::string("external data: ") + error.what());
    }
  }
  const uint64_t start = offset.value_or(0);
  if (start > file->size())
    fail("external_data 'offset' " + std::to_string(start) + " is past the end of " + quote_name(*location) + " (" +
         std::to_string(file->size()) + " bytes)");
  if (needed > file->size() - start)
    fail(quote_name(*location) + " has " + std::to_string(file->size() - start) + " bytes after offset " +
         std::to_string(start) + " but " + desc + " needs " + std::to_string(needed));
  return Tensor::view(dtype, std::move(dims), file, static_cast<size_t>(start), static_cast<size_t>(needed));
}

}  // namespace edgec::onnx_format::detail
