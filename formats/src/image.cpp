#include "edgec/formats/image.hpp"

#include <stb_image.h>

#include <fstream>
#include <iterator>
#include <limits>
#include <memory>

#include "edgec/core/error.hpp"

namespace edgec {

namespace {

struct StbFree {
  void operator()(stbi_uc* data) const { stbi_image_free(data); }
};

std::string failure_reason() {
  const char* reason = stbi_failure_reason();
  return reason ? reason : "unknown decoder error";
}

}  // namespace

Image decode_image(std::span<const uint8_t> bytes, const std::string& name, int channels) {
  if (channels < 0 || channels > 4)
    throw Error(ErrorCategory::usage, "decode_image: channels must be 0 to 4, got " + std::to_string(channels));
  if (bytes.empty()) throw_input_error(name, "empty file, expected an image (PNG, JPEG, BMP, ...)");
  if (bytes.size() > static_cast<size_t>(std::numeric_limits<int>::max()))
    throw_input_error(name, "image file larger than 2 GiB");
  const int size = static_cast<int>(bytes.size());
  // The header first: reject unknown formats and absurd dimensions before the decoder allocates anything.
  int width = 0, height = 0, file_channels = 0;
  if (!stbi_info_from_memory(bytes.data(), size, &width, &height, &file_channels))
    throw_input_error(name, "not a decodable image (" + failure_reason() + "); expected PNG, JPEG, BMP, GIF, TGA or PNM");
  if (width <= 0 || height <= 0 || int64_t{width} * height > kMaxImagePixels)
    throw_input_error(name, "image is " + std::to_string(width) + "x" + std::to_string(height) +
                                " pixels, expected at most " + std::to_string(kMaxImagePixels) + " pixels");
  int decoded_channels = 0;
  std::unique_ptr<stbi_uc, StbFree> data(
      stbi_load_from_memory(bytes.data(), size, &width, &height, &decoded_channels, channels));
  if (!data) throw_input_error(name, "corrupt or truncated image (" + failure_reason() + ")");
  Image image;
  image.width = width;
  image.height = height;
  image.channels = channels == 0 ? decoded_channels : channels;
  const size_t count = static_cast<size_t>(width) * static_cast<size_t>(height) * static_cast<size_t>(image.channels);
  image.pixels.assign(data.get(), data.get() + count);
  return image;
}

Image load_image(const std::filesystem::path& path, int channels) {
  std::ifstream in(path, std::ios::binary);
  if (!in) throw_input_error(path.string(), "cannot open image file");
  std::vector<uint8_t> bytes((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  if (in.bad()) throw_input_error(path.string(), "read error");
  return decode_image(bytes, path.string(), channels);
}

}  // namespace edgec
