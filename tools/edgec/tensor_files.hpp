#pragma once
// Tensors in and out of `edgec run`: .npy files, raw little-endian .f32/.i32/.i64 with a given shape, and
// "name=value" option parsing.
#include <filesystem>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "edgec/runtime/host_tensor.hpp"

namespace edgec::cli {

// "name=value" -> {name, value}; Error(usage) naming `option` otherwise.
std::pair<std::string, std::string> split_assignment(const std::string& text, const std::string& option);
// "1,3,28,28" -> dims; Error(usage) otherwise.
std::vector<int64_t> parse_dims(const std::string& text, const std::string& option);

// .npy (any supported dtype), or raw .f32 / .i32 / .i64 (shape from `shape`, else 1-D). Token ids (.i32) are
// widened to i64, which is what graphs take. Error(input) naming the file when size and shape disagree.
runtime::HostTensor read_tensor_file(const std::filesystem::path& file, const std::optional<std::vector<int64_t>>& shape);
// Token ids, flattened: .npy (any integer dtype), raw little-endian int64 .i64, or raw little-endian int32 (.i32
// and any other extension). Error(input) naming the file for a float .npy / .f32 or a size that is not a whole
// number of ids.
std::vector<int64_t> read_token_ids(const std::filesystem::path& file);
void write_npy(const std::filesystem::path& file, const runtime::HostTensor& tensor);

}  // namespace edgec::cli
