#pragma once
// The eval folder format of ../shared/models/*/eval for captioning VLMs: test_pixel_values.f32 [N,C,H,W],
// prompt_template_ids.i32, test_captions.txt, test_fields.i32 [N,3] (shapes from manifest.json).
#include <cstdint>
#include <filesystem>
#include <string>
#include <vector>

namespace edgec::formats {

struct CaptionEvalSet {
  int64_t total = 0;                  // images in the whole set
  int64_t first = 0;                  // index of images[0] in the set
  std::vector<int64_t> image_dims;    // [count, C, H, W]
  std::vector<float> pixels;          // count * C*H*W
  std::vector<int64_t> template_ids;  // the prompt before the caption
  std::vector<std::string> captions;  // reference captions of the loaded images (empty if the file is absent)
  std::vector<int32_t> fields;        // [count, 3]: brightness, size, class (empty if absent)
};

// Loads images [first, first + count) (count < 0: to the end). Throws Error(input) naming the file.
CaptionEvalSet load_caption_eval_set(const std::filesystem::path& dir, int64_t first = 0, int64_t count = -1);

// The same folder format for image classifiers (../shared/models/fmnist-vit-a/eval): test_pixel_values.f32
// [N,C,H,W] and test_labels.i32 [N].
struct ClassificationEvalSet {
  int64_t total = 0;                // images in the whole set
  std::vector<int64_t> image_dims;  // [count, C, H, W]
  std::vector<float> pixels;        // count * C*H*W
  std::vector<int32_t> labels;      // [count]
};

// Whether `dir` looks like one (manifest.json, test_pixel_values.f32, test_labels.i32).
bool is_classification_eval_set(const std::filesystem::path& dir);

// The first `count` images and labels (count < 0 or past the end: all). Throws Error(input) naming the file.
ClassificationEvalSet load_classification_eval_set(const std::filesystem::path& dir, int64_t count = -1);

}  // namespace edgec::formats
