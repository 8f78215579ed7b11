#pragma once
// Round-to-nearest quantization, optionally with a clipping search per group.
#include <cstdint>

#include "edgec/quant/scheme.hpp"

namespace edgec::quant {

struct RtnOptions {
  // Search the group's range shrink factor p in {1, 1 - 1/grid, ..., 1 - max_shrink} minimising the group's
  // rounding error sum |w - deq(q(w))|^norm (GPTQ's `mse` quantizer option).
  bool mse_clip = false;
  int grid = 100;
  float max_shrink = 0.8f;
  // The error norm: sum |w - deq(q(w))|^norm. 2 is the mean squared error; GPTQ's reference uses 2.4, which
  // weighs large errors more and so clips less.
  float norm = 2.0f;
};

// Parameters of one group: the min/max fit, or the best clipped fit when options.mse_clip. `weights` (count values,
// or null for all 1) weigh each element's error: GPTQ passes diag(H), each input channel's energy, so the search
// minimises the diagonal part of the output error rather than the weight error.
GroupParams fit_group_searched(const float* values, int64_t count, const WeightScheme& scheme, const RtnOptions& options,
                               const double* weights = nullptr);

// W [n, k] row-major -> codes and parameters, every element rounded to its group's nearest level.
QuantizedWeight quantize_rtn(const float* weight, int64_t n, int64_t k, const WeightScheme& scheme,
                             const RtnOptions& options = {});

}  // namespace edgec::quant
