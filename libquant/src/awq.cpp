// AWQ, Lin et al. 2023, "AWQ: Activation-aware Weight Quantization for LLM Compression and Acceleration"
// (Section 3.2; reference code awq/quantize/auto_scale.py and auto_clip.py). Salient input channels are those
// with large activations; scaling them up before rounding, W' = W diag(s), and the activation down,
// X' = X diag(1/s), shrinks their relative rounding error. With s = s_X^alpha (s_X = mean |x_j|, normalised
// by sqrt(max s * min s) as the reference does) alpha is searched on a grid in [0, 1] to minimise the
// output error of the layers that read X:
//     L(alpha) = sum_layers || X W^T - X diag(1/s) Q(W diag(s))^T ||^2,
// evaluated exactly from the Hessian of X (trace(D H D^T), D = W - Q(W diag s) diag(1/s)). The chosen s is
// then folded into the op producing X (scale_folding.hpp). auto_clip then shrinks each group's range
// max -> (1 - i/grid) max, keeping the shrink with the least output error of that group.
#include "edgec/quant/awq.hpp"

#include <Eigen/Dense>
#include <algorithm>
#include <cmath>
#include <limits>

#include "edgec/quant/rtn.hpp"

namespace edgec::quant {

AwqScales search_awq_scales(const std::vector<AwqLayerView>& layers, int64_t k, const std::vector<double>& mean_abs,
                            const calibration::Hessian& hessian, const WeightScheme& scheme, const AwqOptions& options) {
  AwqScales best;
  best.error = std::numeric_limits<double>::infinity();
  std::vector<float> scaled, approx;
  for (int step = 0; step <= options.grid; ++step) {
    const double alpha = static_cast<double>(step) / options.grid;
    std::vector<double> s(static_cast<size_t>(k));
    double lo = std::numeric_limits<double>::infinity(), hi = 0.0;
    for (int64_t j = 0; j < k; ++j) {
      s[static_cast<size_t>(j)] = std::pow(std::max(mean_abs[static_cast<size_t>(j)], 1e-4), alpha);
      lo = std::min(lo, s[static_cast<size_t>(j)]);
      hi = std::max(hi, s[static_cast<size_t>(j)]);
    }
    const double norm = std::sqrt(lo * hi);
    for (double& value : s) value /= norm;
    double error = 0.0;
    for (const auto& layer : layers) {
      scaled.assign(layer.weight, layer.weight + layer.n * k);
      for (int64_t row = 0; row < layer.n; ++row)
        for (int64_t j = 0; j < k; ++j) scaled[static_cast<size_t>(row * k + j)] *= static_cast<float>(s[static_cast<size_t>(j)]);
      approx = quantize_rtn(scaled.data(), layer.n, k, scheme).dequantize();
      for (int64_t row = 0; row < layer.n; ++row)
        for (int64_t j = 0; j < k; ++j) approx[static_cast<size_t>(row * k + j)] /= static_cast<float>(s[static_cast<size_t>(j)]);
      error += hessian.output_error(layer.weight, approx.data(), layer.n);
    }
    if (step == 0) best.error_unscaled = error;
    if (error < best.error) {
      best.error = error;
      best.alpha = alpha;
      best.scales = std::move(s);
    }
  }
  return best;
}

QuantizedWeight quantize_clip_searched(const float* weight, int64_t n, int64_t k, const calibration::Hessian& hessian,
                                       const WeightScheme& scheme, const AwqOptions& options) {
  QuantizedWeight out = make_quantized_weight(scheme, n, k);
  const int64_t group = out.layout.group_size, groups = out.layout.groups();
  const int max_code = out.layout.max_code();
  const std::vector<double> h = hessian.matrix();
  const int steps = std::max(1, static_cast<int>(options.max_shrink * static_cast<float>(options.clip_grid)));
#pragma omp parallel for schedule(static)
  for (int64_t row = 0; row < n; ++row) {
    std::vector<double> diff(static_cast<size_t>(group));
    for (int64_t g = 0; g < groups; ++g) {
      const int64_t begin = g * group, count = std::min(group, k - begin);
      const float* values = weight + row * k + begin;
      GroupParams best{};
      double best_error = std::numeric_limits<double>::infinity();
      for (int i = 0; i < steps; ++i) {
        const float shrink = 1.0f - static_cast<float>(i) / static_cast<float>(options.clip_grid);
        const GroupParams params = fit_group(values, count, scheme, shrink);
        for (int64_t a = 0; a < count; ++a)
          diff[static_cast<size_t>(a)] = values[a] - dequantize_code(quantize_value(values[a], params, max_code), params);
        double error = 0.0;  // d^T H_gg d
        for (int64_t a = 0; a < count; ++a) {
          double row_sum = 0.0;
          const double* h_row = h.data() + (begin + a) * k + begin;
          for (int64_t b = 0; b < count; ++b) row_sum += h_row[b] * diff[static_cast<size_t>(b)];
          error += diff[static_cast<size_t>(a)] * row_sum;
        }
        if (error < best_error) {
          best_error = error;
          best = params;
        }
      }
      out.param(row, g) = best;
      for (int64_t a = 0; a < count; ++a)
        out.codes[static_cast<size_t>(row * k + begin + a)] = static_cast<uint8_t>(quantize_value(values[a], best, max_code));
    }
  }
  return out;
}

}  // namespace edgec::quant
