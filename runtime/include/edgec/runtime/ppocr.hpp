#pragma once
// PP-OCR (PaddleOCR's default system) on the reference executor: DB text detection, crop, CTC recognition.
// Pre- and post-processing follow PaddleOCR's tools/infer (predict_det / predict_rec / predict_system) with the
// defaults of PP-OCRv4; the differences are listed in docs/pipelines.md (axis-aligned boxes, one crop per
// recognition run, no angle classifier). Each step is a free function so it can be tested on its own.
#include <filesystem>
#include <span>
#include <string>
#include <vector>

#include "edgec/core/model.hpp"
#include "edgec/formats/image.hpp"
#include "edgec/runtime/executor.hpp"
#include "edgec/runtime/host_tensor.hpp"

namespace edgec::runtime::ppocr {

struct DetOptions {
  int limit_side_len = 960;    // det_limit_side_len, det_limit_type 'max': the long side is scaled down to this
  float threshold = 0.3f;      // det_db_thresh: a map pixel above it is text
  float box_threshold = 0.6f;  // det_db_box_thresh: mean probability inside a box to keep it
  float unclip_ratio = 1.5f;   // det_db_unclip_ratio: boxes grow by area * ratio / perimeter on each side
  int max_candidates = 1000;
  int min_size = 3;            // boxes whose short side is below this (below min_size + 2 after unclip) are dropped
};

struct RecOptions {
  int height = 48;             // rec_image_shape 3,48,320
  int min_width = 320;
  float drop_score = 0.5f;     // lines whose mean character probability is below this are dropped
};

// An axis-aligned text box in source-image pixels: PaddleOCR's corner points (x0,y0)..(x1,y1); the crop is
// x1 - x0 wide and y1 - y0 high starting at (x0, y0). `score` is the mean map probability inside the box.
struct Box {
  int x0 = 0, y0 = 0, x1 = 0, y1 = 0;
  float score = 0.0f;
};

struct Recognized {
  std::string text;
  float score = 0.0f;  // mean probability of the kept characters (0 when there are none)
};

struct TextLine {
  Box box;
  Recognized recognized;
};

// Lines joined by '\n' in reading order.
std::string transcript(const std::vector<TextLine>& lines);

// ---- detection ----
// DetResizeForTest + NormalizeImage + ToCHW: RGB image -> [1, 3, H, W] f32 in BGR channel order (PaddleOCR reads
// with OpenCV), (x / 255 - mean) / std with mean 0.485 0.456 0.406 and std 0.229 0.224 0.225 in that channel order,
// H and W the image's size scaled so the long side is <= limit_side_len, then rounded to multiples of 32.
HostTensor det_preprocess(const Image& image, const DetOptions& options = {});
// DBPostProcess on a probability map (map_width x map_height, row-major) that was computed for an image of
// dest_width x dest_height: 8-connected components of map > threshold, their boxes scored, unclipped, scaled to
// the image and clipped to it. Boxes narrower or lower than 4 pixels in the image are dropped.
std::vector<Box> db_boxes(std::span<const float> map, int map_width, int map_height, int dest_width, int dest_height,
                          const DetOptions& options = {});
// PaddleOCR's sorted_boxes: top to bottom, then left to right for boxes whose tops are within 10 pixels.
std::vector<Box> sort_boxes(std::vector<Box> boxes);

// ---- recognition ----
// The box's pixels (get_rotate_crop_image for an upright box); rotated 90 degrees counter-clockwise when it is
// at least 1.5 times higher than wide, as PaddleOCR does for vertical text.
Image crop_box(const Image& image, const Box& box);
// resize_norm_img: [1, 3, height, W] f32, BGR, (x / 255 - 0.5) / 0.5, the crop resized to `height` keeping its
// aspect ratio (bilinear), W = max(min_width, height * w / h), zero (mid-gray) padding on the right.
HostTensor rec_preprocess(const Image& crop, const RecOptions& options = {});
// ppocr_keys_v1.txt as CTCLabelDecode reads it: index 0 is the CTC blank (""), then one entry per line, then " "
// when use_space_char. Throws Error(input) naming the file when it cannot be read or is empty.
std::vector<std::string> load_charset(const std::filesystem::path& keys, bool use_space_char = true);
// Greedy CTC: arg-max per step, repeats merged, blanks (index 0) removed. `probs` is [steps, classes] row-major.
// Throws Error(input) when `classes` differs from the charset's size.
Recognized ctc_greedy_decode(std::span<const float> probs, int64_t steps, int64_t classes,
                             const std::vector<std::string>& charset);

// ---- the system ----
struct Options {
  DetOptions det;
  RecOptions rec;
};

class PpOcr {
 public:
  // ONNX models (ch_PP-OCRv4_det_infer.onnx, ch_PP-OCRv4_rec_infer.onnx) and the dictionary (ppocr_keys_v1.txt).
  PpOcr(const std::filesystem::path& det_model, const std::filesystem::path& rec_model,
        const std::filesystem::path& keys, Options options = {});
  // The three files by their PP-OCRv4 names inside `dir`.
  explicit PpOcr(const std::filesystem::path& dir, Options options = {});
  // Executors refer to the models held here: neither copyable nor movable.
  PpOcr(const PpOcr&) = delete;
  PpOcr& operator=(const PpOcr&) = delete;

  // The DB probability map for `image` ([1, 1, H, W]).
  HostTensor detection_map(const Image& image) const;
  // Text boxes in reading order.
  std::vector<Box> detect(const Image& image) const;
  // One text-line image (already cropped).
  Recognized recognize(const Image& line) const;
  // Detect, crop, recognise; lines scoring below drop_score are left out.
  std::vector<TextLine> read(const Image& image) const;

  const Options& options() const { return options_; }
  const std::vector<std::string>& charset() const { return charset_; }

 private:
  Options options_;
  Model det_model_;
  Model rec_model_;
  std::vector<std::string> charset_;
  Executor det_;
  Executor rec_;
};

}  // namespace edgec::runtime::ppocr
