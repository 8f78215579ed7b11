// The f32 product's kernels for AVX2 + FMA + F16C: micro tile 6 rows x 16 columns (12 of the 16 vector registers
// hold C), GEMV and widening (sgemm_simd.inc). Every function carries the target attribute (see sgemm_avx512.cpp).
#include <immintrin.h>

#include <cstdint>
#include <cstring>

#include "kernels/sgemm_kernels.hpp"

#define EDGEC_SIMD __attribute__((target("avx2,fma,f16c")))

namespace edgec::runtime::detail::sgemm::kernels {
namespace {

using Vec = __m256;
constexpr int kLanes = 8;
constexpr int kMicroRows = 6;
constexpr int kMicroVectors = 2;

EDGEC_SIMD inline Vec vzero() { return _mm256_setzero_ps(); }
EDGEC_SIMD inline Vec vload(const float* p) { return _mm256_loadu_ps(p); }
EDGEC_SIMD inline void vstore(float* p, Vec v) { _mm256_storeu_ps(p, v); }
EDGEC_SIMD inline Vec vset1(float x) { return _mm256_set1_ps(x); }
EDGEC_SIMD inline Vec vfma(Vec a, Vec b, Vec c) { return _mm256_fmadd_ps(a, b, c); }
EDGEC_SIMD inline Vec vadd(Vec a, Vec b) { return _mm256_add_ps(a, b); }
EDGEC_SIMD inline float vsum(Vec v) {
  const __m128 half = _mm_add_ps(_mm256_castps256_ps128(v), _mm256_extractf128_ps(v, 1));
  const __m128 pairs = _mm_add_ps(half, _mm_movehl_ps(half, half));
  return _mm_cvtss_f32(_mm_add_ss(pairs, _mm_shuffle_ps(pairs, pairs, 1)));
}
EDGEC_SIMD inline __m256i lane_mask(int n) {
  return _mm256_cmpgt_epi32(_mm256_set1_epi32(n), _mm256_setr_epi32(0, 1, 2, 3, 4, 5, 6, 7));
}
EDGEC_SIMD inline Vec vload_partial(const float* p, int n) { return _mm256_maskload_ps(p, lane_mask(n)); }
EDGEC_SIMD inline Vec widen_half(__m128i bits, bool bf16) {
  return bf16 ? _mm256_castsi256_ps(_mm256_slli_epi32(_mm256_cvtepu16_epi32(bits), 16)) : _mm256_cvtph_ps(bits);
}
EDGEC_SIMD inline Vec vload_half(const uint16_t* p, bool bf16) {
  return widen_half(_mm_loadu_si128(reinterpret_cast<const __m128i*>(p)), bf16);
}
EDGEC_SIMD inline Vec vload_half_partial(const uint16_t* p, int n, bool bf16) {
  uint16_t tail[8] = {};
  std::memcpy(tail, p, static_cast<size_t>(n) * sizeof(uint16_t));
  return widen_half(_mm_loadu_si128(reinterpret_cast<const __m128i*>(tail)), bf16);
}

#include "kernels/sgemm_simd.inc"

}  // namespace

Micro micro_avx2() { return {kMicroRows, kMicroVectors * kLanes, micro_entry}; }
GemvFn gemv_avx2() { return gemv_entry; }
WidenFn widen_avx2() { return widen_entry; }

}  // namespace edgec::runtime::detail::sgemm::kernels
