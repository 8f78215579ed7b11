#pragma once
// SHA-256 (FIPS 180-4): checksums of artifact sections and fingerprints of the files a build read.
// Streaming (update any number of times, then final) or one call; digests print as lowercase hex.
#include <array>
#include <cstddef>
#include <cstdint>
#include <filesystem>
#include <span>
#include <string>
#include <string_view>

namespace edgec {

class Sha256 {
 public:
  using Digest = std::array<uint8_t, 32>;

  Sha256() { reset(); }
  void update(std::span<const std::byte> data);
  void update(std::string_view text) { update(std::as_bytes(std::span(text.data(), text.size()))); }
  // The digest of everything given since construction or the last final(); the hasher is then reset.
  Digest final();
  void reset();

 private:
  void compress(const uint8_t* blocks, size_t count);
  std::array<uint32_t, 8> state_{};
  std::array<uint8_t, 64> buffer_{};
  size_t buffered_ = 0;
  uint64_t total_bytes_ = 0;
};

Sha256::Digest sha256(std::span<const std::byte> data);
std::string sha256_hex(std::span<const std::byte> data);
std::string sha256_hex(std::string_view text);
// Hashes a file in chunks (never whole in memory); throws Error(input) naming the path when it cannot be read.
std::string sha256_file(const std::filesystem::path& path);

// Lowercase hex of any bytes (a digest: 64 characters).
std::string to_hex(std::span<const uint8_t> bytes);

// The block function (FIPS 180-4 6.2.2) over `count` consecutive 64-byte blocks. Sha256 uses the x86 SHA
// extensions when the CPU has them (about 5x faster: checksums of multi-GB artifacts are verified at every load)
// and the portable code otherwise; both are public so tests can hold one against the other.
namespace sha256_detail {
void compress_portable(std::array<uint32_t, 8>& state, const uint8_t* blocks, size_t count);
// Returns false (and leaves `state` alone) when the CPU lacks the SHA extensions or this is not x86-64.
bool compress_accelerated(std::array<uint32_t, 8>& state, const uint8_t* blocks, size_t count);
}  // namespace sha256_detail

}  // namespace edgec
