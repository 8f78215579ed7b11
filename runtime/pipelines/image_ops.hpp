#pragma once
// Pixel operations the pipelines need, with OpenCV's semantics where PaddleOCR relies on them.
#include "edgec/formats/image.hpp"

namespace edgec::runtime::pipelines {

// cv2.resize(..., INTER_LINEAR): half-pixel centres, edge samples clamped, rounded to the nearest u8. OpenCV
// computes in 11-bit fixed point, so a few pixels may differ from it by one level.
Image resize_bilinear(const Image& image, int width, int height);
// The width x height block at (x, y); the block must lie inside the image.
Image crop(const Image& image, int x, int y, int width, int height);
// numpy.rot90 (k = 1): counter-clockwise quarter turn.
Image rotate90_ccw(const Image& image);

}  // namespace edgec::runtime::pipelines
