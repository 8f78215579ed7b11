#include "edgepack/atomic_file.hpp"

#include <fcntl.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <random>
#include <string>

#include "edgec/core/error.hpp"

namespace edgec::edgepack {
namespace {

constexpr size_t kBufferSize = size_t{1} << 20;

std::string random_suffix() {
  static constexpr char kChars[] = "abcdefghijklmnopqrstuvwxyz0123456789";
  std::random_device entropy;
  std::uniform_int_distribution<size_t> pick(0, sizeof(kChars) - 2);
  std::string suffix(6, 'x');
  for (char& c : suffix) c = kChars[pick(entropy)];
  return suffix;
}

// Makes the rename itself durable. Best effort: some file systems refuse fsync on a folder.
void sync_folder(const std::filesystem::path& folder) {
  const int fd = ::open(folder.empty() ? "." : folder.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (fd < 0) return;
  ::fsync(fd);
  ::close(fd);
}

}  // namespace

AtomicFile::AtomicFile(std::filesystem::path target) : target_(std::move(target)) {
  // O_EXCL with a random name instead of mkstemp: the file gets the usual 0666 & ~umask permissions.
  for (int attempt = 0; attempt < 100 && fd_ < 0; ++attempt) {
    temp_ = target_;
    temp_ += ".tmp-" + random_suffix();
    fd_ = ::open(temp_.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0666);
    if (fd_ < 0 && errno != EEXIST)
      throw_input_error(target_.string(), std::string("cannot create a temporary file beside it: ") + std::strerror(errno));
  }
  if (fd_ < 0) throw_input_error(target_.string(), "cannot create a temporary file beside it: every name tried exists");
  buffer_.reserve(kBufferSize);
}

AtomicFile::~AtomicFile() {
  if (committed_) return;
  if (fd_ >= 0) ::close(fd_);
  ::unlink(temp_.c_str());
}

void AtomicFile::fail(const std::string& what) const {
  throw_input_error(target_.string(), what + " (while writing " + temp_.filename().string() + "): " + std::strerror(errno));
}

void AtomicFile::write_fully(const std::byte* data, size_t size) {
  while (size > 0) {
    const ssize_t done = ::write(fd_, data, size);
    if (done < 0) {
      if (errno == EINTR) continue;
      fail("cannot write");
    }
    data += done;
    size -= static_cast<size_t>(done);
  }
}

void AtomicFile::flush() {
  write_fully(buffer_.data(), buffer_.size());
  buffer_.clear();
}

void AtomicFile::write(std::span<const std::byte> bytes) {
  written_ += bytes.size();
  if (buffer_.size() + bytes.size() <= kBufferSize) {
    buffer_.insert(buffer_.end(), bytes.begin(), bytes.end());
    return;
  }
  flush();
  if (bytes.size() < kBufferSize) buffer_.assign(bytes.begin(), bytes.end());
  else write_fully(bytes.data(), bytes.size());  // large sections go straight from the tensor's memory
}

void AtomicFile::write_zeros(uint64_t count) {
  static constexpr std::byte kZeros[64] = {};
  while (count > 0) {
    const auto chunk = static_cast<size_t>(std::min<uint64_t>(count, sizeof(kZeros)));
    write({kZeros, chunk});
    count -= chunk;
  }
}

void AtomicFile::commit() {
  flush();
  if (::fsync(fd_) != 0) fail("cannot fsync");
  const int fd = fd_;
  fd_ = -1;
  if (::close(fd) != 0) fail("cannot close");
  if (::rename(temp_.c_str(), target_.c_str()) != 0) fail("cannot rename the temporary file into place");
  committed_ = true;
  sync_folder(target_.parent_path());
}

}  // namespace edgec::edgepack
