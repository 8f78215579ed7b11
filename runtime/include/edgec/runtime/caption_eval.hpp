#pragma once
// Scoring fmnist-vlm-a captions ("a {dark|light} {small|large} {class words} ."), as the model's
// fp32_metrics.json does: exact = the caption equals the reference; the field accuracies compare the fields
// parsed from the caption with the true [brightness, size, class] (an unparsable caption gets all wrong).
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "edgec/runtime/generation.hpp"

namespace edgec::runtime {

struct CaptionFields {
  int brightness = 0;  // 0 dark, 1 light
  int size = 0;        // 0 small, 1 large
  int label = 0;       // Fashion-MNIST class 0..9
};

std::optional<CaptionFields> parse_fmnist_caption(std::string_view caption);

struct CaptionMetrics {
  int64_t n = 0, exact = 0, brightness = 0, size = 0, label = 0, parse_fail = 0;
  void add(const std::string& caption, const std::string& reference, const CaptionFields& truth);
  double rate(int64_t count) const { return n ? static_cast<double>(count) / static_cast<double>(n) : 0.0; }
};

// Generates a caption for each of the images [N,C,H,W] (`pixels` holds N*C*H*W floats), `batch` images per
// prefill, every sequence starting with `prompt`. Returns the new tokens per image.
TokenRows caption_images(CausalModel& model, std::span<const float> pixels, const std::vector<int64_t>& image_dims,
                         const std::vector<int64_t>& prompt, int64_t batch, const GenerationOptions& options);

}  // namespace edgec::runtime
