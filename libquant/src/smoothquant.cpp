// SmoothQuant, Xiao et al. 2022, "SmoothQuant: Accurate and Efficient Post-Training Quantization for Large
// Language Models" (Section 4, Eq. 4; reference code smoothquant/smooth.py). Y = (X diag(s)^-1)(diag(s) W^T):
// per input channel j, s_j = max|X_j|^alpha / max|W_j|^(1-alpha) evens out the activation and weight ranges
// so both quantize well to int8. diag(s)^-1 is folded into the preceding LayerNorm/RMSNorm (weight and bias),
// diag(s) into the weights (scale_folding.hpp); the layers then run W8A8.
#include "edgec/quant/smoothquant.hpp"

#include <algorithm>
#include <cmath>

namespace edgec::quant {

std::vector<double> smoothquant_scales(const std::vector<double>& activation_max, const std::vector<double>& weight_max,
                                       const SmoothQuantOptions& options) {
  std::vector<double> scales(activation_max.size());
  for (size_t j = 0; j < scales.size(); ++j)
    scales[j] = std::pow(std::max(activation_max[j], 1e-5), options.alpha) /
                std::pow(std::max(weight_max[j], 1e-5), 1.0 - options.alpha);
  return scales;
}

}  // namespace edgec::quant
