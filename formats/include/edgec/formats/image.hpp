#pragma once
// Still images (PNG, JPEG, BMP, GIF, TGA, PNM, PSD, HDR) decoded to 8-bit interleaved pixels with Debian's stb_image.
// Every failure — unreadable file, unknown format, truncated or corrupt data, absurd dimensions — is an
// Error(input) naming the file; nothing malformed reaches the decoder's caller.
#include <cstdint>
#include <filesystem>
#include <span>
#include <string>
#include <vector>

namespace edgec {

struct Image {
  int width = 0;
  int height = 0;
  int channels = 0;             // 1 gray, 2 gray + alpha, 3 RGB, 4 RGBA
  std::vector<uint8_t> pixels;  // row-major, interleaved: pixels[(y * width + x) * channels + c]

  uint8_t at(int x, int y, int c) const {
    return pixels[(static_cast<size_t>(y) * static_cast<size_t>(width) + static_cast<size_t>(x)) *
                      static_cast<size_t>(channels) + static_cast<size_t>(c)];
  }
};

// Images above this many pixels are rejected before decoding (a crafted header can claim 2^24 x 2^24).
inline constexpr int64_t kMaxImagePixels = int64_t{1} << 28;

// `channels` 0 keeps the file's own channel count; 1 to 4 converts (e.g. 3 = RGB, alpha dropped).
Image load_image(const std::filesystem::path& path, int channels = 3);
// Decodes bytes already in memory; `name` is used in error messages in place of a file name.
Image decode_image(std::span<const uint8_t> bytes, const std::string& name, int channels = 3);

}  // namespace edgec
