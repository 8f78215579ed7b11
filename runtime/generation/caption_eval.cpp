#include "edgec/runtime/caption_eval.hpp"

#include <algorithm>
#include <array>
#include <sstream>
#include <vector>

#include "edgec/core/error.hpp"

namespace edgec::runtime {

std::optional<CaptionFields> parse_fmnist_caption(std::string_view caption) {
  static constexpr std::array<std::string_view, 10> kClasses{"t-shirt", "pair of trousers", "pullover", "dress", "coat",
                                                             "sandal",  "shirt",            "sneaker",  "bag",   "ankle boot"};
  std::istringstream words{std::string(caption)};
  std::vector<std::string> w;
  for (std::string word; words >> word;) w.push_back(word);
  if (w.size() < 5 || w.front() != "a" || w.back() != ".") return std::nullopt;
  CaptionFields fields;
  if (w[1] == "dark") fields.brightness = 0;
  else if (w[1] == "light") fields.brightness = 1;
  else return std::nullopt;
  if (w[2] == "small") fields.size = 0;
  else if (w[2] == "large") fields.size = 1;
  else return std::nullopt;
  std::string item;
  for (size_t i = 3; i + 1 < w.size(); ++i) item += (i > 3 ? " " : "") + w[i];
  for (size_t c = 0; c < kClasses.size(); ++c)
    if (item == kClasses[c]) {
      fields.label = static_cast<int>(c);
      return fields;
    }
  return std::nullopt;
}

void CaptionMetrics::add(const std::string& caption, const std::string& reference, const CaptionFields& truth) {
  ++n;
  if (caption == reference) ++exact;
  const auto parsed = parse_fmnist_caption(caption);
  if (!parsed) {
    ++parse_fail;
    return;
  }
  brightness += parsed->brightness == truth.brightness;
  size += parsed->size == truth.size;
  label += parsed->label == truth.label;
}

TokenRows caption_images(CausalModel& model, std::span<const float> pixels, const std::vector<int64_t>& image_dims,
                         const std::vector<int64_t>& prompt, int64_t batch, const GenerationOptions& options) {
  if (image_dims.size() != 4 || batch <= 0) throw Error(ErrorCategory::usage, "caption_images: needs [N,C,H,W] images and batch > 0");
  const int64_t images = image_dims[0], per_image = image_dims[1] * image_dims[2] * image_dims[3];
  if (static_cast<int64_t>(pixels.size()) != images * per_image)
    throw Error(ErrorCategory::input, "caption_images: " + std::to_string(pixels.size()) + " pixel values for " + dims_to_string(image_dims));
  TokenRows captions;
  for (int64_t first = 0; first < images; first += batch) {
    const int64_t n = std::min(batch, images - first);
    const HostTensor chunk = HostTensor::from_values<float>(
        DType::f32, {n, image_dims[1], image_dims[2], image_dims[3]},
        pixels.subspan(static_cast<size_t>(first * per_image), static_cast<size_t>(n * per_image)));
    auto result = generate(model, TokenRows(static_cast<size_t>(n), prompt), &chunk, options);
    for (auto& row : result.tokens) captions.push_back(std::move(row));
  }
  return captions;
}

}  // namespace edgec::runtime
