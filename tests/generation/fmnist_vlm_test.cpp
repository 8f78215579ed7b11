// fmnist-vlm-a captioning from the Hugging Face checkpoint (edgec ops, KV cache) and from the ONNX export
// (no cache): the 16 golden captions exactly, the golden logits along the greedy path, and on the first 500 test
// images the exact-caption accuracy of the README (0.8262) within sampling error, both forms agreeing.
#include <doctest/doctest.h>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <fstream>
#include <iostream>

#include "raw_file.hpp"
#include "edgec/formats/caption_eval_set.hpp"
#include "edgec/formats/hf.hpp"
#include "edgec/formats/onnx.hpp"
#include "edgec/runtime/caption_eval.hpp"
#include "edgec/runtime/generation.hpp"
#include "edgec/runtime/tokenizers.hpp"
#include "test_paths.hpp"

using namespace edgec;
using namespace edgec::runtime;
namespace fs = std::filesystem;

namespace {

constexpr int64_t kGolden = 16, kSeq = 64, kVocab = 27, kEos = 2;


std::vector<std::string> read_lines(const fs::path& file) {
  std::ifstream in(file);
  std::vector<std::string> lines;
  for (std::string line; std::getline(in, line);) lines.push_back(line);
  return lines;
}

// Greedy captions of the 16 golden images, and the largest logit difference along the way: the prefill's last
// position is golden row 53, decode step i is golden row 54 + i (golden_input_ids holds the same greedy tokens).
void check_golden(CausalModel& model, const fs::path& dir, const char* label) {
  const auto set = formats::load_caption_eval_set(dir / "eval", 0, kGolden);
  const auto golden_logits = edgec::test::read_raw_file<float>(dir / "eval/golden_logits.f32");
  const auto golden_ids = edgec::test::read_raw_file<int32_t>(dir / "eval/golden_input_ids.i32");
  const auto expected = read_lines(dir / "eval/golden_captions.txt");
  const auto vocab = WordVocab::load(dir / "vocab.txt");
  const HostTensor pixels = HostTensor::from_values<float>(DType::f32, set.image_dims, set.pixels);
  const auto prompt_length = static_cast<int64_t>(set.template_ids.size());
  HostTensor logits = model.prefill(TokenRows(kGolden, set.template_ids), &pixels);
  double worst = 0;
  std::vector<uint8_t> done(kGolden, 0);
  TokenRows captions(kGolden);
  for (int64_t position = prompt_length - 1; position + 1 < kSeq; ++position) {
    std::vector<int64_t> next(kGolden);
    for (int64_t b = 0; b < kGolden; ++b) {
      const float* row = logits.data<float>() + b * kVocab;
      const float* gold = golden_logits.data() + (b * kSeq + position) * kVocab;
      if (!done[static_cast<size_t>(b)])
        for (int64_t v = 0; v < kVocab; ++v) worst = std::max(worst, std::abs(static_cast<double>(row[v]) - gold[v]));
      next[static_cast<size_t>(b)] = argmax(std::span<const float>(row, kVocab));
      if (!done[static_cast<size_t>(b)]) {
        CHECK(next[static_cast<size_t>(b)] == golden_ids[static_cast<size_t>(b * kSeq + position + 1)]);
        captions[static_cast<size_t>(b)].push_back(next[static_cast<size_t>(b)]);
        done[static_cast<size_t>(b)] = next[static_cast<size_t>(b)] == kEos;
      }
    }
    if (std::all_of(done.begin(), done.end(), [](uint8_t d) { return d != 0; })) break;
    logits = model.decode(next);
  }
  std::cout << label << ": golden logits along the greedy path max |diff| " << worst << "\n";
  CHECK(worst <= 1e-4);
  const std::vector<int64_t> stop{kEos};
  for (int64_t b = 0; b < kGolden; ++b) CHECK(vocab.decode(captions[static_cast<size_t>(b)], stop) == expected.at(static_cast<size_t>(b)));

  // The same through generate(): identical tokens.
  GenerationOptions options;
  options.max_new_tokens = 10;
  options.stop_tokens = stop;
  const auto result = generate(model, TokenRows(kGolden, set.template_ids), &pixels, options);
  CHECK(result.tokens == captions);
}

// First 500 images, batch 64: exact-caption accuracy vs test_captions.txt.
TokenRows check_subset(CausalModel& model, const fs::path& dir, const char* label) {
  constexpr int64_t kImages = 500;
  const auto set = formats::load_caption_eval_set(dir / "eval", 0, kImages);
  const auto vocab = WordVocab::load(dir / "vocab.txt");
  GenerationOptions options;
  options.max_new_tokens = 10;
  options.stop_tokens = {kEos};
  const auto start = std::chrono::steady_clock::now();
  const auto captions = caption_images(model, set.pixels, set.image_dims, set.template_ids, 64, options);
  const double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  CaptionMetrics metrics;
  for (int64_t i = 0; i < kImages; ++i) {
    const auto& f = set.fields;
    metrics.add(vocab.decode(captions[static_cast<size_t>(i)], options.stop_tokens), set.captions[static_cast<size_t>(i)],
                CaptionFields{f[static_cast<size_t>(3 * i)], f[static_cast<size_t>(3 * i + 1)], f[static_cast<size_t>(3 * i + 2)]});
  }
  const double exact = metrics.rate(metrics.exact);
  std::cout << label << ": first " << kImages << " images exact_acc " << exact << " class_acc " << metrics.rate(metrics.label)
            << " (" << seconds << " s)\n";
  // README: 0.8262 over 10k; 500 images give a standard error of about 0.017.
  CHECK(std::abs(exact - 0.8262) <= 0.05);
  CHECK(metrics.parse_fail == 0);
  return captions;
}

}  // namespace

TEST_CASE("fmnist-vlm-a: golden captions and logits from safetensors and ONNX, 500-image accuracy") {
  const fs::path dir = edgec::test::shared_model("fmnist-vlm-a");
  if (dir.empty()) return;
  const Model hf_model = hf::import_folder(dir);
  const Model onnx_model = onnx_format::import_onnx_folder(dir / "onnx");
  auto from_hf = make_causal_model(hf_model);
  auto from_onnx = make_causal_model(onnx_model, 3);
  CHECK(from_hf->takes_images());
  check_golden(*from_hf, dir, "safetensors (KV cache)");
  check_golden(*from_onnx, dir, "ONNX (full-sequence reruns)");
  const auto hf_captions = check_subset(*from_hf, dir, "safetensors");
  const auto onnx_captions = check_subset(*from_onnx, dir, "ONNX");
  CHECK(hf_captions == onnx_captions);
}

TEST_CASE("fmnist-vlm-a: KV cache equals full-sequence reruns on the LLaVA graph") {
  const fs::path dir = edgec::test::shared_model("fmnist-vlm-a");
  if (dir.empty()) return;
  const Model model = hf::import_folder(dir);
  const auto set = formats::load_caption_eval_set(dir / "eval", 20, 4);
  const HostTensor pixels = HostTensor::from_values<float>(DType::f32, set.image_dims, set.pixels);
  GraphCausalModel cached(model.graphs.at(0), true), full(model.graphs.at(0), false);
  HostTensor a = cached.prefill(TokenRows(4, set.template_ids), &pixels), b = full.prefill(TokenRows(4, set.template_ids), &pixels);
  double worst = 0;
  const std::vector<int64_t> steps{9, 10, 12, 15, 16, 17, 8, 2};  // "a dark small pair of trousers . <eos>"
  for (const int64_t token : steps) {
    for (int64_t i = 0; i < a.elements(); ++i) worst = std::max(worst, std::abs(static_cast<double>(a.data<float>()[i]) - b.data<float>()[i]));
    const std::vector<int64_t> next(4, token);
    a = cached.decode(next);
    b = full.decode(next);
  }
  std::cout << "fmnist-vlm-a KV cache vs full sequence max |diff|: " << worst << "\n";
  CHECK(worst <= 1e-5);
}
