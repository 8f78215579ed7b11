// The f32 product's kernels for AVX-512 (F, BW, VL, DQ + FMA, F16C): micro tile 12 rows x 32 columns (24 of the 32
// vector registers hold C), GEMV and widening (sgemm_simd.inc). Every function carries the target attribute, so the
// library still runs on CPUs without AVX-512; the driver calls these only when the CPU has it.
// GCC 12 reports its own _mm512_undefined_*() inside immintrin.h as "may be used uninitialized" once inlined.
#pragma GCC diagnostic ignored "-Wmaybe-uninitialized"
#pragma GCC diagnostic ignored "-Wuninitialized"
#include <immintrin.h>

#include <cstdint>

#include "kernels/sgemm_kernels.hpp"

#define EDGEC_SIMD __attribute__((target("avx512f,avx512bw,avx512vl,avx512dq,avx2,fma,f16c")))

namespace edgec::runtime::detail::sgemm::kernels {
namespace {

using Vec = __m512;
constexpr int kLanes = 16;
constexpr int kMicroRows = 12;
constexpr int kMicroVectors = 2;

EDGEC_SIMD inline Vec vzero() { return _mm512_setzero_ps(); }
EDGEC_SIMD inline Vec vload(const float* p) { return _mm512_loadu_ps(p); }
EDGEC_SIMD inline void vstore(float* p, Vec v) { _mm512_storeu_ps(p, v); }
EDGEC_SIMD inline Vec vset1(float x) { return _mm512_set1_ps(x); }
EDGEC_SIMD inline Vec vfma(Vec a, Vec b, Vec c) { return _mm512_fmadd_ps(a, b, c); }
EDGEC_SIMD inline Vec vadd(Vec a, Vec b) { return _mm512_add_ps(a, b); }
EDGEC_SIMD inline float vsum(Vec v) { return _mm512_reduce_add_ps(v); }
EDGEC_SIMD inline __mmask16 first_lanes(int n) { return static_cast<__mmask16>((1u << n) - 1u); }
EDGEC_SIMD inline Vec vload_partial(const float* p, int n) { return _mm512_maskz_loadu_ps(first_lanes(n), p); }
EDGEC_SIMD inline Vec widen_half(__m256i bits, bool bf16) {
  // bf16 is the top half of an f32: shift it up; IEEE f16 converts in hardware (F16C).
  return bf16 ? _mm512_castsi512_ps(_mm512_slli_epi32(_mm512_cvtepu16_epi32(bits), 16)) : _mm512_cvtph_ps(bits);
}
EDGEC_SIMD inline Vec vload_half(const uint16_t* p, bool bf16) {
  return widen_half(_mm256_loadu_si256(reinterpret_cast<const __m256i*>(p)), bf16);
}
EDGEC_SIMD inline Vec vload_half_partial(const uint16_t* p, int n, bool bf16) {
  return widen_half(_mm256_maskz_loadu_epi16(first_lanes(n), p), bf16);
}

#include "kernels/sgemm_simd.inc"

}  // namespace

Micro micro_avx512() { return {kMicroRows, kMicroVectors * kLanes, micro_entry}; }
GemvFn gemv_avx512() { return gemv_entry; }
WidenFn widen_avx512() { return widen_entry; }

}  // namespace edgec::runtime::detail::sgemm::kernels
