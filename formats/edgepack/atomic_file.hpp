#pragma once
// A file that appears at its final path complete or not at all: written to `<target>.tmp-XXXXXX` in the same
// folder (so the rename cannot cross file systems), fsync'ed, then renamed over the target. Destroyed before
// commit() — an exception on the way — it removes the temporary file.
#include <cstddef>
#include <cstdint>
#include <filesystem>
#include <span>
#include <vector>

namespace edgec::edgepack {

class AtomicFile {
 public:
  // Throws Error(input) naming `target` when the temporary file cannot be created.
  explicit AtomicFile(std::filesystem::path target);
  AtomicFile(const AtomicFile&) = delete;
  AtomicFile& operator=(const AtomicFile&) = delete;
  ~AtomicFile();

  void write(std::span<const std::byte> bytes);
  void write_zeros(uint64_t count);
  uint64_t written() const { return written_; }
  // Flush, fsync, close, rename over the target, fsync the folder. Throws Error(input) on any failure.
  void commit();

  const std::filesystem::path& temp_path() const { return temp_; }

 private:
  void flush();
  void write_fully(const std::byte* data, size_t size);
  [[noreturn]] void fail(const std::string& what) const;

  std::filesystem::path target_;
  std::filesystem::path temp_;
  int fd_ = -1;
  bool committed_ = false;
  uint64_t written_ = 0;
  std::vector<std::byte> buffer_;  // gathers the many small writes (header, padding) into few syscalls
};

}  // namespace edgec::edgepack
