#pragma once
// Quantization schemes and the quantized weight they produce. A scheme says how a Linear's weight
// W [N out, K in] is represented (bits, groups along K, symmetric or not, scale precision) and how its
// input activations are treated at run time (kept float, or int8 per token / per tensor). The packed
// form is edgec::QuantLayout (libcore/include/edgec/core/quant_layout.hpp, docs/quantization.md).
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "edgec/core/dtype.hpp"
#include "edgec/core/quant_layout.hpp"

namespace edgec::quant {

enum class ActivationMode { float_, int8_dynamic, int8_static };

struct WeightScheme {
  int bits = 4;                 // 2, 3, 4 or 8
  int64_t group_size = 128;     // columns per group; 0 = one group per output channel
  bool symmetric = false;
  DType scale_dtype = DType::f16;  // f16 or f32
  ActivationMode activations = ActivationMode::float_;

  // The group size for a layer with `in_features` columns (per-channel when 0 or larger than K).
  int64_t group_for(int64_t in_features) const {
    return group_size <= 0 || group_size > in_features ? in_features : group_size;
  }
};

// Throws Error(usage) naming `where` when the scheme is not one edgec can pack or run.
void validate_scheme(const WeightScheme& scheme, const std::string& where);

// "w4 g32 asym f16" style short description for logs and reports.
std::string describe(const WeightScheme& scheme);

// Scale and integer zero point of one group: w ~ (q - zero) * scale, q in [0, 2^bits - 1].
struct GroupParams {
  float scale = 1.0f;
  int zero = 0;
};

// Min/max fit of one group's values (the range always includes 0, as GPTQ's quantizer), the range
// multiplied by `shrink` (1 = no clipping). The scale is rounded up to the scheme's scale dtype (so the grid
// still spans the range) before the zero point is chosen, so codes are computed against the scale that is stored.
GroupParams fit_group(const float* values, int64_t count, const WeightScheme& scheme, float shrink = 1.0f);

// The code of `value` under `params` (round half to even, clamped to [0, 2^bits - 1]).
inline int quantize_value(float value, GroupParams params, int max_code);
inline float dequantize_code(int code, GroupParams params) {
  return static_cast<float>(code - params.zero) * params.scale;
}

// Codes, scales and zero points of a whole weight, unpacked (one int per element) while algorithms work.
struct QuantizedWeight {
  QuantLayout layout;
  std::vector<uint8_t> codes;     // [N, K], one code per byte
  std::vector<GroupParams> params;  // [N, groups]

  GroupParams& param(int64_t row, int64_t group) { return params[static_cast<size_t>(row * layout.groups() + group)]; }
  const GroupParams& param(int64_t row, int64_t group) const {
    return params[static_cast<size_t>(row * layout.groups() + group)];
  }
  // Dequantized weight [N, K], row-major.
  std::vector<float> dequantize() const;
};

QuantizedWeight make_quantized_weight(const WeightScheme& scheme, int64_t out_features, int64_t in_features);

// The packed tensors of docs/ir-ops.md edgec.QLinear: qweight [N, row_bytes] u8, scales [N, groups] in the
// scheme's scale dtype, zeros [N, groups] u8 (empty when symmetric).
struct PackedWeight {
  std::vector<uint8_t> qweight;
  std::vector<std::byte> scales;
  std::vector<uint8_t> zeros;
};
PackedWeight pack(const QuantizedWeight& weight, DType scale_dtype);

inline int quantize_value(float value, GroupParams params, int max_code) {
  const float q = __builtin_nearbyintf(value / params.scale) + static_cast<float>(params.zero);
  return q < 0.0f ? 0 : q > static_cast<float>(max_code) ? max_code : static_cast<int>(q);
}

}  // namespace edgec::quant
