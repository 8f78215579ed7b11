// Sampling: deterministic per seed, degenerate settings equal greedy, and the support of top-k / top-p.
#include <doctest/doctest.h>

#include <algorithm>
#include <cmath>

#include "edgec/runtime/sampling.hpp"

using namespace edgec::runtime;

TEST_CASE("sampling distribution: temperature, top-k and top-p cut the expected support") {
  // softmax([log 0.5, log 0.3, log 0.15, log 0.05]) = [0.5, 0.3, 0.15, 0.05]
  const std::vector<float> logits{std::log(0.3f), std::log(0.05f), std::log(0.5f), std::log(0.15f)};
  SamplingOptions all{1.0, 0, 1.0, 0};
  auto d = sampling_distribution(logits, all);
  REQUIRE(d.size() == 4);
  CHECK(d[0].token == 2);
  CHECK(d[0].probability == doctest::Approx(0.5));
  CHECK(d[1].token == 0);
  CHECK(d[3].token == 1);
  CHECK(d[3].probability == doctest::Approx(0.05));

  d = sampling_distribution(logits, SamplingOptions{1.0, 2, 1.0, 0});
  REQUIRE(d.size() == 2);
  CHECK(d[0].probability == doctest::Approx(0.5 / 0.8));
  CHECK(d[1].token == 0);

  d = sampling_distribution(logits, SamplingOptions{1.0, 0, 0.8, 0});  // 0.5 + 0.3 reaches 0.8
  REQUIRE(d.size() == 2);
  d = sampling_distribution(logits, SamplingOptions{1.0, 0, 0.81, 0});
  REQUIRE(d.size() == 3);
  CHECK(d[2].token == 3);
  CHECK(d[2].probability == doctest::Approx(0.15 / 0.95));

  // Temperature 2 flattens: p ∝ sqrt(p0).
  d = sampling_distribution(logits, SamplingOptions{2.0, 0, 1.0, 0});
  const double z = std::sqrt(0.5) + std::sqrt(0.3) + std::sqrt(0.15) + std::sqrt(0.05);
  CHECK(d[0].probability == doctest::Approx(std::sqrt(0.5) / z));
}

TEST_CASE("sampling: same seed, same tokens, degenerate settings equal greedy") {
  std::vector<std::vector<float>> steps;
  for (int s = 0; s < 50; ++s) {
    std::vector<float> logits(40);
    for (size_t i = 0; i < logits.size(); ++i) logits[i] = static_cast<float>(std::sin(0.7 * static_cast<double>(i) + 1.3 * s) * 3.0);
    steps.push_back(logits);
  }
  auto draw = [&](SamplingOptions options) {
    Sampler sampler(options);
    std::vector<int64_t> tokens;
    for (const auto& logits : steps) tokens.push_back(sampler.next(logits));
    return tokens;
  };
  std::vector<int64_t> greedy;
  for (const auto& logits : steps) greedy.push_back(argmax(logits));
  const auto a = draw({0.9, 10, 0.95, 42}), b = draw({0.9, 10, 0.95, 42}), c = draw({0.9, 10, 0.95, 43});
  CHECK(a == b);
  CHECK(a != c);
  CHECK(a != greedy);
  CHECK(draw({0.8, 1, 1.0, 7}) == greedy);
  CHECK(draw({1.5, 0, 1e-6, 7}) == greedy);
  CHECK(draw({0.0, 0, 1.0, 7}) == greedy);
  // Every sampled token lies in the top-10 support.
  for (size_t s = 0; s < steps.size(); ++s) {
    const auto support = sampling_distribution(steps[s], {0.9, 10, 0.95, 0});
    CHECK(std::any_of(support.begin(), support.end(), [&](const Candidate& cand) { return cand.token == a[s]; }));
  }
  // The draw itself is fixed by the standard engine: first value of mt19937_64 seeded 5489 is 14514284786278117030.
  Sampler fixed({1.0, 0, 1.0, 5489});
  CHECK(fixed.uniform() == static_cast<double>(14514284786278117030ull >> 11) * 0x1.0p-53);
}
