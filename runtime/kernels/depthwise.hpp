#pragma once
// One channel plane of a 2-D depthwise convolution with stride 1, as the SIMD kernels take it.
#include <cstdint>

namespace edgec::runtime::detail {

struct DepthwisePlane {
  const float* in = nullptr;   // [in_h, in_w]
  float* out = nullptr;        // [out_h, out_w]
  const float* weight = nullptr;  // [kh, kw]
  float bias = 0.0f;
  int64_t in_h = 0, in_w = 0, out_h = 0, out_w = 0, kh = 0, kw = 0, pad_y = 0, pad_x = 0, dil_y = 1, dil_x = 1;
};

// AVX-512 (depthwise_avx512.cpp); the caller checks the CPU has it. Lanes outside the input are skipped like the
// generic loop skips them (masked add).
void depthwise_plane_avx512(const DepthwisePlane& plane);

}  // namespace edgec::runtime::detail
