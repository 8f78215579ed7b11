#pragma once
// An opened .edgepack file: the mapping, the checked header, the parsed manifest and its section table. open()
// checks everything that does not need the data (magic, version, flags, sizes, the manifest's checksum, every
// section's range and alignment); the data itself is checked section by section when it is used.
#include <cstdint>
#include <filesystem>
#include <memory>
#include <span>
#include <string>
#include <vector>

#include "edgec/core/mapped_file.hpp"
#include "edgec/core/tensor.hpp"
#include "edgepack/edgepack.pb.h"
#include "edgepack/file_header.hpp"

namespace edgec::edgepack {

class Container {
 public:
  // Throws Error(input) naming the file for anything wrong with the header, the manifest or the section table.
  static Container open(const std::filesystem::path& path);

  const std::string& where() const { return where_; }
  const FileHeader& header() const { return header_; }
  const pb::Manifest& manifest() const { return manifest_; }
  uint64_t file_size() const { return file_->size(); }
  uint64_t data_offset() const { return data_offset_; }
  const std::shared_ptr<const MappedFile>& file() const { return file_; }

  // The section's bytes as stored (compressed or not). `what` names the referencing tensor or file in errors.
  const pb::Section& section(uint32_t index, const std::string& what) const;
  std::span<const std::byte> stored_bytes(uint32_t index) const;
  // Throws "<file>: <what> (section N): checksum mismatch (expected <hex>, got <hex>)".
  void verify_checksum(uint32_t index, const std::string& what) const;
  // The padding between manifest and sections is zero (so every byte of the file is covered by a check).
  void verify_padding() const;
  // Checks a tensor of `dtype` x `dims` fits the section: byte size for fixed-size types, string records after
  // decompression otherwise.
  void check_tensor_size(uint32_t index, DType dtype, int64_t elements, const std::string& what) const;
  // The section's bytes as the tensor uses them: a view of the mapping, or decompressed into memory.
  Tensor tensor(uint32_t index, DType dtype, std::vector<int64_t> dims, const std::string& what) const;
  std::string bytes_of(uint32_t index, const std::string& what) const;

 private:
  Container() = default;
  std::vector<std::byte> decompress(uint32_t index, const std::string& what) const;
  std::string describe(uint32_t index, const std::string& what) const;

  std::string where_;
  std::shared_ptr<const MappedFile> file_;
  FileHeader header_;
  pb::Manifest manifest_;
  uint64_t data_offset_ = 0;
};

}  // namespace edgec::edgepack
