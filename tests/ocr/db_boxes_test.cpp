// DB post-processing, box order, crops and the detection/recognition input tensors, on synthetic data.
#include <doctest/doctest.h>

#include <cmath>
#include <vector>

#include "edgec/core/error.hpp"
#include "edgec/runtime/ppocr.hpp"

namespace ppocr = edgec::runtime::ppocr;

namespace {

struct Map {
  int width, height;
  std::vector<float> values;
  Map(int w, int h) : width(w), height(h), values(static_cast<size_t>(w * h), 0.0f) {}
  void fill(int x0, int y0, int x1, int y1, float v) {  // inclusive
    for (int y = y0; y <= y1; ++y)
      for (int x = x0; x <= x1; ++x) values[static_cast<size_t>(y * width + x)] = v;
  }
};

edgec::Image solid(int width, int height) {
  edgec::Image image;
  image.width = width;
  image.height = height;
  image.channels = 3;
  image.pixels.resize(static_cast<size_t>(width * height * 3));
  for (size_t i = 0; i < image.pixels.size(); ++i) image.pixels[i] = static_cast<uint8_t>(i % 3 == 0 ? 255 : 0);  // red
  return image;
}

}  // namespace

TEST_CASE("db: one text region gives one unclipped, scaled box") {
  Map map(64, 32);
  map.fill(10, 8, 49, 17, 0.9f);  // 40 x 10 pixels: corners (10,8)-(49,17), w = 39, h = 9
  const auto boxes = ppocr::db_boxes(map.values, map.width, map.height, 64, 32);
  REQUIRE(boxes.size() == 1);
  // distance = 39 * 9 * 1.5 / (2 * 48) = 5.484 -> x 4.516..54.484 -> 5..54 (Clipper rounds), y 2.516..22.484 -> 3..22
  CHECK(boxes[0].x0 == 5);
  CHECK(boxes[0].x1 == 54);
  CHECK(boxes[0].y0 == 3);
  CHECK(boxes[0].y1 == 22);
  CHECK(boxes[0].score == doctest::Approx(0.9));
  // The same map computed for an image twice as large: coordinates double.
  const auto scaled = ppocr::db_boxes(map.values, map.width, map.height, 128, 64);
  REQUIRE(scaled.size() == 1);
  CHECK(scaled[0].x0 == 10);
  CHECK(scaled[0].x1 == 108);
  CHECK(scaled[0].y1 == 44);
}

TEST_CASE("db: thresholds, minimum size and clipping") {
  Map map(100, 40);
  map.fill(5, 5, 30, 12, 0.55f);    // above the pixel threshold, below the box threshold: dropped
  map.fill(40, 5, 90, 12, 0.25f);   // below the pixel threshold: not text
  map.fill(50, 20, 51, 35, 0.95f);  // 2 pixels wide: below min_size
  map.fill(70, 30, 99, 39, 0.8f);   // touches the corner: clipped to the image
  const auto boxes = ppocr::db_boxes(map.values, map.width, map.height, 100, 40);
  REQUIRE(boxes.size() == 1);
  CHECK(boxes[0].x1 == 99);
  CHECK(boxes[0].y1 == 39);
  CHECK(boxes[0].x0 < 70);
  CHECK(boxes[0].score == doctest::Approx(0.8));
  ppocr::DetOptions lenient;
  lenient.box_threshold = 0.5f;
  CHECK(ppocr::db_boxes(map.values, map.width, map.height, 100, 40, lenient).size() == 2);
}

TEST_CASE("db: diagonal neighbours join one region (8-connectivity), a gap separates") {
  Map map(60, 30);
  map.fill(5, 5, 20, 10, 0.9f);
  map.fill(21, 11, 40, 16, 0.9f);  // touches the first only at a corner
  map.fill(45, 5, 55, 16, 0.9f);   // separate
  ppocr::DetOptions options;
  options.box_threshold = 0.3f;  // the joined region's box is half empty (mean 0.45)
  const auto boxes = ppocr::sort_boxes(ppocr::db_boxes(map.values, map.width, map.height, 60, 30, options));
  REQUIRE(boxes.size() == 2);
  CHECK(boxes[0].x0 < 5);
  CHECK(boxes[0].x1 > 40);
  CHECK(boxes[1].x0 > 40);
}

TEST_CASE("sort_boxes: top to bottom, left to right within 10 pixels of height") {
  std::vector<ppocr::Box> boxes{{300, 52, 400, 70, 1}, {10, 50, 100, 70, 1}, {10, 5, 100, 20, 1},
                                {200, 58, 250, 70, 1}, {120, 0, 180, 20, 1}};
  const auto sorted = ppocr::sort_boxes(boxes);
  // Tops 0 and 5 are within 10: left to right gives 10 then 120.
  CHECK(sorted[0].x0 == 10);
  CHECK(sorted[1].x0 == 120);
  CHECK(sorted[2].x0 == 10);
  CHECK(sorted[3].x0 == 200);
  CHECK(sorted[4].x0 == 300);
}

TEST_CASE("crop_box and rec_preprocess follow PaddleOCR's shapes and normalisation") {
  const auto image = solid(200, 100);
  const auto line = ppocr::crop_box(image, {10, 20, 110, 40, 1});
  CHECK(line.width == 100);
  CHECK(line.height == 20);
  const auto vertical = ppocr::crop_box(image, {10, 10, 30, 70, 1});  // 20 x 60: turned a quarter
  CHECK(vertical.width == 60);
  CHECK(vertical.height == 20);
  CHECK_THROWS_AS(ppocr::crop_box(image, {150, 0, 250, 20, 1}), edgec::Error);  // past the right edge
  CHECK_THROWS_AS(ppocr::crop_box(image, {10, 10, 10, 20, 1}), edgec::Error);   // empty

  // 100 x 20 at height 48 is 240 wide: padded to the minimum 320.
  const auto tensor = ppocr::rec_preprocess(line);
  REQUIRE(tensor.dims() == std::vector<int64_t>{1, 3, 48, 320});
  const float* t = tensor.data<float>();
  const size_t plane = 48 * 320;
  CHECK(t[0] == doctest::Approx(-1.0f));           // blue channel first: 0 -> -1
  CHECK(t[2 * plane] == doctest::Approx(1.0f));    // red last: 255 -> 1
  CHECK(t[239] == doctest::Approx(-1.0f));         // last resized column
  CHECK(t[240] == 0.0f);                           // padding
  // A long line keeps its aspect ratio: 400 x 20 -> 960 wide.
  CHECK(ppocr::rec_preprocess(ppocr::crop_box(solid(500, 40), {0, 0, 400, 20, 1})).dims()[3] == 960);
}

TEST_CASE("det_preprocess: long side limited to 960, sides multiples of 32, BGR with ImageNet statistics") {
  const auto tensor = ppocr::det_preprocess(solid(2256, 324));
  // ratio 960 / 2256: 324 -> int(137.87) = 137 -> round(4.28) * 32 = 128.
  CHECK(tensor.dims() == std::vector<int64_t>{1, 3, 128, 960});
  const float* t = tensor.data<float>();
  const size_t plane = 128 * 960;
  CHECK(t[0] == doctest::Approx((0.0 - 0.485) / 0.229));        // channel 0 is blue (0)
  CHECK(t[2 * plane] == doctest::Approx((1.0 - 0.406) / 0.225));  // channel 2 is red (255)
  CHECK(ppocr::det_preprocess(solid(10, 10)).dims() == std::vector<int64_t>{1, 3, 32, 32});  // at least 32
}
