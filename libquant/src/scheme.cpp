#include "edgec/quant/scheme.hpp"

#include <algorithm>
#include <cmath>
#include <cstring>

#include "edgec/core/error.hpp"

namespace edgec::quant {

void validate_scheme(const WeightScheme& scheme, const std::string& where) {
  if (!quant_bits_supported(scheme.bits))
    throw Error(ErrorCategory::usage, where + ": bits must be 2, 3, 4 or 8, got " + std::to_string(scheme.bits));
  if (scheme.group_size < 0)
    throw Error(ErrorCategory::usage, where + ": group size must be 0 (per channel) or positive, got " +
                                          std::to_string(scheme.group_size));
  if (scheme.scale_dtype != DType::f16 && scheme.scale_dtype != DType::f32)
    throw Error(ErrorCategory::usage, where + ": scale dtype must be f16 or f32");
  if (scheme.activations != ActivationMode::float_ && scheme.bits != 8)
    throw Error(ErrorCategory::usage, where + ": int8 activations (W8A8) need 8-bit weights, got " +
                                          std::to_string(scheme.bits) + " bits");
}

std::string describe(const WeightScheme& scheme) {
  std::string text = "w" + std::to_string(scheme.bits);
  text += scheme.group_size > 0 ? " g" + std::to_string(scheme.group_size) : " per-channel";
  text += scheme.symmetric ? " sym" : " asym";
  text += scheme.scale_dtype == DType::f16 ? " f16-scales" : " f32-scales";
  if (scheme.activations == ActivationMode::int8_dynamic) text += " a8-per-token";
  if (scheme.activations == ActivationMode::int8_static) text += " a8-per-tensor";
  return text;
}

namespace {

float round_scale(float scale, DType dtype) {
  if (dtype != DType::f16) return scale;
  const uint16_t bits = f32_to_f16(scale);
  float rounded = f16_to_f32(bits);
  // Round up, not to nearest: a smaller scale's grid would not reach the group's extreme values, clipping them
  // by up to max_code * (scale - rounded) (several steps at 8 bits when the scale is an f16 subnormal, i.e.
  // any 8-bit group with a range below 255 * 2^-14 ~ 0.016). bits + 1 is the next f16 up for a positive scale.
  if (rounded < scale) rounded = f16_to_f32(static_cast<uint16_t>(bits + 1));
  // A scale that underflows f16 would make every code saturate; keep the smallest normal instead.
  if (!(rounded > 0.0f)) rounded = f16_to_f32(0x0400);
  return rounded;
}

}  // namespace

GroupParams fit_group(const float* values, int64_t count, const WeightScheme& scheme, float shrink) {
  const int max_code = (1 << scheme.bits) - 1;
  float lo = 0.0f, hi = 0.0f;  // the range always contains 0, so zero is exactly representable
  for (int64_t i = 0; i < count; ++i) {
    lo = std::min(lo, values[i]);
    hi = std::max(hi, values[i]);
  }
  lo *= shrink;
  hi *= shrink;
  GroupParams params;
  if (scheme.symmetric) {
    const float bound = std::max(-lo, hi);
    // GPTQ's symmetric grid: [-bound, bound] spread over all 2^bits codes around the fixed zero 2^(bits-1).
    params.scale = round_scale(bound > 0.0f ? 2.0f * bound / static_cast<float>(max_code) : 1.0f, scheme.scale_dtype);
    params.zero = 1 << (scheme.bits - 1);
    return params;
  }
  if (hi - lo <= 0.0f) {  // all-zero group: any scale reproduces it exactly
    params.scale = round_scale(1.0f, scheme.scale_dtype);
    params.zero = 0;
    return params;
  }
  params.scale = round_scale((hi - lo) / static_cast<float>(max_code), scheme.scale_dtype);
  params.zero = std::clamp(static_cast<int>(std::nearbyint(-lo / params.scale)), 0, max_code);
  return params;
}

QuantizedWeight make_quantized_weight(const WeightScheme& scheme, int64_t out_features, int64_t in_features) {
  QuantizedWeight weight;
  weight.layout.bits = scheme.bits;
  weight.layout.group_size = scheme.group_for(in_features);
  weight.layout.out_features = out_features;
  weight.layout.in_features = in_features;
  weight.layout.symmetric = scheme.symmetric;
  weight.codes.assign(static_cast<size_t>(out_features * in_features), 0);
  weight.params.assign(static_cast<size_t>(out_features * weight.layout.groups()), GroupParams{});
  return weight;
}

std::vector<float> QuantizedWeight::dequantize() const {
  const int64_t n = layout.out_features, k = layout.in_features, g = layout.group_size;
  std::vector<float> w(static_cast<size_t>(n * k));
  for (int64_t row = 0; row < n; ++row)
    for (int64_t col = 0; col < k; ++col) {
      const size_t at = static_cast<size_t>(row * k + col);
      w[at] = dequantize_code(codes[at], param(row, col / g));
    }
  return w;
}

PackedWeight pack(const QuantizedWeight& weight, DType scale_dtype) {
  const QuantLayout& layout = weight.layout;
  const int64_t n = layout.out_features, k = layout.in_features, groups = layout.groups();
  PackedWeight packed;
  packed.qweight.assign(static_cast<size_t>(n * layout.row_bytes()), 0);
  for (int64_t row = 0; row < n; ++row) {
    uint8_t* out = packed.qweight.data() + row * layout.row_bytes();
    for (int64_t col = 0; col < k; ++col) pack_code(out, layout.bits, col, weight.codes[static_cast<size_t>(row * k + col)]);
  }
  const size_t scale_bytes = scale_dtype == DType::f16 ? 2 : 4;
  packed.scales.resize(static_cast<size_t>(n * groups) * scale_bytes);
  if (!layout.symmetric) packed.zeros.resize(static_cast<size_t>(n * groups));
  for (size_t i = 0; i < weight.params.size(); ++i) {
    const float scale = weight.params[i].scale;
    if (scale_dtype == DType::f16) {
      const uint16_t bits = f32_to_f16(scale);
      std::memcpy(packed.scales.data() + i * 2, &bits, 2);
    } else {
      std::memcpy(packed.scales.data() + i * 4, &scale, 4);
    }
    if (!layout.symmetric) packed.zeros[i] = static_cast<uint8_t>(weight.params[i].zero);
  }
  return packed;
}

}  // namespace edgec::quant
