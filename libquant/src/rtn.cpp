// Round-to-nearest (RTN): w_q = clamp(round(w / s) + z, 0, 2^b - 1) with (s, z) from the group's min/max
// range. The optional clipping search is GPTQ's quantizer with mse=True (Frantar et al., 2022, reference
// code quant.py): shrink the range by p = 1 - i/grid and keep the p with the least squared error.
#include "edgec/quant/rtn.hpp"

#include <algorithm>
#include <cmath>

#include "edgec/core/error.hpp"
#include "edgec/core/parallel.hpp"

namespace edgec::quant {

namespace {

double group_error(const float* values, int64_t count, GroupParams params, int max_code, float norm, const double* weights) {
  double error = 0.0;
  for (int64_t i = 0; i < count; ++i) {
    const double diff = std::fabs(values[i] - dequantize_code(quantize_value(values[i], params, max_code), params));
    const double term = norm == 2.0f ? diff * diff : std::pow(diff, static_cast<double>(norm));
    error += weights ? weights[i] * term : term;
  }
  return error;
}

}  // namespace

GroupParams fit_group_searched(const float* values, int64_t count, const WeightScheme& scheme, const RtnOptions& options,
                               const double* weights) {
  GroupParams best = fit_group(values, count, scheme);
  if (!options.mse_clip) return best;
  const int max_code = (1 << scheme.bits) - 1;
  double best_error = group_error(values, count, best, max_code, options.norm, weights);
  const int steps = static_cast<int>(options.max_shrink * static_cast<float>(options.grid));
  for (int i = 1; i < steps; ++i) {
    const float shrink = 1.0f - static_cast<float>(i) / static_cast<float>(options.grid);
    const GroupParams candidate = fit_group(values, count, scheme, shrink);
    const double error = group_error(values, count, candidate, max_code, options.norm, weights);
    if (error < best_error) {  // strict: ties keep the wider range, so the search is deterministic
      best_error = error;
      best = candidate;
    }
  }
  return best;
}

QuantizedWeight quantize_rtn(const float* weight, int64_t n, int64_t k, const WeightScheme& scheme, const RtnOptions& options) {
  QuantizedWeight out = make_quantized_weight(scheme, n, k);
  const int64_t group = out.layout.group_size, groups = out.layout.groups();
  const int max_code = out.layout.max_code();
  edgec::parallel_for(n, 1, [&](int64_t row) {
    for (int64_t g = 0; g < groups; ++g) {
      const int64_t begin = g * group, count = std::min(group, k - begin);
      const float* values = weight + row * k + begin;
      const GroupParams params = fit_group_searched(values, count, scheme, options);
      out.param(row, g) = params;
      for (int64_t i = 0; i < count; ++i)
        out.codes[static_cast<size_t>(row * k + begin + i)] = static_cast<uint8_t>(quantize_value(values[i], params, max_code));
    }
  });
  return out;
}

}  // namespace edgec::quant
