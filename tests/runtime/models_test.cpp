// Real models end to end: fmnist-vlm-a's ONNX graphs and its Hugging Face checkpoint against the golden
// arrays computed by torch (README: an fp32 implementation matches to about 1e-4), and PP-OCRv4's three
// models run on a synthetic image (every op supported, outputs finite and shaped as PaddleOCR documents).
#include <doctest/doctest.h>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <fstream>
#include <iostream>

#include "edgec/formats/hf.hpp"
#include "edgec/formats/onnx.hpp"
#include "test_helpers.hpp"
#include "test_paths.hpp"

using namespace edgec;
using namespace edgec::runtime;
using namespace edgec::runtime::test;
namespace fs = std::filesystem;

namespace {

template <class T>
std::vector<T> read_raw(const fs::path& file, size_t count, size_t skip = 0) {
  std::ifstream in(file, std::ios::binary);
  REQUIRE(in.good());
  in.seekg(static_cast<std::streamoff>(skip * sizeof(T)));
  std::vector<T> values(count);
  in.read(reinterpret_cast<char*>(values.data()), static_cast<std::streamsize>(count * sizeof(T)));
  REQUIRE(in.gcount() == static_cast<std::streamsize>(count * sizeof(T)));
  return values;
}

constexpr int64_t kImages = 16, kSeq = 64, kTokens = 49, kText = 128, kVocab = 27, kImageToken = 3;

struct Golden {
  HostTensor pixels;     // [16,1,28,28]
  HostTensor ids;        // [16,64] i64
  HostTensor positions;  // [16,64] i64
  std::vector<float> image_embeds, logits;
};

Golden load_golden(const fs::path& dir) {
  Golden g;
  g.pixels = f32({kImages, 1, 28, 28}, read_raw<float>(dir / "eval/test_pixel_values.f32", kImages * 28 * 28));
  const auto ids32 = read_raw<int32_t>(dir / "eval/golden_input_ids.i32", kImages * kSeq);
  g.ids = i64({kImages, kSeq}, std::vector<int64_t>(ids32.begin(), ids32.end()));
  std::vector<int64_t> positions;
  for (int64_t b = 0; b < kImages; ++b)
    for (int64_t s = 0; s < kSeq; ++s) positions.push_back(s);
  g.positions = i64({kImages, kSeq}, positions);
  g.image_embeds = read_raw<float>(dir / "eval/golden_image_embeds.f32", kImages * kTokens * kText);
  g.logits = read_raw<float>(dir / "eval/golden_logits.f32", kImages * kSeq * kVocab);
  return g;
}

double seconds_since(std::chrono::steady_clock::time_point start) {
  return std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
}

}  // namespace

TEST_CASE("fmnist-vlm-a ONNX graphs reproduce the golden image embeddings and logits") {
  const fs::path dir = edgec::test::shared_model("fmnist-vlm-a");
  if (dir.empty()) return;
  const Golden golden = load_golden(dir);

  const Model vision = onnx_format::import_onnx_file(dir / "onnx/vision_encoder.onnx");
  auto start = std::chrono::steady_clock::now();
  const auto embeds = Executor(vision.graphs.at(0)).run({{"pixel_values", golden.pixels}}).at("image_embeds");
  std::cout << "vision_encoder.onnx, 16 images: " << seconds_since(start) << " s\n";
  REQUIRE(embeds.dims() == std::vector<int64_t>{kImages, kTokens, kText});
  const double vision_diff = max_abs_diff(embeds.to_f32(), golden.image_embeds);
  std::cout << "  max |diff| image_embeds: " << vision_diff << "\n";
  CHECK(vision_diff <= 1e-4);

  const Model embed = onnx_format::import_onnx_file(dir / "onnx/embed_tokens.onnx");
  const auto token_embeds = Executor(embed.graphs.at(0)).run({{"input_ids", golden.ids}}).at("inputs_embeds");
  REQUIRE(token_embeds.dims() == std::vector<int64_t>{kImages, kSeq, kText});
  // The placeholder merge: image i's 49 features replace the <image> rows of sequence i, in order.
  auto merged = token_embeds.to_f32();
  const auto ids = golden.ids.to_i64();
  int64_t next = 0;
  for (int64_t p = 0; p < kImages * kSeq; ++p)
    if (ids[static_cast<size_t>(p)] == kImageToken) {
      std::copy_n(golden.image_embeds.begin() + next * kText, kText, merged.begin() + p * kText);
      ++next;
    }
  REQUIRE(next == kImages * kTokens);

  const Model decoder = onnx_format::import_onnx_file(dir / "onnx/decoder.onnx");
  start = std::chrono::steady_clock::now();
  const auto logits = Executor(decoder.graphs.at(0))
                          .run({{"inputs_embeds", f32({kImages, kSeq, kText}, merged)}, {"position_ids", golden.positions}})
                          .at("logits");
  std::cout << "decoder.onnx, 16 x 64 tokens: " << seconds_since(start) << " s\n";
  REQUIRE(logits.dims() == std::vector<int64_t>{kImages, kSeq, kVocab});
  const double logit_diff = max_abs_diff(logits.to_f32(), golden.logits);
  std::cout << "  max |diff| logits: " << logit_diff << "\n";
  CHECK(logit_diff <= 1e-4);
}

TEST_CASE("fmnist-vlm-a Hugging Face checkpoint (edgec ops) reproduces the golden logits") {
  const fs::path dir = edgec::test::shared_model("fmnist-vlm-a");
  if (dir.empty()) return;
  const Golden golden = load_golden(dir);
  const Model model = hf::import_folder(dir);
  REQUIRE(model.graphs.size() == 1);
  const Graph& graph = model.graphs[0];
  auto start = std::chrono::steady_clock::now();
  const Executor executor(graph);
  const auto outputs = executor.run({{"pixel_values", golden.pixels}, {"input_ids", golden.ids}, {"position_ids", golden.positions}});
  std::cout << "fmnist-vlm-a HF graph, 16 images x 64 tokens: " << seconds_since(start) << " s\n";
  const auto& logits = outputs.at("logits");
  REQUIRE(logits.dims() == std::vector<int64_t>{kImages, kSeq, kVocab});
  const double diff = max_abs_diff(logits.to_f32(), golden.logits);
  std::cout << "  max |diff| logits: " << diff << "\n";
  CHECK(diff <= 1e-4);
}

TEST_CASE("PP-OCRv4 det, rec and cls run end to end") {
  const fs::path dir = edgec::test::ppocr_models();
  if (dir.empty()) return;
  struct Case {
    const char* file;
    std::vector<int64_t> input;
  };
  const std::vector<Case> cases{{"ch_PP-OCRv4_det_infer.onnx", {1, 3, 64, 96}},
                                {"ch_PP-OCRv4_rec_infer.onnx", {1, 3, 48, 160}},
                                {"ch_ppocr_mobile_v2.0_cls_infer.onnx", {1, 3, 48, 192}}};
  for (const auto& c : cases) {
    INFO(c.file);
    const Model model = onnx_format::import_onnx_file(dir / c.file);
    const Graph& graph = model.graphs.at(0);
    std::vector<float> pixels(static_cast<size_t>(c.input[1] * c.input[2] * c.input[3]));
    for (size_t i = 0; i < pixels.size(); ++i) pixels[i] = static_cast<float>(std::sin(0.37 * static_cast<double>(i))) * 0.8f;
    const auto start = std::chrono::steady_clock::now();
    const auto out = Executor(graph).run({{graph.inputs.at(0).name, f32(c.input, pixels)}});
    std::cout << c.file << " " << dims_to_string(c.input) << ": " << seconds_since(start) << " s\n";
    const HostTensor& y = out.at(graph.outputs.at(0).name);
    for (const float v : y.to_f32()) REQUIRE(std::isfinite(v));
    const auto& d = y.dims();
    if (std::string(c.file).find("det") != std::string::npos) {
      CHECK(d == std::vector<int64_t>{1, 1, 64, 96});  // probability map at input resolution
      for (const float v : y.to_f32()) CHECK((v >= 0.0f && v <= 1.0f));
    } else {
      // rec: [1, T, 6625] and cls: [1, 2] softmax rows.
      const int64_t classes = d.back();
      const auto values = y.to_f32();
      for (size_t r = 0; r < values.size() / static_cast<size_t>(classes); ++r) {
        double sum = 0;
        for (int64_t j = 0; j < classes; ++j) sum += values[r * static_cast<size_t>(classes) + static_cast<size_t>(j)];
        CHECK(std::abs(sum - 1.0) < 1e-4);
      }
      if (std::string(c.file).find("cls") != std::string::npos) CHECK(d == std::vector<int64_t>{1, 2});
      else CHECK((d.size() == 3 && d[0] == 1 && d[2] == 6625));
    }
  }
}
