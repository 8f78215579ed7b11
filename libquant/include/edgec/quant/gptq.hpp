#pragma once
// GPTQ (Frantar et al., 2022): second-order weight rounding from the layer Hessian.
#include <cstdint>

#include "edgec/calibration/hessian.hpp"
#include "edgec/quant/rtn.hpp"
#include "edgec/quant/scheme.hpp"

namespace edgec::quant {

struct GptqOptions {
  double percdamp = 0.01;     // dampening lambda = percdamp * mean(diag H)
  int64_t block_size = 128;   // columns per lazy batch update
  bool act_order = true;      // columns in order of decreasing diag(H), with static groups
  RtnOptions group_fit;       // how each group's scale and zero point are chosen (min/max or clip search)
  bool hessian_clip = true;   // a clip search weighs each column's error by diag(H) (its input energy)
};

struct GptqReport {
  double damp = 0.0;          // the lambda finally used (raised x10 when H + lambda I was not positive definite)
  int64_t dead_columns = 0;   // input channels never active in calibration (diag H = 0): quantized as 0
};

// W [n, k] row-major f32 and its Hessian -> codes and group parameters in the packed layout's groups
// (group g always covers original columns [g*G, (g+1)*G), act-order or not). `where` names the layer in
// errors. Deterministic: rows are processed in fixed chunks, so any thread count gives the same result.
QuantizedWeight quantize_gptq(const float* weight, int64_t n, int64_t k, const calibration::Hessian& hessian,
                              const WeightScheme& scheme, const GptqOptions& options, const std::string& where,
                              GptqReport* report = nullptr);

}  // namespace edgec::quant
