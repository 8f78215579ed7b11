// Language-model evaluation (lm_eval.hpp): the statistics on hand-computed logits, window counting, stories260k's
// recorded held-out perplexity (stories260k/eval/README.md), KL and agreement against itself and against a
// perturbed copy, and the input errors.
#include <doctest/doctest.h>

#include <chrono>
#include <cmath>
#include <iostream>
#include <vector>

#include "raw_file.hpp"
#include "edgec/core/error.hpp"
#include "edgec/formats/hf.hpp"
#include "edgec/runtime/lm_eval.hpp"
#include "test_paths.hpp"

using namespace edgec;
using namespace edgec::runtime;
namespace fs = std::filesystem;

namespace {

std::vector<int64_t> heldout_ids(const fs::path& dir) {
  const auto ids = edgec::test::read_raw_file<int32_t>(dir / "eval/heldout_ids.i32");
  return {ids.begin(), ids.end()};
}

// The error category and message of evaluate_lm(...), or {internal, ""} when it does not throw.
template <class F>
std::pair<ErrorCategory, std::string> error_of(F&& run) {
  try {
    run();
  } catch (const Error& e) {
    return {e.category(), e.what()};
  }
  return {ErrorCategory::internal, ""};
}

}  // namespace

TEST_CASE("lm eval: statistics of hand-computed logits") {
  const double ln2 = std::log(2.0), ln3 = std::log(3.0), ln4 = std::log(4.0);
  const float l2 = static_cast<float>(ln2);
  // Vocabulary 3, one window of 3 tokens: rows 0 and 1 predict tokens 2 and 1; row 2 is not scored.
  const std::vector<int64_t> tokens{0, 2, 1};
  const std::vector<float> model{0, 0, 0,       // uniform: p(2) = 1/3, argmax 0 (first on ties)
                                 0, l2, 0,      // {1/4, 1/2, 1/4}: p(1) = 1/2, argmax 1
                                 9, 9, 9};
  const std::vector<float> reference{0, l2, 0,  // {1/4, 1/2, 1/4}: p(2) = 1/4, argmax 1
                                     0, l2, 0,  // same as the model
                                     -5, 0, 5};

  LmEvalAccumulator alone;
  alone.add_window(tokens, model, {}, 3);
  const LmEvalResult a = alone.result();
  CHECK(a.windows == 1);
  CHECK(a.predictions == 2);
  CHECK_FALSE(a.has_reference);
  CHECK(a.nll == doctest::Approx((ln3 + ln2) / 2).epsilon(1e-7));
  CHECK(a.perplexity == doctest::Approx(std::sqrt(6.0)).epsilon(1e-7));

  LmEvalAccumulator both;
  both.add_window(tokens, model, reference, 3);
  both.add_window(tokens, model, reference, 3);  // a second identical window: same means
  const LmEvalResult b = both.result();
  CHECK(b.windows == 2);
  CHECK(b.predictions == 4);
  REQUIRE(b.has_reference);
  CHECK(b.nll == doctest::Approx(a.nll).epsilon(1e-12));
  CHECK(b.reference_nll == doctest::Approx((ln4 + ln2) / 2).epsilon(1e-7));
  CHECK(b.reference_perplexity == doctest::Approx(std::sqrt(8.0)).epsilon(1e-7));
  // Row 0: KL({1/4,1/2,1/4} || uniform) = 2 * 1/4 ln(3/4) + 1/2 ln(3/2); row 1: 0.
  const double kl_row0 = 0.5 * std::log(0.75) + 0.5 * std::log(1.5);
  CHECK(b.kl == doctest::Approx(kl_row0 / 2).epsilon(1e-7));
  CHECK(b.top1_agreement == 0.5);

  LmEvalAccumulator bad;
  CHECK_THROWS_AS(bad.add_window(std::vector<int64_t>{0, 3}, std::vector<float>(6), {}, 3), Error);  // id 3 >= vocab
  CHECK_THROWS_AS(bad.add_window(tokens, std::vector<float>(8), {}, 3), Error);                     // 8 != 3 x 3
}

TEST_CASE("lm eval: windows are whole, non-overlapping and limited") {
  CHECK(lm_eval_window_count(24014, {}) == 93);
  CHECK(lm_eval_window_count(24014, {.window = 256, .limit = 5}) == 5);
  CHECK(lm_eval_window_count(24014, {.window = 256, .limit = 500}) == 93);
  CHECK(lm_eval_window_count(255, {}) == 0);
  CHECK(lm_eval_window_count(512, {}) == 2);
  CHECK(error_of([] { lm_eval_window_count(100, {.window = 1}); }).first == ErrorCategory::usage);
}

TEST_CASE("stories260k: held-out perplexity over 93 windows of 256 tokens is 57.96") {
  const fs::path dir = edgec::test::shared_model("stories260k");
  if (dir.empty()) return;
  const Model model = hf::import_folder(dir);
  const auto ids = heldout_ids(dir);
  REQUIRE(ids.size() == 24014);
  const auto start = std::chrono::steady_clock::now();
  const LmEvalResult r = evaluate_lm(model.graphs.at(0), nullptr, std::span<const int64_t>(ids));
  const double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  std::cout << "stories260k held-out: " << r.windows << " windows, " << r.predictions << " predictions, nll "
            << r.nll << ", perplexity " << r.perplexity << " in " << seconds << " s\n";
  CHECK(r.windows == 93);
  CHECK(r.predictions == 23715);
  CHECK_FALSE(r.has_reference);
  CHECK(std::abs(r.perplexity - 57.96) <= 0.01);
  CHECK(std::abs(r.nll - 4.0597) <= 1e-4);
}

TEST_CASE("stories260k: against itself KL is 0 and top-1 agreement 1, int32 ids give the same result") {
  const fs::path dir = edgec::test::shared_model("stories260k");
  if (dir.empty()) return;
  const Model model = hf::import_folder(dir);
  const auto ids32 = edgec::test::read_raw_file<int32_t>(dir / "eval/heldout_ids.i32");
  const Graph& graph = model.graphs.at(0);
  const LmEvalOptions options{.window = 256, .limit = 4};
  const LmEvalResult r = evaluate_lm(graph, &graph, std::span<const int32_t>(ids32), options);
  CHECK(r.windows == 4);
  CHECK(r.predictions == 4 * 255);
  REQUIRE(r.has_reference);
  CHECK(std::abs(r.kl) <= 1e-9);
  CHECK(r.top1_agreement == 1.0);
  CHECK(r.reference_perplexity == r.perplexity);
  // Windows are independent and the reduction order is fixed: the same stream without a reference gives the
  // same bits.
  const auto ids = heldout_ids(dir);
  const LmEvalResult alone = evaluate_lm(graph, nullptr, std::span<const int64_t>(ids), options);
  CHECK(alone.nll == r.nll);
}

TEST_CASE("stories260k: a perturbed copy has KL > 0 and top-1 agreement < 1") {
  const fs::path dir = edgec::test::shared_model("stories260k");
  if (dir.empty()) return;
  const Model model = hf::import_folder(dir);
  const Graph& graph = model.graphs.at(0);
  // Scale the first layer's MLP down projection by 1.5 (an owning copy; the checkpoint stays mapped read-only).
  Graph perturbed = graph;
  const std::string name = "model.layers.0.mlp.down_proj.weight";
  REQUIRE(perturbed.initializers.count(name) == 1);
  Tensor& weight = perturbed.initializers.at(name);
  std::vector<float> scaled = weight.to_f32();
  for (float& w : scaled) w *= 1.5f;
  weight = Tensor::from_values<float>(DType::f32, weight.dims(), std::span<const float>(scaled));

  const auto ids = heldout_ids(dir);
  const LmEvalOptions options{.window = 256, .limit = 3};
  const LmEvalResult r = evaluate_lm(perturbed, &graph, std::span<const int64_t>(ids), options);
  const LmEvalResult base = evaluate_lm(graph, nullptr, std::span<const int64_t>(ids), options);
  std::cout << "stories260k down_proj[0] x1.5 (3 windows): perplexity " << r.perplexity << " vs " << r.reference_perplexity
            << ", KL " << r.kl << ", top-1 agreement " << r.top1_agreement << "\n";
  CHECK(r.predictions == 765);
  CHECK(r.kl > 1e-4);
  CHECK(r.top1_agreement < 1.0);
  CHECK(r.top1_agreement > 0.5);
  CHECK(r.reference_perplexity == base.perplexity);
  CHECK(r.perplexity != base.perplexity);
}

TEST_CASE("lm eval: short streams, ids outside the vocabulary and bad windows are errors") {
  const fs::path dir = edgec::test::shared_model("stories260k");
  if (dir.empty()) return;
  const Model model = hf::import_folder(dir);
  const Graph& graph = model.graphs.at(0);
  auto ids = heldout_ids(dir);

  const std::vector<int64_t> few(ids.begin(), ids.begin() + 100);
  auto [category, message] = error_of([&] { evaluate_lm(graph, nullptr, std::span<const int64_t>(few), {.source = "few.i32"}); });
  CHECK(category == ErrorCategory::input);
  CHECK(message.find("few.i32") != std::string::npos);
  CHECK(message.find("fewer than one window of 256") != std::string::npos);

  ids[300] = 512;
  std::tie(category, message) = error_of([&] { evaluate_lm(graph, nullptr, std::span<const int64_t>(ids), {.source = "ids.i32"}); });
  CHECK(category == ErrorCategory::input);
  CHECK(message.find("ids.i32") != std::string::npos);
  CHECK(message.find("token id 512 at index 300") != std::string::npos);
  // Outside the scored windows (beyond --limit or in the dropped tail) an id is not used, so not checked.
  CHECK(evaluate_lm(graph, nullptr, std::span<const int64_t>(ids), {.window = 64, .limit = 2}).windows == 2);
  ids[300] = -1;
  CHECK(error_of([&] { evaluate_lm(graph, nullptr, std::span<const int64_t>(ids), {}); }).first == ErrorCategory::input);

  CHECK(error_of([&] { evaluate_lm(graph, nullptr, std::span<const int64_t>(ids), {.window = 1}); }).first == ErrorCategory::usage);
}
