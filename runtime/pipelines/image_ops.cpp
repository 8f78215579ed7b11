#include "pipelines/image_ops.hpp"

#include <algorithm>
#include <cmath>
#include <string>
#include <vector>

#include "edgec/core/error.hpp"

namespace edgec::runtime::pipelines {

namespace {

Image blank(int width, int height, int channels) {
  Image out;
  out.width = width;
  out.height = height;
  out.channels = channels;
  out.pixels.resize(static_cast<size_t>(width) * static_cast<size_t>(height) * static_cast<size_t>(channels));
  return out;
}

// Source index and weight of the second sample for each destination coordinate (OpenCV's clamping).
struct Tap {
  int i0, i1;
  float w1;
};

std::vector<Tap> taps(int src, int dst) {
  std::vector<Tap> out(static_cast<size_t>(dst));
  const double scale = static_cast<double>(src) / dst;
  for (int d = 0; d < dst; ++d) {
    double f = (d + 0.5) * scale - 0.5;
    int i = static_cast<int>(std::floor(f));
    f -= i;
    if (i < 0) {
      i = 0;
      f = 0;
    }
    if (i >= src - 1) {
      i = src - 1;
      f = 0;
    }
    out[static_cast<size_t>(d)] = {i, std::min(i + 1, src - 1), static_cast<float>(f)};
  }
  return out;
}

}  // namespace

Image resize_bilinear(const Image& image, int width, int height) {
  if (width <= 0 || height <= 0 || image.width <= 0 || image.height <= 0)
    throw Error(ErrorCategory::internal, "resize_bilinear: empty size " + std::to_string(image.width) + "x" +
                                             std::to_string(image.height) + " -> " + std::to_string(width) + "x" +
                                             std::to_string(height));
  Image out = blank(width, height, image.channels);
  const auto xs = taps(image.width, width);
  const auto ys = taps(image.height, height);
  const int c = image.channels;
  for (int y = 0; y < height; ++y) {
    const Tap ty = ys[static_cast<size_t>(y)];
    for (int x = 0; x < width; ++x) {
      const Tap tx = xs[static_cast<size_t>(x)];
      for (int k = 0; k < c; ++k) {
        const float top = image.at(tx.i0, ty.i0, k) * (1 - tx.w1) + image.at(tx.i1, ty.i0, k) * tx.w1;
        const float bottom = image.at(tx.i0, ty.i1, k) * (1 - tx.w1) + image.at(tx.i1, ty.i1, k) * tx.w1;
        const float v = top * (1 - ty.w1) + bottom * ty.w1;
        out.pixels[(static_cast<size_t>(y) * static_cast<size_t>(width) + static_cast<size_t>(x)) *
                       static_cast<size_t>(c) + static_cast<size_t>(k)] =
            static_cast<uint8_t>(std::clamp(std::lround(v), 0L, 255L));
      }
    }
  }
  return out;
}

Image crop(const Image& image, int x, int y, int width, int height) {
  if (x < 0 || y < 0 || width <= 0 || height <= 0 || x + width > image.width || y + height > image.height)
    throw Error(ErrorCategory::internal, "crop: block " + std::to_string(width) + "x" + std::to_string(height) +
                                             " at " + std::to_string(x) + "," + std::to_string(y) +
                                             " outside the image");
  Image out = blank(width, height, image.channels);
  const size_t row = static_cast<size_t>(width) * static_cast<size_t>(image.channels);
  for (int r = 0; r < height; ++r) {
    const auto* src = image.pixels.data() + (static_cast<size_t>(y + r) * static_cast<size_t>(image.width) +
                                             static_cast<size_t>(x)) * static_cast<size_t>(image.channels);
    std::copy(src, src + row, out.pixels.data() + static_cast<size_t>(r) * row);
  }
  return out;
}

Image rotate90_ccw(const Image& image) {
  // out(x', y') with out width = in height: the input's last column becomes the output's first row.
  Image out = blank(image.height, image.width, image.channels);
  for (int y = 0; y < out.height; ++y)
    for (int x = 0; x < out.width; ++x)
      for (int k = 0; k < image.channels; ++k)
        out.pixels[(static_cast<size_t>(y) * static_cast<size_t>(out.width) + static_cast<size_t>(x)) *
                       static_cast<size_t>(image.channels) + static_cast<size_t>(k)] =
            image.at(image.width - 1 - y, x, k);
  return out;
}

}  // namespace edgec::runtime::pipelines
