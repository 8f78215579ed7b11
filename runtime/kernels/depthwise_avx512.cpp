// 2-D depthwise convolution, stride 1, for AVX-512: each run of 16 outputs of a row keeps its sum in a register over
// all the taps (the generic loop in conv_lowering.hpp walks the row buffer once per tap), reading each tap's inputs
// with one masked load (lanes outside the input read 0). Taps are added in the same order, as a multiply then an add,
// like the generic loop.
#pragma GCC diagnostic ignored "-Wmaybe-uninitialized"
#pragma GCC diagnostic ignored "-Wuninitialized"
#include <immintrin.h>

#include <cstdint>

#include "kernels/depthwise.hpp"

#define EDGEC_AVX512 __attribute__((target("avx512f,avx512bw,avx512vl,avx512dq")))

namespace edgec::runtime::detail {

EDGEC_AVX512 void depthwise_plane_avx512(const DepthwisePlane& p) {
  const __m512i lane = _mm512_setr_epi32(0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15);
  for (int64_t oy = 0; oy < p.out_h; ++oy) {
    float* out = p.out + oy * p.out_w;
    for (int64_t ox0 = 0; ox0 < p.out_w; ox0 += 16) {
      const int64_t valid_out = p.out_w - ox0 < 16 ? p.out_w - ox0 : 16;
      const __mmask16 out_mask = static_cast<__mmask16>((1u << valid_out) - 1u);
      __m512 acc = _mm512_set1_ps(p.bias);
      for (int64_t ky = 0; ky < p.kh; ++ky) {
        const int64_t iy = oy - p.pad_y + ky * p.dil_y;
        if (iy < 0 || iy >= p.in_h) continue;
        const float* row = p.in + iy * p.in_w;
        for (int64_t kx = 0; kx < p.kw; ++kx) {
          const int64_t start = ox0 + kx * p.dil_x - p.pad_x;  // input column of lane 0
          // Lanes l with 0 <= start + l < in_w (and an output there).
          const __m512i column = _mm512_add_epi32(lane, _mm512_set1_epi32(static_cast<int>(start)));
          const __mmask16 inside = _mm512_cmpge_epi32_mask(column, _mm512_setzero_si512()) &
                                   _mm512_cmplt_epi32_mask(column, _mm512_set1_epi32(static_cast<int>(p.in_w))) & out_mask;
          if (!inside) continue;
          const __m512 x = _mm512_maskz_loadu_ps(inside, row + start);
          acc = _mm512_mask_add_ps(acc, inside, acc, _mm512_mul_ps(x, _mm512_set1_ps(p.weight[ky * p.kw + kx])));
        }
      }
      _mm512_mask_storeu_ps(out + ox0, out_mask, acc);
    }
  }
}

}  // namespace edgec::runtime::detail
