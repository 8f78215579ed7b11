#pragma once
// SmoothQuant (Xiao et al., 2022): migrate activation outliers into the weights before W8A8.
#include <vector>

namespace edgec::quant {

struct SmoothQuantOptions {
  double alpha = 0.5;  // migration strength
};

// s_j = max|X_j|^alpha / max|W_j|^(1 - alpha) for one input group: `activation_max` is max |x_j| over the
// calibration tokens, `weight_max` max |W[:, j]| over every layer reading X. Both are floored at 1e-5 so a
// dead channel gets a finite scale.
std::vector<double> smoothquant_scales(const std::vector<double>& activation_max, const std::vector<double>& weight_max,
                                       const SmoothQuantOptions& options);

}  // namespace edgec::quant
