// PP-OCRv4 det + rec read real text images from Debian packages to their known transcripts.
//
// Source (fetched by scripts/fetch-test-data.sh, never committed):
//   Debian 12 package librust-tesseract-sys-dev 0.5.14-2, /usr/share/cargo/registry/tesseract-sys-0.5.14/img.png
//   (2256x324 RGBA, sha256 4cd8f4bc...b7b4fe; public domain per the package's debian/copyright), a screenshot of
//   four lines of printed English from rust-lang.org. The same folder's img.txt is the transcript the crate's own
//   Tesseract test asserts; kExpected below is that file, line by line.
#include <doctest/doctest.h>

#include <fstream>
#include <iostream>
#include <sstream>
#include <string>
#include <vector>

#include "edgec/formats/image.hpp"
#include "edgec/runtime/ppocr.hpp"
#include "test_paths.hpp"

namespace ppocr = edgec::runtime::ppocr;

namespace {

const std::vector<std::string> kExpected{
    "Hundreds of companies around the world are using Rust in production today for fast, low-",
    "resource, cross-platform solutions. Software you know and love, like Firefox, Dropbox, and",
    "Cloudflare, uses Rust. From startups to large corporations, from embedded devices to",
    "scalable web services, Rust is a great fit.",
};

std::vector<std::string> split_lines(const std::string& text) {
  std::vector<std::string> lines;
  std::istringstream in(text);
  for (std::string line; std::getline(in, line);) lines.push_back(line);
  return lines;
}

void print(const std::vector<ppocr::TextLine>& lines) {
  for (const auto& l : lines)
    std::cout << "  [" << l.box.x0 << "," << l.box.y0 << " " << l.box.x1 << "," << l.box.y1 << " det "
              << l.box.score << " rec " << l.recognized.score << "] " << l.recognized.text << "\n";
}

}  // namespace

TEST_CASE("ppocr: the recorded transcript is the package's own img.txt") {
  const auto images = edgec::test::ocr_images();
  if (images.empty()) return;
  std::ifstream in(images / "tesseract-sys-img.txt");
  std::stringstream text;
  text << in.rdbuf();
  CHECK(split_lines(text.str()) == kExpected);
}

TEST_CASE("ppocr: PP-OCRv4 reads the tesseract-sys page to its transcript, line for line") {
  const auto models = edgec::test::ppocr_models();
  const auto images = edgec::test::ocr_images();
  if (models.empty() || images.empty()) return;
  const ppocr::PpOcr ocr(models);
  const edgec::Image image = edgec::load_image(images / "tesseract-sys-img.png");
  REQUIRE(image.width == 2256);
  REQUIRE(image.height == 324);
  const auto lines = ocr.read(image);
  print(lines);
  REQUIRE(lines.size() == kExpected.size());
  for (size_t i = 0; i < lines.size(); ++i) {
    INFO("line " << i);
    CHECK(lines[i].recognized.text == kExpected[i]);
    CHECK(lines[i].recognized.score > 0.9f);
  }
}
