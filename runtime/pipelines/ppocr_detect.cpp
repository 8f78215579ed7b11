// PP-OCR text detection: PaddleOCR's DetResizeForTest / NormalizeImage before the DB model, DBPostProcess and
// sorted_boxes after it.
#include <algorithm>
#include <array>
#include <cmath>
#include <string>
#include <vector>

#include "edgec/core/error.hpp"
#include "edgec/runtime/ppocr.hpp"
#include "pipelines/image_ops.hpp"

namespace edgec::runtime::ppocr {

namespace {

constexpr std::array<float, 3> kMean{0.485f, 0.456f, 0.406f};
constexpr std::array<float, 3> kStd{0.229f, 0.224f, 0.225f};

// Python's round(): half to even (the default floating-point rounding mode).
double round_half_even(double v) { return std::nearbyint(v); }

// ClipperLib's Round(): half away from zero (pyclipper's offset points are integers).
double round_clipper(double v) { return v < 0 ? std::ceil(v - 0.5) : std::floor(v + 0.5); }

int multiple_of_32(int size) { return std::max(static_cast<int>(round_half_even(size / 32.0)) * 32, 32); }

struct Extent {
  int x0, y0, x1, y1;  // inclusive pixel bounds of one connected component
};

// 8-connected components of the bitmap (cv2.findContours' outer contours), in raster order of their first pixel.
std::vector<Extent> components(const std::vector<uint8_t>& bitmap, int width, int height, int max_count) {
  std::vector<uint8_t> seen(bitmap.size(), 0);
  std::vector<int> stack;
  std::vector<Extent> out;
  for (int start = 0; start < width * height && static_cast<int>(out.size()) < max_count; ++start) {
    if (!bitmap[static_cast<size_t>(start)] || seen[static_cast<size_t>(start)]) continue;
    Extent e{start % width, start / width, start % width, start / width};
    seen[static_cast<size_t>(start)] = 1;
    stack.assign(1, start);
    while (!stack.empty()) {
      const int p = stack.back();
      stack.pop_back();
      const int px = p % width, py = p / width;
      e.x0 = std::min(e.x0, px), e.x1 = std::max(e.x1, px), e.y0 = std::min(e.y0, py), e.y1 = std::max(e.y1, py);
      for (int dy = -1; dy <= 1; ++dy)
        for (int dx = -1; dx <= 1; ++dx) {
          const int nx = px + dx, ny = py + dy;
          if (nx < 0 || ny < 0 || nx >= width || ny >= height) continue;
          const size_t q = static_cast<size_t>(ny) * static_cast<size_t>(width) + static_cast<size_t>(nx);
          if (bitmap[q] && !seen[q]) {
            seen[q] = 1;
            stack.push_back(static_cast<int>(q));
          }
        }
    }
    out.push_back(e);
  }
  return out;
}

}  // namespace

HostTensor det_preprocess(const Image& image, const DetOptions& options) {
  if (image.channels != 3 || image.width <= 0 || image.height <= 0)
    throw Error(ErrorCategory::usage, "ppocr detection: expected a non-empty RGB image, got " +
                                          std::to_string(image.width) + "x" + std::to_string(image.height) + "x" +
                                          std::to_string(image.channels));
  const int long_side = std::max(image.width, image.height);
  const double ratio = long_side > options.limit_side_len ? static_cast<double>(options.limit_side_len) / long_side : 1.0;
  const int height = multiple_of_32(static_cast<int>(image.height * ratio));
  const int width = multiple_of_32(static_cast<int>(image.width * ratio));
  const Image resized = pipelines::resize_bilinear(image, width, height);
  HostTensor out = HostTensor::empty(DType::f32, {1, 3, height, width});
  float* dst = out.mutable_data<float>();
  const size_t plane = static_cast<size_t>(width) * static_cast<size_t>(height);
  for (size_t c = 0; c < 3; ++c)
    for (size_t i = 0; i < plane; ++i) {
      const float v = resized.pixels[i * 3 + (2 - c)] / 255.0f;  // tensor channel 0 is blue
      dst[c * plane + i] = (v - kMean[c]) / kStd[c];
    }
  return out;
}

std::vector<Box> db_boxes(std::span<const float> map, int map_width, int map_height, int dest_width, int dest_height,
                          const DetOptions& options) {
  if (map_width <= 0 || map_height <= 0 ||
      map.size() != static_cast<size_t>(map_width) * static_cast<size_t>(map_height))
    throw Error(ErrorCategory::internal, "db_boxes: map of " + std::to_string(map.size()) + " values is not " +
                                             std::to_string(map_width) + "x" + std::to_string(map_height));
  std::vector<uint8_t> bitmap(map.size());
  for (size_t i = 0; i < map.size(); ++i) bitmap[i] = map[i] > options.threshold ? 1 : 0;

  std::vector<Box> boxes;
  for (const Extent& e : components(bitmap, map_width, map_height, options.max_candidates)) {
    // get_mini_boxes of an upright component: its pixel-centre bounding rectangle.
    const int w = e.x1 - e.x0, h = e.y1 - e.y0;
    if (std::min(w, h) < options.min_size) continue;
    // box_score_fast: mean probability over the box (boundary pixels included).
    double sum = 0;
    for (int y = e.y0; y <= e.y1; ++y)
      for (int x = e.x0; x <= e.x1; ++x)
        sum += map[static_cast<size_t>(y) * static_cast<size_t>(map_width) + static_cast<size_t>(x)];
    const double score = sum / ((w + 1.0) * (h + 1.0));
    if (score < options.box_threshold) continue;
    // unclip: pyclipper offsets every side outwards by area * ratio / perimeter; its points are integers.
    const double distance = static_cast<double>(w) * h * options.unclip_ratio / (2.0 * (w + h));
    const double ux0 = round_clipper(e.x0 - distance), ux1 = round_clipper(e.x1 + distance);
    const double uy0 = round_clipper(e.y0 - distance), uy1 = round_clipper(e.y1 + distance);
    if (std::min(ux1 - ux0, uy1 - uy0) < options.min_size + 2) continue;
    // Back to the source image: np.round(x / width * dest_width) clipped to the image (clip_det_res: < size).
    const auto to_dest = [](double v, int from, int to) {
      return static_cast<int>(std::clamp(round_half_even(v / from * to), 0.0, static_cast<double>(to - 1)));
    };
    Box box{to_dest(ux0, map_width, dest_width), to_dest(uy0, map_height, dest_height),
            to_dest(ux1, map_width, dest_width), to_dest(uy1, map_height, dest_height), static_cast<float>(score)};
    // filter_tag_det_res drops boxes whose sides are at most 3 pixels.
    if (box.x1 - box.x0 <= 3 || box.y1 - box.y0 <= 3) continue;
    boxes.push_back(box);
  }
  return boxes;
}

std::vector<Box> sort_boxes(std::vector<Box> boxes) {
  std::stable_sort(boxes.begin(), boxes.end(), [](const Box& a, const Box& b) {
    return a.y0 != b.y0 ? a.y0 < b.y0 : a.x0 < b.x0;
  });
  // Boxes on one line (tops within 10 pixels) are ordered left to right.
  for (size_t i = 0; i + 1 < boxes.size(); ++i)
    for (size_t j = i + 1; j-- > 0;) {
      if (std::abs(boxes[j + 1].y0 - boxes[j].y0) < 10 && boxes[j + 1].x0 < boxes[j].x0)
        std::swap(boxes[j], boxes[j + 1]);
      else
        break;
    }
  return boxes;
}

}  // namespace edgec::runtime::ppocr
