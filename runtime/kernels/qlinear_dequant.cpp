// edgec.QLinear's prefill path: the weight as a row operand of the f32 product (sgemm.hpp), dequantized one
// [rows x 256] block at a time into the product's scratch, w = (q - z) * s exactly as the portable dequantization
// computes it (one float multiply of an exact integer), so the product sees the weights edgec.Linear would.
// AVX-512 for 4 and 8 bits when groups are whole steps of 32 columns; any other layout element by element.
#pragma GCC diagnostic ignored "-Wmaybe-uninitialized"
#pragma GCC diagnostic ignored "-Wuninitialized"
#include <immintrin.h>

#include <cstdint>

#include "edgec/core/dtype.hpp"
#include "edgec/core/quant_layout.hpp"
#include "kernels/qlinear_dequant.hpp"

#define EDGEC_AVX512 __attribute__((target("avx512f,avx512bw,avx512vl,avx512dq,avx2,fma,f16c")))

namespace edgec::runtime::detail::qlinear {
namespace {

float scale_of(const Weights& w, int64_t row, int64_t group) {
  return w.scales_f32 ? w.scales_f32[row * w.groups + group] : f16_to_f32(w.scales_f16[row * w.groups + group]);
}

void dequantize_portable(const Weights& w, int64_t row, int64_t k0, int64_t kc, float* out) {
  const uint8_t* codes = w.codes + row * w.row_bytes;
  for (int64_t k = k0; k < k0 + kc; ++k) {
    const int64_t g = k / w.group_size;
    out[k - k0] = static_cast<float>(unpack_code(codes, w.bits, k) - w.zero(row, g)) * scale_of(w, row, g);
  }
}

// 32 columns from k (a multiple of 32 inside one group): codes widened to dwords, then (q - z) * s.
EDGEC_AVX512 void dequantize_avx512(const Weights& w, int64_t row, int64_t k0, int64_t kc, float* out) {
  const uint8_t* codes = w.codes + row * w.row_bytes;
  const __m512i low = _mm512_set1_epi32(0x0F);
  // Interleaves the low nibbles (even columns) and high nibbles (odd columns) of 16 bytes back into column order.
  const __m512i first = _mm512_setr_epi32(0, 16, 1, 17, 2, 18, 3, 19, 4, 20, 5, 21, 6, 22, 7, 23);
  const __m512i second = _mm512_setr_epi32(8, 24, 9, 25, 10, 26, 11, 27, 12, 28, 13, 29, 14, 30, 15, 31);
  int64_t k = k0;
  const int64_t end = k0 + kc;
  int64_t g = k / w.group_size, group_end = (g + 1) * w.group_size;
  __m512 z = _mm512_set1_ps(static_cast<float>(w.zero(row, g)));
  __m512 s = _mm512_set1_ps(w.scales_f32 ? w.scales_f32[row * w.groups + g] : _cvtsh_ss(w.scales_f16[row * w.groups + g]));
  for (; k + 32 <= end; k += 32) {
    if (k >= group_end) {  // the next group (group_size is a multiple of 32)
      ++g;
      group_end += w.group_size;
      z = _mm512_set1_ps(static_cast<float>(w.zero(row, g)));
      s = _mm512_set1_ps(w.scales_f32 ? w.scales_f32[row * w.groups + g] : _cvtsh_ss(w.scales_f16[row * w.groups + g]));
    }
    __m512 a, b;
    if (w.bits == 4) {
      const __m512i bytes = _mm512_cvtepu8_epi32(_mm_loadu_si128(reinterpret_cast<const __m128i*>(codes + k / 2)));
      const __m512i even = _mm512_and_si512(bytes, low), odd = _mm512_srli_epi32(bytes, 4);
      a = _mm512_cvtepi32_ps(_mm512_permutex2var_epi32(even, first, odd));
      b = _mm512_cvtepi32_ps(_mm512_permutex2var_epi32(even, second, odd));
    } else {
      a = _mm512_cvtepi32_ps(_mm512_cvtepu8_epi32(_mm_loadu_si128(reinterpret_cast<const __m128i*>(codes + k))));
      b = _mm512_cvtepi32_ps(_mm512_cvtepu8_epi32(_mm_loadu_si128(reinterpret_cast<const __m128i*>(codes + k + 16))));
    }
    _mm512_storeu_ps(out + (k - k0), _mm512_mul_ps(_mm512_sub_ps(a, z), s));
    _mm512_storeu_ps(out + (k - k0) + 16, _mm512_mul_ps(_mm512_sub_ps(b, z), s));
  }
  if (k < end) dequantize_portable(w, row, k, end - k, out + (k - k0));
}

}  // namespace

const float* QuantRows::block(int64_t r0, int64_t count, int64_t k0, int64_t kc, float* scratch, int64_t& ld) const {
  // (q - z) as a float minus z as a float is the exact integer difference: the same value as the portable loop.
  const bool simd = isa_ == Isa::avx512 && (w_.bits == 4 || w_.bits == 8) && w_.group_size % 32 == 0 && k0 % 32 == 0;
  for (int64_t r = 0; r < count; ++r) {
    // The next block's codes of this row, asked for while this one is multiplied (as HalfRows does).
    const int64_t next = (k0 + kc) * w_.bits / 8, bytes = kc * w_.bits / 8;
    if (next + bytes <= w_.row_bytes)
      for (int64_t b = 0; b < bytes; b += 64) __builtin_prefetch(w_.codes + (r0 + r) * w_.row_bytes + next + b);
    if (simd) dequantize_avx512(w_, r0 + r, k0, kc, scratch + r * kc);
    else dequantize_portable(w_, r0 + r, k0, kc, scratch + r * kc);
  }
  ld = kc;
  return scratch;
}

}  // namespace edgec::runtime::detail::qlinear
