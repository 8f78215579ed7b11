// PP-OCR text recognition: PaddleOCR's get_rotate_crop_image and resize_norm_img before the CRNN/SVTR model,
// CTCLabelDecode after it.
#include <algorithm>
#include <cmath>
#include <fstream>
#include <string>
#include <vector>

#include "edgec/core/error.hpp"
#include "edgec/runtime/ppocr.hpp"
#include "pipelines/image_ops.hpp"

namespace edgec::runtime::ppocr {

Image crop_box(const Image& image, const Box& box) {
  const int width = box.x1 - box.x0, height = box.y1 - box.y0;
  if (width <= 0 || height <= 0 || box.x0 < 0 || box.y0 < 0 || box.x1 > image.width || box.y1 > image.height)
    throw Error(ErrorCategory::usage, "ppocr crop: box " + std::to_string(box.x0) + "," + std::to_string(box.y0) + " " +
                                          std::to_string(box.x1) + "," + std::to_string(box.y1) +
                                          " is empty or outside the " + std::to_string(image.width) + "x" +
                                          std::to_string(image.height) + " image");
  Image out = pipelines::crop(image, box.x0, box.y0, width, height);
  if (height >= 1.5 * width) out = pipelines::rotate90_ccw(out);  // vertical text reads after a quarter turn
  return out;
}

HostTensor rec_preprocess(const Image& crop, const RecOptions& options) {
  if (crop.channels != 3 || crop.width <= 0 || crop.height <= 0)
    throw Error(ErrorCategory::usage, "ppocr recognition: expected a non-empty RGB crop");
  const int height = options.height;
  const double ratio = static_cast<double>(crop.width) / crop.height;
  // TextRecognizer: imgW = int(imgH * max(min_width / imgH, w / h)); the crop fills ceil(imgH * w / h) of it.
  const int width = static_cast<int>(height * std::max(static_cast<double>(options.min_width) / height, ratio));
  const int resized_width = std::min(width, static_cast<int>(std::ceil(height * ratio)));
  const Image resized = pipelines::resize_bilinear(crop, resized_width, height);
  HostTensor out = HostTensor::zeros(DType::f32, {1, 3, height, width});
  float* dst = out.mutable_data<float>();
  const size_t plane = static_cast<size_t>(width) * static_cast<size_t>(height);
  for (size_t c = 0; c < 3; ++c)
    for (size_t y = 0; y < static_cast<size_t>(height); ++y)
      for (size_t x = 0; x < static_cast<size_t>(resized_width); ++x) {
        const float v = resized.pixels[(y * static_cast<size_t>(resized_width) + x) * 3 + (2 - c)];  // BGR
        dst[c * plane + y * static_cast<size_t>(width) + x] = (v / 255.0f - 0.5f) / 0.5f;
      }
  return out;
}

std::vector<std::string> load_charset(const std::filesystem::path& keys, bool use_space_char) {
  std::ifstream in(keys, std::ios::binary);
  if (!in) throw_input_error(keys.string(), "cannot open the recognition dictionary");
  std::vector<std::string> charset{""};  // CTC blank
  std::string line;
  while (std::getline(in, line)) {
    if (!line.empty() && line.back() == '\r') line.pop_back();
    charset.push_back(line);
  }
  if (in.bad()) throw_input_error(keys.string(), "read error");
  if (charset.size() == 1) throw_input_error(keys.string(), "empty dictionary, expected one character per line");
  if (use_space_char) charset.push_back(" ");
  return charset;
}

Recognized ctc_greedy_decode(std::span<const float> probs, int64_t steps, int64_t classes,
                             const std::vector<std::string>& charset) {
  if (classes != static_cast<int64_t>(charset.size()))
    throw Error(ErrorCategory::input, "ppocr recognition: the model has " + std::to_string(classes) +
                                          " classes but the dictionary gives " + std::to_string(charset.size()) +
                                          " (blank + lines + space)");
  if (steps < 0 || classes <= 0 || probs.size() != static_cast<size_t>(steps * classes))
    throw Error(ErrorCategory::internal, "ctc_greedy_decode: " + std::to_string(probs.size()) + " values for " +
                                             std::to_string(steps) + " x " + std::to_string(classes));
  Recognized out;
  double confidence = 0;
  int kept = 0;
  int64_t previous = -1;
  for (int64_t t = 0; t < steps; ++t) {
    const auto row = probs.subspan(static_cast<size_t>(t * classes), static_cast<size_t>(classes));
    const auto best = std::max_element(row.begin(), row.end());  // first maximum, like numpy's argmax
    const int64_t index = best - row.begin();
    if (index != 0 && index != previous) {
      out.text += charset[static_cast<size_t>(index)];
      confidence += *best;
      ++kept;
    }
    previous = index;
  }
  out.score = kept ? static_cast<float>(confidence / kept) : 0.0f;
  return out;
}

}  // namespace edgec::runtime::ppocr
