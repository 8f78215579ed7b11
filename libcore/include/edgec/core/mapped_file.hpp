#pragma once
// A read-only memory map of a whole file. Tensors that view a checkpoint hold a shared_ptr to it, so the
// mapping lives exactly as long as the last tensor that needs it.
#include <cstddef>
#include <filesystem>
#include <memory>
#include <span>

namespace edgec {

class MappedFile {
 public:
  // Throws Error(input) naming the path when it cannot be opened or mapped.
  static std::shared_ptr<const MappedFile> open(const std::filesystem::path& path);

  MappedFile(const MappedFile&) = delete;
  MappedFile& operator=(const MappedFile&) = delete;
  ~MappedFile();

  std::span<const std::byte> bytes() const { return {data_, size_}; }
  size_t size() const { return size_; }
  const std::filesystem::path& path() const { return path_; }

 private:
  MappedFile(std::filesystem::path path, const std::byte* data, size_t size)
      : path_(std::move(path)), data_(data), size_(size) {}
  std::filesystem::path path_;
  const std::byte* data_;  // not owning in the C++ sense: released by munmap in the destructor
  size_t size_;
};

}  // namespace edgec
