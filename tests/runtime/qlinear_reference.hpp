#pragma once
// What the quantized-op tests (edgec.QLinear, edgec.QConv) share: deterministic random values, a small reference
// quantizer (round to nearest, packed with edgec::pack_code) that also gives the dequantized weight the contract
// computes with, and a scope that caps the code path through EDGEC_ISA.
#include <algorithm>
#include <cmath>
#include <cstdint>
#include <cstdlib>
#include <optional>
#include <string>
#include <vector>

#include "test_random.hpp"
#include "edgec/core/dtype.hpp"
#include "edgec/core/quant_layout.hpp"
#include "edgec/runtime/host_tensor.hpp"

namespace edgec::runtime::test {

using edgec::test::Random;

// A weight quantized by a small reference quantizer (round to nearest), packed with edgec::pack_code.
struct Quantized {
  QuantLayout layout;
  bool f16_scales = false;
  std::vector<uint8_t> codes;   // [N][row_bytes]
  std::vector<float> scales;    // [N][groups], the values used (f16-rounded when f16_scales)
  std::vector<uint8_t> zeros;   // [N][groups]; empty when symmetric
  std::vector<float> dequant;   // [N][K] = (q - z) * s, in f32 as the contract computes it

  HostTensor qweight() const {
    return HostTensor::from_values<uint8_t>(DType::u8, {layout.out_features, layout.row_bytes()}, codes);
  }
  HostTensor scale_tensor() const {
    const std::vector<int64_t> dims{layout.out_features, layout.groups()};
    if (!f16_scales) return HostTensor::from_values<float>(DType::f32, dims, scales);
    std::vector<uint16_t> half(scales.size());
    for (size_t i = 0; i < scales.size(); ++i) half[i] = f32_to_f16(scales[i]);
    return HostTensor::from_values<uint16_t>(DType::f16, dims, half);
  }
  HostTensor zero_tensor() const {
    if (layout.symmetric) return {};
    return HostTensor::from_values<uint8_t>(DType::u8, {layout.out_features, layout.groups()}, zeros);
  }
  int zero(int64_t n, int64_t g) const { return layout.symmetric ? layout.symmetric_zero() : zeros[static_cast<size_t>(n * layout.groups() + g)]; }
  int code(int64_t n, int64_t k) const { return unpack_code(codes.data() + n * layout.row_bytes(), layout.bits, k); }
};

inline Quantized quantize(const std::vector<float>& w, int64_t n, int64_t k, int bits, int64_t group_size, bool symmetric, bool f16_scales) {
  Quantized q;
  q.layout = QuantLayout{bits, group_size, n, k, symmetric};
  q.f16_scales = f16_scales;
  const int64_t groups = q.layout.groups(), row_bytes = q.layout.row_bytes();
  const int max_code = q.layout.max_code();
  q.codes.assign(static_cast<size_t>(n * row_bytes), 0);
  q.scales.resize(static_cast<size_t>(n * groups));
  if (!symmetric) q.zeros.resize(static_cast<size_t>(n * groups));
  q.dequant.resize(static_cast<size_t>(n * k));
  for (int64_t r = 0; r < n; ++r)
    for (int64_t g = 0; g < groups; ++g) {
      const int64_t k0 = g * group_size, k1 = std::min(k, k0 + group_size);
      float lo = 0.0f, hi = 0.0f, amax = 0.0f;
      for (int64_t i = k0; i < k1; ++i) {
        const float v = w[static_cast<size_t>(r * k + i)];
        lo = std::min(lo, v);
        hi = std::max(hi, v);
        amax = std::max(amax, std::fabs(v));
      }
      float s = symmetric ? amax / static_cast<float>(q.layout.symmetric_zero() - 1) : (hi - lo) / static_cast<float>(max_code);
      if (!(s > 0.0f)) s = 1.0f;
      if (f16_scales) s = f16_to_f32(f32_to_f16(s));
      int z = q.layout.symmetric_zero();
      if (!symmetric) z = std::clamp(static_cast<int>(std::lround(-lo / s)), 0, max_code);
      q.scales[static_cast<size_t>(r * groups + g)] = s;
      if (!symmetric) q.zeros[static_cast<size_t>(r * groups + g)] = static_cast<uint8_t>(z);
      for (int64_t i = k0; i < k1; ++i) {
        const int code = std::clamp(static_cast<int>(std::lround(w[static_cast<size_t>(r * k + i)] / s)) + z, 0, max_code);
        pack_code(q.codes.data() + r * row_bytes, bits, i, code);
        q.dequant[static_cast<size_t>(r * k + i)] = static_cast<float>(code - z) * s;
      }
    }
  return q;
}

// Sets EDGEC_ISA for the scope, restoring the previous value.
struct IsaScope {
  std::optional<std::string> previous;
  explicit IsaScope(const std::string& isa) {
    if (const char* old = std::getenv("EDGEC_ISA")) previous = old;
    setenv("EDGEC_ISA", isa.c_str(), 1);
  }
  ~IsaScope() {
    if (previous) setenv("EDGEC_ISA", previous->c_str(), 1);
    else unsetenv("EDGEC_ISA");
  }
  IsaScope(const IsaScope&) = delete;
  IsaScope& operator=(const IsaScope&) = delete;
};

inline const std::vector<std::string> kIsas{"portable", "avx2", "avx512"};

}  // namespace edgec::runtime::test
