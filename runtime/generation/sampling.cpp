#include "edgec/runtime/sampling.hpp"

#include <algorithm>
#include <cmath>
#include <numeric>

#include "edgec/core/error.hpp"

namespace edgec::runtime {

int64_t argmax(std::span<const float> logits) {
  if (logits.empty()) throw Error(ErrorCategory::input, "sampling: empty logits");
  int64_t best = 0;
  for (size_t i = 1; i < logits.size(); ++i)
    if (logits[i] > logits[static_cast<size_t>(best)] || std::isnan(logits[static_cast<size_t>(best)])) best = static_cast<int64_t>(i);
  return best;
}

std::vector<Candidate> sampling_distribution(std::span<const float> logits, const SamplingOptions& options) {
  if (options.temperature <= 0.0 || options.top_k == 1) return {Candidate{argmax(logits), 1.0}};
  const int64_t best = argmax(logits);
  const double peak = logits[static_cast<size_t>(best)];
  std::vector<Candidate> all(logits.size());
  double sum = 0;
  for (size_t i = 0; i < logits.size(); ++i) {
    const double p = std::isnan(logits[i]) ? 0.0 : std::exp((logits[i] - peak) / options.temperature);
    all[i] = Candidate{static_cast<int64_t>(i), p};
    sum += p;
  }
  // Stable sort: equal probabilities keep id order, so the cut is deterministic.
  std::stable_sort(all.begin(), all.end(), [](const Candidate& a, const Candidate& b) { return a.probability > b.probability; });
  size_t keep = all.size();
  if (options.top_k > 0) keep = std::min(keep, static_cast<size_t>(options.top_k));
  if (options.top_p < 1.0) {
    double cumulative = 0;
    size_t n = 0;
    while (n < keep) {
      cumulative += all[n].probability / sum;
      ++n;
      if (cumulative >= options.top_p) break;
    }
    keep = std::max<size_t>(n, 1);
  }
  all.resize(keep);
  while (!all.empty() && all.back().probability <= 0.0 && all.size() > 1) all.pop_back();
  const double kept = std::accumulate(all.begin(), all.end(), 0.0, [](double s, const Candidate& c) { return s + c.probability; });
  for (auto& c : all) c.probability /= kept;
  return all;
}

int64_t Sampler::next(std::span<const float> logits) {
  if (options_.temperature <= 0.0) return argmax(logits);
  const auto candidates = sampling_distribution(logits, options_);
  const double u = uniform();
  double cumulative = 0;
  for (const auto& c : candidates) {
    cumulative += c.probability;
    if (u < cumulative) return c.token;
  }
  return candidates.back().token;  // rounding: u just below 1
}

}  // namespace edgec::runtime
