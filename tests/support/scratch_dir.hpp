#pragma once
// A fresh folder under the temp directory, removed with its contents when the test ends (also when a REQUIRE
// fails). The name holds the process id and a per-process counter: parallel test processes never share one.
#include <unistd.h>

#include <atomic>
#include <filesystem>
#include <string>

namespace edgec::test {

class ScratchDir {
 public:
  explicit ScratchDir(const std::string& tag) {
    path_ = std::filesystem::temp_directory_path() / ("edgec_" + tag + "_" + std::to_string(::getpid()) + "_" + std::to_string(next_index()));
    std::filesystem::remove_all(path_);
    std::filesystem::create_directories(path_);
  }
  ScratchDir(const ScratchDir&) = delete;
  ScratchDir& operator=(const ScratchDir&) = delete;
  ~ScratchDir() {
    std::error_code ignored;
    std::filesystem::remove_all(path_, ignored);
  }
  std::filesystem::path operator/(const std::string& name) const { return path_ / name; }
  const std::filesystem::path& path() const { return path_; }

 private:
  static int next_index() {
    static std::atomic<int> counter{0};  // test-only: distinct folders within one process
    return counter++;
  }
  std::filesystem::path path_;
};

}  // namespace edgec::test
