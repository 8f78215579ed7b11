#pragma once
// The fixed 56-byte header at the start of every .edgepack file (docs/edgepack.md, "Header"), and the
// alignment rule of the data area. Integers are little-endian whatever the host.
#include <array>
#include <cstddef>
#include <cstdint>
#include <span>
#include <string>

#include "edgec/core/sha256.hpp"

namespace edgec::edgepack {

inline constexpr std::array<char, 8> kMagic{'E', 'D', 'G', 'E', 'P', 'A', 'C', 'K'};
inline constexpr size_t kHeaderSize = 56;
inline constexpr uint64_t kAlignment = 64;       // every section starts at a multiple of 64 in the file
inline constexpr uint32_t kFlagZstd = 1u << 0;   // at least one section is zstd-compressed
inline constexpr uint32_t kKnownFlags = kFlagZstd;

struct FileHeader {
  uint32_t version = 0;
  uint32_t flags = 0;
  uint64_t manifest_size = 0;
  Sha256::Digest manifest_sha256{};
};

inline uint64_t align_up(uint64_t value) { return (value + kAlignment - 1) / kAlignment * kAlignment; }

// Where the data area starts for a manifest of `manifest_size` bytes.
inline uint64_t data_offset_for(uint64_t manifest_size) { return align_up(kHeaderSize + manifest_size); }

inline std::array<std::byte, kHeaderSize> encode_header(const FileHeader& header) {
  std::array<std::byte, kHeaderSize> bytes{};
  for (size_t i = 0; i < kMagic.size(); ++i) bytes[i] = static_cast<std::byte>(kMagic[i]);
  auto put = [&](size_t at, uint64_t value, size_t width) {
    for (size_t i = 0; i < width; ++i) bytes[at + i] = static_cast<std::byte>(value >> (8 * i));
  };
  put(8, header.version, 4);
  put(12, header.flags, 4);
  put(16, header.manifest_size, 8);
  for (size_t i = 0; i < header.manifest_sha256.size(); ++i) bytes[24 + i] = static_cast<std::byte>(header.manifest_sha256[i]);
  return bytes;
}

// Reads the fields without judging them (the reader does, with messages naming the file).
inline FileHeader decode_header(std::span<const std::byte, kHeaderSize> bytes) {
  auto get = [&](size_t at, size_t width) {
    uint64_t value = 0;
    for (size_t i = 0; i < width; ++i) value |= static_cast<uint64_t>(bytes[at + i]) << (8 * i);
    return value;
  };
  FileHeader header;
  header.version = static_cast<uint32_t>(get(8, 4));
  header.flags = static_cast<uint32_t>(get(12, 4));
  header.manifest_size = get(16, 8);
  for (size_t i = 0; i < header.manifest_sha256.size(); ++i) header.manifest_sha256[i] = static_cast<uint8_t>(bytes[24 + i]);
  return header;
}

}  // namespace edgec::edgepack
