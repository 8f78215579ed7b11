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

#include "edgec/core/parallel.hpp"
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
  // Coordinate descent over groups on the row's whole output error e = d^T H d (d = w - deq(q(w))),
  // starting from round-to-nearest: changing group g's shrink changes e by
  //   d_g'^T H_gg d_g' - d_g^T H_gg d_g + 2 (d_g' - d_g)^T c_g,   c_g = sum_{h != g} H_gh d_h,
  // and shrink 1 (no change) is always a candidate, so the result is never worse than round-to-nearest.
  QuantizedWeight out = make_quantized_weight(scheme, n, k);
  const int64_t group = out.layout.group_size, groups = out.layout.groups();
  const int max_code = out.layout.max_code();
  const std::vector<double> h = hessian.matrix();
  const int steps = std::max(1, static_cast<int>(options.max_shrink * static_cast<float>(options.clip_grid)));
  const auto quadratic = [&](const double* d, const double* c, int64_t begin, int64_t count) {
    double value = 0.0;
    for (int64_t a = 0; a < count; ++a) {
      double row_sum = 0.0;
      const double* h_row = h.data() + (begin + a) * k + begin;
      for (int64_t b = 0; b < count; ++b) row_sum += h_row[b] * d[b];
      value += d[a] * (row_sum + 2.0 * c[a]);
    }
    return value;
  };
  edgec::parallel_for(n, 1, [&](int64_t row) {
    const float* values = weight + row * k;
    std::vector<double> d(static_cast<size_t>(k)), hd(static_cast<size_t>(k), 0.0), c(static_cast<size_t>(group)),
        candidate(static_cast<size_t>(group));
    std::vector<GroupParams> params(static_cast<size_t>(groups));
    for (int64_t g = 0; g < groups; ++g) {
      const int64_t begin = g * group, count = std::min(group, k - begin);
      params[static_cast<size_t>(g)] = fit_group(values + begin, count, scheme);
      for (int64_t a = 0; a < count; ++a)
        d[static_cast<size_t>(begin + a)] =
            values[begin + a] - dequantize_code(quantize_value(values[begin + a], params[static_cast<size_t>(g)], max_code), params[static_cast<size_t>(g)]);
    }
    for (int64_t a = 0; a < k; ++a) {
      double sum = 0.0;
      for (int64_t b = 0; b < k; ++b) sum += h[static_cast<size_t>(a * k + b)] * d[static_cast<size_t>(b)];
      hd[static_cast<size_t>(a)] = sum;
    }
    for (int64_t g = 0; g < groups; ++g) {
      const int64_t begin = g * group, count = std::min(group, k - begin);
      double* current = d.data() + begin;
      for (int64_t a = 0; a < count; ++a) {  // c_g = (H d)_g - H_gg d_g
        double own = 0.0;
        const double* h_row = h.data() + (begin + a) * k + begin;
        for (int64_t b = 0; b < count; ++b) own += h_row[b] * current[b];
        c[static_cast<size_t>(a)] = hd[static_cast<size_t>(begin + a)] - own;
      }
      const double baseline = quadratic(current, c.data(), begin, count);
      double best = baseline;
      GroupParams chosen = params[static_cast<size_t>(g)];
      for (int i = 1; i < steps; ++i) {
        const float shrink = 1.0f - static_cast<float>(i) / static_cast<float>(options.clip_grid);
        const GroupParams trial = fit_group(values + begin, count, scheme, shrink);
        for (int64_t a = 0; a < count; ++a)
          candidate[static_cast<size_t>(a)] = values[begin + a] - dequantize_code(quantize_value(values[begin + a], trial, max_code), trial);
        const double value = quadratic(candidate.data(), c.data(), begin, count);
        if (value < best) {
          best = value;
          chosen = trial;
        }
      }
      if (best < baseline) {  // apply: update d_g and H d
        for (int64_t a = 0; a < count; ++a) {
          const double updated = values[begin + a] - dequantize_code(quantize_value(values[begin + a], chosen, max_code), chosen);
          const double delta = updated - current[a];
          current[a] = updated;
          if (delta != 0.0)
            for (int64_t r = 0; r < k; ++r) hd[static_cast<size_t>(r)] += h[static_cast<size_t>(r * k + begin + a)] * delta;
        }
        params[static_cast<size_t>(g)] = chosen;
      }
    }
    for (int64_t g = 0; g < groups; ++g) {
      out.param(row, g) = params[static_cast<size_t>(g)];
      const int64_t begin = g * group, count = std::min(group, k - begin);
      for (int64_t a = 0; a < count; ++a)
        out.codes[static_cast<size_t>(row * k + begin + a)] =
            static_cast<uint8_t>(quantize_value(values[begin + a], params[static_cast<size_t>(g)], max_code));
    }
  });
  return out;
}

}  // namespace edgec::quant
