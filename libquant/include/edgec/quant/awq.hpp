#pragma once
// AWQ (Lin et al., 2023): activation-aware per-input-channel weight scaling, then a clipping search.
#include <cstdint>
#include <vector>

#include "edgec/calibration/hessian.hpp"
#include "edgec/quant/scheme.hpp"

namespace edgec::quant {

struct AwqOptions {
  int grid = 20;             // alpha in {0, 1/grid, ..., 1}
  bool clip_search = true;   // then search each group's clipping range against the output error
  int clip_grid = 20;
  float max_shrink = 0.5f;   // clip ranges down to (1 - max_shrink) of the group's max
};

struct AwqLayerView {
  const float* weight;  // [n, k] row-major
  int64_t n;
};

struct AwqScales {
  std::vector<double> scales;  // s_j, one per input channel (all 1 when alpha = 0 is best)
  double alpha = 0.0;
  double error = 0.0;          // the group's output error with these scales
  double error_unscaled = 0.0; // ... and with alpha = 0 (plain round-to-nearest)
};

// Searches alpha on the grid for s = mean|x|^alpha / sqrt(max * min) minimising the summed output error
// sum_layers ||X W^T - X (Q(W diag(s)) diag(1/s))^T||^2 of round-to-nearest, the errors from the Hessian
// of X (exact over every calibration token). `mean_abs` is mean |x_j| over the tokens.
AwqScales search_awq_scales(const std::vector<AwqLayerView>& layers, int64_t k, const std::vector<double>& mean_abs,
                            const calibration::Hessian& hessian, const WeightScheme& scheme, const AwqOptions& options);

// Round-to-nearest whose per-group range shrink is chosen to minimise the row's output error d^T H d
// (d = w - deq(q(w))): AWQ's auto-clip, done as one pass of coordinate descent over the groups from
// round-to-nearest, so each row's output error is never above round-to-nearest's.
QuantizedWeight quantize_clip_searched(const float* weight, int64_t n, int64_t k, const calibration::Hessian& hessian,
                                       const WeightScheme& scheme, const AwqOptions& options);

}  // namespace edgec::quant
