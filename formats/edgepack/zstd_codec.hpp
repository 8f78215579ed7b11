#pragma once
// zstd for .edgepack sections: one frame per section, compressed with fixed parameters so the same bytes and
// the same libzstd give the same frame (docs/edgepack.md, "Compression").
#include <cstddef>
#include <cstdint>
#include <span>
#include <string>
#include <vector>

namespace edgec::edgepack {

// Level 9: a fixed point between ratio and speed (levels above ~15 cost 10x the time for a few percent on
// weights). Single-threaded, no checksum (the section has its SHA-256), content size recorded.
inline constexpr int kZstdLevel = 9;

// The zstd format bounds expansion: a 128 KiB RLE block costs 4 bytes, so no frame decompresses to more than
// 32768 times its size. A manifest claiming more is corrupt, and is rejected before anything is allocated.
inline constexpr uint64_t kZstdMaxRatio = 32768;

std::vector<std::byte> zstd_compress(std::span<const std::byte> raw);

// Decompresses the single frame `frame`, which must hold exactly `size` bytes. Throws Error(input) "`where`:
// `what`: ..." when the frame is malformed, declares or yields another size, or is followed by trailing bytes.
std::vector<std::byte> zstd_decompress(std::span<const std::byte> frame, uint64_t size, const std::string& where,
                                       const std::string& what);

}  // namespace edgec::edgepack
