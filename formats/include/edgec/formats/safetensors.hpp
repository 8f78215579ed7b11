#pragma once
// safetensors reading: the file is memory-mapped and every tensor is a view of it (no copies).
// Format: u64 little-endian header length N, N bytes of JSON header, then the data section.
#include <filesystem>
#include <map>
#include <memory>
#include <string>

#include "edgec/core/tensor.hpp"

namespace edgec::safetensors {

struct Checkpoint {
  std::map<std::string, Tensor> tensors;
  std::map<std::string, std::string> metadata;    // the header's __metadata__
  std::vector<std::filesystem::path> files;       // shards read, in order
};

// One .safetensors file. Validates the header completely before creating any tensor.
Checkpoint read_file(const std::filesystem::path& file);
// model.safetensors.index.json and its shards (each shard must lie inside the index's folder).
Checkpoint read_index(const std::filesystem::path& index_json);

}  // namespace edgec::safetensors
