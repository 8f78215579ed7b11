#pragma once
// Next-token selection: greedy (argmax) or seeded sampling with temperature, top-k and top-p. The random
// numbers come from std::mt19937_64 (its output is fixed by the standard) turned into [0,1) doubles by our own
// 53-bit draw, so a seed gives the same tokens on every platform and standard library.
#include <cstdint>
#include <random>
#include <span>
#include <vector>

namespace edgec::runtime {

struct SamplingOptions {
  double temperature = 0.0;  // <= 0: greedy
  int64_t top_k = 0;         // keep the k most likely tokens; 0 = all
  double top_p = 1.0;        // keep the smallest most-likely set whose probability reaches top_p
  uint64_t seed = 0;
};

struct Candidate {
  int64_t token;
  double probability;  // renormalised over the kept set
};

// The first index of the largest logit (NaN never wins).
int64_t argmax(std::span<const float> logits);

// The distribution sampling draws from: softmax(logits / temperature) in double, sorted by descending
// probability (ties: lower id first), cut by top-k then top-p (at least one token), renormalised. Greedy
// options give the argmax with probability 1.
std::vector<Candidate> sampling_distribution(std::span<const float> logits, const SamplingOptions& options);

class Sampler {
 public:
  explicit Sampler(SamplingOptions options) : options_(options), engine_(options.seed) {}
  int64_t next(std::span<const float> logits);
  // Uniform in [0, 1) from the top 53 bits of one engine output.
  double uniform() { return static_cast<double>(engine_() >> 11) * 0x1.0p-53; }
  const SamplingOptions& options() const { return options_; }

 private:
  SamplingOptions options_;
  std::mt19937_64 engine_;
};

}  // namespace edgec::runtime
