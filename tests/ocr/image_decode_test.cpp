// formats/image: real encodings decode; truncated, corrupt and hostile files are clean Error(input)s naming the file.
#include <doctest/doctest.h>
#include <stb_image_write.h>

#include <cstdint>
#include <filesystem>
#include <fstream>
#include <random>
#include <string>
#include <vector>

#include "edgec/core/error.hpp"
#include "edgec/formats/image.hpp"

namespace {

using edgec::Error;
using edgec::ErrorCategory;

void append(void* context, void* data, int size) {
  auto* out = static_cast<std::vector<uint8_t>*>(context);
  const auto* bytes = static_cast<const uint8_t*>(data);
  out->insert(out->end(), bytes, bytes + size);
}

// A 37x23 RGB gradient, so every row and channel differs.
std::vector<uint8_t> gradient(int width, int height) {
  std::vector<uint8_t> pixels(static_cast<size_t>(width * height * 3));
  for (int y = 0; y < height; ++y)
    for (int x = 0; x < width; ++x) {
      const size_t i = static_cast<size_t>((y * width + x) * 3);
      pixels[i] = static_cast<uint8_t>(x * 6);
      pixels[i + 1] = static_cast<uint8_t>(y * 10);
      pixels[i + 2] = static_cast<uint8_t>(128 + x - y);
    }
  return pixels;
}

std::vector<uint8_t> png(int width, int height) {
  const auto pixels = gradient(width, height);
  std::vector<uint8_t> out;
  REQUIRE(stbi_write_png_to_func(append, &out, width, height, 3, pixels.data(), width * 3));
  return out;
}

std::vector<uint8_t> jpeg(int width, int height) {
  const auto pixels = gradient(width, height);
  std::vector<uint8_t> out;
  REQUIRE(stbi_write_jpg_to_func(append, &out, width, height, 3, pixels.data(), 90));
  return out;
}

// The decoder must reject `bytes` with an input error that names `name`.
void check_rejected(const std::vector<uint8_t>& bytes, const std::string& name) {
  try {
    (void)edgec::decode_image(bytes, name);
    FAIL("decoded " << name);
  } catch (const Error& e) {
    CHECK(e.category() == ErrorCategory::input);
    CHECK(std::string(e.what()).rfind(name + ": ", 0) == 0);
  }
}

}  // namespace

TEST_CASE("image: PNG decodes losslessly, channels are converted on request") {
  const auto bytes = png(37, 23);
  const auto rgb = edgec::decode_image(bytes, "gradient.png");
  CHECK(rgb.width == 37);
  CHECK(rgb.height == 23);
  CHECK(rgb.channels == 3);
  CHECK(rgb.pixels == gradient(37, 23));
  const auto rgba = edgec::decode_image(bytes, "gradient.png", 4);
  CHECK(rgba.channels == 4);
  CHECK(rgba.at(5, 7, 0) == rgb.at(5, 7, 0));
  CHECK(rgba.at(5, 7, 3) == 255);
  CHECK(edgec::decode_image(bytes, "gradient.png", 0).channels == 3);  // the file's own count
  const auto gray = edgec::decode_image(bytes, "gradient.png", 1);
  CHECK(gray.channels == 1);
  CHECK(gray.pixels.size() == 37u * 23u);
}

TEST_CASE("image: JPEG decodes close to its source") {
  const auto image = edgec::decode_image(jpeg(64, 48), "gradient.jpg");
  REQUIRE(image.width == 64);
  REQUIRE(image.height == 48);
  const auto source = gradient(64, 48);
  double error = 0;
  for (size_t i = 0; i < source.size(); ++i) error += std::abs(int{image.pixels[i]} - int{source[i]});
  CHECK(error / static_cast<double>(source.size()) < 8.0);  // quality 90; the gradient wraps from 255 to 0 (a hard edge)
}

TEST_CASE("image: truncated PNG is an input error naming the file") {
  const auto bytes = png(37, 23);
  for (const size_t keep : {size_t{8}, size_t{30}, size_t{60}, bytes.size() / 2, bytes.size() - 13}) {
    INFO("kept " << keep << " of " << bytes.size() << " bytes");
    check_rejected(std::vector<uint8_t>(bytes.begin(), bytes.begin() + static_cast<std::ptrdiff_t>(keep)), "cut.png");
  }
}

TEST_CASE("image: truncated JPEG is an input error naming the file") {
  const auto bytes = jpeg(64, 48);
  for (const size_t keep : {size_t{2}, size_t{20}, size_t{200}, bytes.size() / 2, bytes.size() - 2}) {
    INFO("kept " << keep << " of " << bytes.size() << " bytes");
    check_rejected(std::vector<uint8_t>(bytes.begin(), bytes.begin() + static_cast<std::ptrdiff_t>(keep)), "cut.jpg");
  }
}

TEST_CASE("image: garbage, empty and corrupt data are input errors") {
  std::vector<uint8_t> garbage(1000);
  for (size_t i = 0; i < garbage.size(); ++i) garbage[i] = static_cast<uint8_t>(i * 7919 % 251);
  check_rejected(garbage, "garbage.bin");
  check_rejected({}, "empty.png");
  // A PNG whose compressed pixel data is overwritten: zlib or the filter bytes fail.
  auto corrupt = png(37, 23);
  for (size_t i = 60; i + 20 < corrupt.size(); ++i) corrupt[i] = static_cast<uint8_t>(0xA5 ^ i);
  check_rejected(corrupt, "corrupt.png");
}

TEST_CASE("image: a header claiming absurd dimensions is rejected before decoding") {
  // PNG signature + IHDR for 200000 x 200000 RGB (stb checks no CRC in the header scan).
  std::vector<uint8_t> bytes{0x89, 'P', 'N', 'G', 0x0D, 0x0A, 0x1A, 0x0A, 0, 0, 0, 13, 'I', 'H', 'D', 'R',
                             0x00, 0x03, 0x0D, 0x40, 0x00, 0x03, 0x0D, 0x40, 8, 2, 0, 0, 0, 0, 0, 0, 0};
  check_rejected(bytes, "huge.png");
}

TEST_CASE("image: load_image reads files and names missing ones") {
  const auto dir = std::filesystem::temp_directory_path() / ("edgec_image_test_" + std::to_string(std::random_device{}()));
  std::filesystem::create_directories(dir);
  const auto file = dir / "gradient.png";
  {
    const auto bytes = png(37, 23);
    std::ofstream out(file, std::ios::binary);
    out.write(reinterpret_cast<const char*>(bytes.data()), static_cast<std::streamsize>(bytes.size()));
  }
  CHECK(edgec::load_image(file).pixels == gradient(37, 23));
  try {
    (void)edgec::load_image(dir / "missing.png");
    FAIL("loaded a missing file");
  } catch (const Error& e) {
    CHECK(e.category() == ErrorCategory::input);
    CHECK(std::string(e.what()).find("missing.png") != std::string::npos);
  }
  std::filesystem::remove_all(dir);
}
