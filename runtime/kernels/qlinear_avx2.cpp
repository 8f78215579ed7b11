// edgec.QLinear kernels for AVX2 + FMA + F16C, compiled per function with a target attribute (see
// qlinear_avx512.cpp for the scheme; this file is its 256-bit twin, used on CPUs without AVX-512, for group sizes
// that are a multiple of 16 but not of 32, and for W8A8 when AVX-512 VNNI is missing).
//
// Weight-only, 4 and 8 bits, group_size % 16 == 0; a step is 16 codes. 4 bits: one 8-byte load zero-extended to
// 8 lanes of one byte each; the low nibbles are the even columns of the step, the high ones the odd columns (x is
// permuted to match, avx2_column_order). GEMV: q itself (& 0x0F / >> 4, converted) and z * s * sum(x) subtracted
// once per group, as for 8 bits (q widened and converted); codes fetched 8 KiB ahead. GEMM (2 activation rows per
// tile): (byte & 0x0F) | bits(2^23) is the float 2^23 + low code and (byte & 0xF0) | bits(2^19) the float 2^19 +
// high code (2^19's mantissa step is 1/16), so subtracting 2^23 + z / 2^19 + z gives the exact q - z (8 bits: the
// same magic number), times s: the exact (q - z) * s formed once per step.
//
// W8A8: vpmaddubsw needs one unsigned operand and saturates its int16 pair sums, so the codes are offset to
// signed, w = q - 128 in [-128, 127], and the product is formed as |w| (u8, <= 128) times sign(w) * xq (s8,
// |xq| <= 127): each pair sum is at most 2 * 128 * 127 = 32512, no saturation. vpmaddwd then sums pairs into
// int32 lanes. The group sum is sum (q - 128) * xq - (z - 128) * sum xq = sum (q - z) * xq, exact; the float
// steps are those of the portable reference, in the same order.
#include <immintrin.h>

#include <algorithm>
#include <cmath>
#include <cstring>

#include "edgec/core/dtype.hpp"
#include "edgec/core/quant_layout.hpp"
#include "kernels/qlinear_kernels.hpp"

#define EDGEC_AVX2 __attribute__((target("avx2,fma,f16c")))
#define EDGEC_ALWAYS_INLINE inline __attribute__((always_inline))

namespace edgec::runtime::detail::qlinear {
namespace {

constexpr int64_t kBlockRows = 16;
constexpr float kMagic23 = 8388608.0f;  // 2^23
constexpr float kMagic19 = 524288.0f;   // 2^19
constexpr int64_t kPrefetchBytes = 8192;  // how far ahead of the GEMV's reads the codes are fetched (as AVX-512)

struct BlockConsts {
  int64_t n_begin = 0;
  int64_t rows = 0;
  const float* s = nullptr;
  const float* mzl = nullptr;
  const float* mzh = nullptr;
};

EDGEC_AVX2 void load_scales(const Weights& w, int64_t row, float* out) {
  if (w.scales_f32) {
    std::memcpy(out, w.scales_f32 + row * w.groups, static_cast<size_t>(w.groups) * sizeof(float));
    return;
  }
  const uint16_t* src = w.scales_f16 + row * w.groups;
  int64_t g = 0;
  for (; g + 8 <= w.groups; g += 8)
    _mm256_storeu_ps(out + g, _mm256_cvtph_ps(_mm_loadu_si128(reinterpret_cast<const __m128i*>(src + g))));
  for (; g < w.groups; ++g) out[g] = f16_to_f32(src[g]);
}

EDGEC_AVX2 BlockConsts prepare_block(const Weights& w, int64_t n_begin, int64_t rows, float* scratch) {
  const int64_t groups = w.groups;
  float* s = scratch;
  float* mzl = s + kBlockRows * groups;
  float* mzh = mzl + kBlockRows * groups;
  for (int64_t j = 0; j < rows; ++j) {
    load_scales(w, n_begin + j, s + j * groups);
    for (int64_t g = 0; g < groups; ++g) {
      const auto z = static_cast<float>(w.zero(n_begin + j, g));
      mzl[j * groups + g] = kMagic23 + z;
      mzh[j * groups + g] = kMagic19 + z;
    }
  }
  return {n_begin, rows, s, mzl, mzh};
}

// 16 codes at p: lo = 2^23 + q of the first 8 lanes (4-bit: even columns), hi = 2^19 + q (4-bit: odd columns)
// or 2^23 + q (8-bit: columns 8..15).
template <int Bits>
EDGEC_AVX2 EDGEC_ALWAYS_INLINE void unpack16(const uint8_t* p, __m256& lo, __m256& hi) {
  if constexpr (Bits == 4) {
    const __m256i v = _mm256_cvtepu8_epi32(_mm_loadl_epi64(reinterpret_cast<const __m128i*>(p)));
    lo = _mm256_castsi256_ps(_mm256_or_si256(_mm256_and_si256(v, _mm256_set1_epi32(0x0F)), _mm256_set1_epi32(0x4B000000)));
    hi = _mm256_castsi256_ps(_mm256_or_si256(_mm256_and_si256(v, _mm256_set1_epi32(0xF0)), _mm256_set1_epi32(0x49000000)));
  } else {
    const __m256i magic = _mm256_set1_epi32(0x4B000000);
    lo = _mm256_castsi256_ps(_mm256_or_si256(_mm256_cvtepu8_epi32(_mm_loadl_epi64(reinterpret_cast<const __m128i*>(p))), magic));
    hi = _mm256_castsi256_ps(_mm256_or_si256(_mm256_cvtepu8_epi32(_mm_loadl_epi64(reinterpret_cast<const __m128i*>(p + 8))), magic));
  }
}

EDGEC_AVX2 EDGEC_ALWAYS_INLINE float hsum(__m256 v) {
  __m128 s = _mm_add_ps(_mm256_castps256_ps128(v), _mm256_extractf128_ps(v, 1));
  s = _mm_add_ps(s, _mm_movehl_ps(s, s));
  s = _mm_add_ss(s, _mm_movehdup_ps(s));
  return _mm_cvtss_f32(s);
}

// GEMM tile: RT activation rows from t0 x RN channels of the block from j0 (rows and channels past the end are
// clamped to the last one, computed and not stored); the weights (q - z) * s of a step are formed once, exactly.
template <int Bits, int RT, int RN>
EDGEC_AVX2 void wo_tile(const Weights& w, const FloatRows& x, const BlockConsts& bc, int64_t t0, int64_t j0, float* y) {
  const int64_t K = w.k, G = w.group_size, groups = w.groups;
  const int64_t kfull = K & ~int64_t{15};
  const uint8_t* code[RN];
  int64_t jr[RN];
#pragma GCC unroll 16
  for (int j = 0; j < RN; ++j) {
    jr[j] = std::min<int64_t>(j0 + j, bc.rows - 1);
    code[j] = w.codes + (bc.n_begin + jr[j]) * w.row_bytes;
  }
  const float* xr[RT];
#pragma GCC unroll 16
  for (int i = 0; i < RT; ++i) xr[i] = x.x + std::min<int64_t>(t0 + i, x.rows - 1) * K;

  __m256 acc[RT][RN];
#pragma GCC unroll 16
  for (int i = 0; i < RT; ++i)
#pragma GCC unroll 16
    for (int j = 0; j < RN; ++j) acc[i][j] = _mm256_setzero_ps();

  for (int64_t g = 0, k0 = 0; g < groups && k0 < kfull; ++g, k0 += G) {
    const int64_t k1 = std::min(k0 + G, kfull);
    for (int64_t k = k0; k < k1; k += 16) {
      __m256 xl[RT], xh[RT];
#pragma GCC unroll 16
      for (int i = 0; i < RT; ++i) {
        xl[i] = _mm256_loadu_ps(xr[i] + k);
        xh[i] = _mm256_loadu_ps(xr[i] + k + 8);
      }
#pragma GCC unroll 16
      for (int j = 0; j < RN; ++j) {
        const int64_t at = jr[j] * groups + g;
        const __m256 s = _mm256_broadcast_ss(bc.s + at);
        __m256 lo, hi;
        unpack16<Bits>(code[j] + (Bits == 4 ? k / 2 : k), lo, hi);
        const __m256 wl = _mm256_mul_ps(_mm256_sub_ps(lo, _mm256_broadcast_ss(bc.mzl + at)), s);
        const __m256 wh = _mm256_mul_ps(_mm256_sub_ps(hi, _mm256_broadcast_ss(Bits == 4 ? bc.mzh + at : bc.mzl + at)), s);
#pragma GCC unroll 16
        for (int i = 0; i < RT; ++i) {
          acc[i][j] = _mm256_fmadd_ps(wl, xl[i], acc[i][j]);
          acc[i][j] = _mm256_fmadd_ps(wh, xh[i], acc[i][j]);
        }
      }
    }
  }

#pragma GCC unroll 16
  for (int i = 0; i < RT; ++i) {
    if (t0 + i >= x.rows) break;
#pragma GCC unroll 16
    for (int j = 0; j < RN; ++j) {
      if (j0 + j >= bc.rows) break;
      float r = hsum(acc[i][j]);
      const int64_t n = bc.n_begin + jr[j];
      if (kfull < K) {
        const int64_t g = groups - 1;
        const int z = w.zero(n, g);
        float tail = 0.0f;
        for (int64_t k = kfull; k < K; ++k)
          tail += static_cast<float>(unpack_code(code[j], Bits, k) - z) * xr[i][k];
        r += bc.s[jr[j] * groups + g] * tail;
      }
      if (w.bias) r += w.bias[n];
      y[(t0 + i) * w.n + n] = r;
    }
  }
}

// 16 codes from column k of a row as floats q: 4 bits, the low nibbles (even columns) and the high ones (odd).
template <int Bits>
EDGEC_AVX2 EDGEC_ALWAYS_INLINE void step16(const uint8_t* code, int64_t k, __m256& lo, __m256& hi) {
  if constexpr (Bits == 8) {
    lo = _mm256_cvtepi32_ps(_mm256_cvtepu8_epi32(_mm_loadl_epi64(reinterpret_cast<const __m128i*>(code + k))));
    hi = _mm256_cvtepi32_ps(_mm256_cvtepu8_epi32(_mm_loadl_epi64(reinterpret_cast<const __m128i*>(code + k + 8))));
  } else {
    const __m256i v = _mm256_cvtepu8_epi32(_mm_loadl_epi64(reinterpret_cast<const __m128i*>(code + k / 2)));
    lo = _mm256_cvtepi32_ps(_mm256_and_si256(v, _mm256_set1_epi32(0x0F)));
    hi = _mm256_cvtepi32_ps(_mm256_srli_epi32(v, 4));
  }
}

// GEMV: channel j of the block, one activation row, one sequential stream (see qlinear_avx512.cpp), the codes
// fetched kPrefetchBytes ahead. Per group: four FMA chains over q, then one scale FMA into alternating even / odd
// group accumulators; z * s * sum(x) (x.group_sums) is subtracted at the end, 8 groups at a time (for 4 bits this
// costs 7 instructions per 16 codes where the exact q - z took 9).
template <int Bits>
EDGEC_AVX2 void wo_row(const Weights& w, const FloatRows& x, const BlockConsts& bc, int64_t j, float* y) {
  const int64_t K = w.k, G = w.group_size, groups = w.groups, kfull = K & ~int64_t{15};
  const int64_t n = bc.n_begin + j;
  const uint8_t* code = w.codes + n * w.row_bytes;
  const float* xr = x.x;
  constexpr int64_t kUnitBytes = 32 * Bits / 8;  // per 32 codes
  __m256 even = _mm256_setzero_ps(), odd = _mm256_setzero_ps();
  for (int64_t g = 0, k0 = 0; g < groups && k0 < kfull; ++g, k0 += G) {
    const int64_t k1 = std::min(k0 + G, kfull), at = j * groups + g;
    __m256 a0 = _mm256_setzero_ps(), a1 = _mm256_setzero_ps(), a2 = _mm256_setzero_ps(), a3 = _mm256_setzero_ps();
    int64_t k = k0;
    for (; k + 32 <= k1; k += 32) {
      const int64_t byte = k * Bits / 8;
      if ((byte & 63) < kUnitBytes) _mm_prefetch(reinterpret_cast<const char*>(code + byte + kPrefetchBytes), _MM_HINT_T0);
      __m256 lo, hi, lo2, hi2;
      step16<Bits>(code, k, lo, hi);
      step16<Bits>(code, k + 16, lo2, hi2);
      a0 = _mm256_fmadd_ps(lo, _mm256_loadu_ps(xr + k), a0);
      a1 = _mm256_fmadd_ps(hi, _mm256_loadu_ps(xr + k + 8), a1);
      a2 = _mm256_fmadd_ps(lo2, _mm256_loadu_ps(xr + k + 16), a2);
      a3 = _mm256_fmadd_ps(hi2, _mm256_loadu_ps(xr + k + 24), a3);
    }
    if (k < k1) {
      __m256 lo, hi;
      step16<Bits>(code, k, lo, hi);
      a0 = _mm256_fmadd_ps(lo, _mm256_loadu_ps(xr + k), a0);
      a1 = _mm256_fmadd_ps(hi, _mm256_loadu_ps(xr + k + 8), a1);
    }
    const __m256 sum = _mm256_add_ps(_mm256_add_ps(a0, a1), _mm256_add_ps(a2, a3));
    if (g & 1) odd = _mm256_fmadd_ps(_mm256_broadcast_ss(bc.s + at), sum, odd);
    else even = _mm256_fmadd_ps(_mm256_broadcast_ss(bc.s + at), sum, even);
  }
  // z * s * sum(x); z = (2^23 + z) - 2^23 exactly; a group without a full step has a zero sum.
  __m256 c = _mm256_setzero_ps();
  int64_t g = 0;
  const float* s = bc.s + j * groups;
  const float* mz = bc.mzl + j * groups;
  for (; g + 8 <= groups; g += 8)
    c = _mm256_fmadd_ps(_mm256_mul_ps(_mm256_loadu_ps(s + g), _mm256_sub_ps(_mm256_loadu_ps(mz + g), _mm256_set1_ps(kMagic23))),
                        _mm256_loadu_ps(x.group_sums + g), c);
  float correction = hsum(c);
  for (; g < groups; ++g) correction += s[g] * (mz[g] - kMagic23) * x.group_sums[g];
  float r = hsum(_mm256_add_ps(even, odd)) - correction;
  if (kfull < K) {
    const int64_t at = j * groups + groups - 1;
    const int z = w.zero(n, groups - 1);
    float tail = 0.0f;
    for (int64_t k = kfull; k < K; ++k) tail += static_cast<float>(unpack_code(code, Bits, k) - z) * xr[k];
    r += bc.s[at] * tail;
  }
  if (w.bias) r += w.bias[n];
  y[n] = r;
}

template <int Bits>
EDGEC_AVX2 void wo_range(const Weights& w, const FloatRows& x, float* y, int64_t n_begin, int64_t n_end, float* scratch) {
  for (int64_t nb = n_begin; nb < n_end; nb += kBlockRows) {
    const BlockConsts bc = prepare_block(w, nb, std::min(kBlockRows, n_end - nb), scratch);
    if (x.rows == 1) {
      for (int64_t j = 0; j < bc.rows; ++j) wo_row<Bits>(w, x, bc, j, y);
      continue;
    }
    for (int64_t t0 = 0; t0 < x.rows; t0 += 2)
      for (int64_t j0 = 0; j0 < bc.rows; j0 += 4) wo_tile<Bits, 2, 4>(w, x, bc, t0, j0, y);
  }
}

// ---- W8A8 ---------------------------------------------------------------------------------------------------

// Eight int32 vectors -> one vector whose lane i is the sum of vector i's lanes.
EDGEC_AVX2 EDGEC_ALWAYS_INLINE __m256i reduce8(const __m256i* v) {
  __m256i pairs[4];
#pragma GCC unroll 4
  for (int i = 0; i < 4; ++i)
    pairs[i] = _mm256_add_epi32(_mm256_unpacklo_epi32(v[2 * i], v[2 * i + 1]), _mm256_unpackhi_epi32(v[2 * i], v[2 * i + 1]));
  __m256i quads[2];
#pragma GCC unroll 2
  for (int i = 0; i < 2; ++i)
    quads[i] = _mm256_add_epi32(_mm256_unpacklo_epi64(pairs[2 * i], pairs[2 * i + 1]),
                                _mm256_unpackhi_epi64(pairs[2 * i], pairs[2 * i + 1]));
  return _mm256_add_epi32(_mm256_permute2x128_si256(quads[0], quads[1], 0x20), _mm256_permute2x128_si256(quads[0], quads[1], 0x31));
}

struct Int8Consts {
  int64_t n_begin = 0;
  int64_t rows = 0;
  const float* sT = nullptr;    // [groups][16]
  const int32_t* zT = nullptr;  // [groups][16], z - 128
};

EDGEC_AVX2 Int8Consts prepare_int8_block(const Weights& w, int64_t n_begin, int64_t rows, float* scratch) {
  const int64_t groups = w.groups;
  float* sT = scratch;
  int32_t* zT = reinterpret_cast<int32_t*>(scratch + kBlockRows * groups);
  float* row = scratch + 2 * kBlockRows * groups;
  for (int64_t j = 0; j < kBlockRows; ++j) {
    if (j < rows) load_scales(w, n_begin + j, row);
    for (int64_t g = 0; g < groups; ++g) {
      sT[g * kBlockRows + j] = j < rows ? row[g] : 0.0f;
      zT[g * kBlockRows + j] = j < rows ? w.zero(n_begin + j, g) - 128 : 0;
    }
  }
  return {n_begin, rows, sT, zT};
}

template <int RT, int RN>
EDGEC_AVX2 void w8a8_tile_avx2(const Weights& w, const Int8Rows& x, const Int8Consts& bc, int64_t t0, int64_t j0, float* y) {
  static_assert(RT * RN == 8);
  const int64_t K = w.k, G = w.group_size, groups = w.groups;
  const uint8_t* code[RN];
#pragma GCC unroll 8
  for (int j = 0; j < RN; ++j) code[j] = w.codes + (bc.n_begin + std::min<int64_t>(j0 + j, bc.rows - 1)) * w.row_bytes;
  const int8_t* xr[RT];
  int64_t tr[RT];
#pragma GCC unroll 8
  for (int i = 0; i < RT; ++i) {
    tr[i] = std::min<int64_t>(t0 + i, x.rows - 1);
    xr[i] = x.xq + tr[i] * x.row_stride;
  }
  alignas(32) int32_t t_of_lane[8];
  for (int l = 0; l < 8; ++l) t_of_lane[l] = static_cast<int32_t>(tr[l / RN]);
  const __m256i lane_t = _mm256_load_si256(reinterpret_cast<const __m256i*>(t_of_lane));
  const __m256i flip = _mm256_set1_epi8(static_cast<char>(0x80));
  const __m256i ones = _mm256_set1_epi16(1);
  __m256 acc = _mm256_setzero_ps();
  for (int64_t g = 0; g < groups; ++g) {
    const int64_t k0 = g * G, len = std::min(G, K - k0);
    __m256i ia[RT * RN];
#pragma GCC unroll 8
    for (int l = 0; l < RT * RN; ++l) ia[l] = _mm256_setzero_si256();
    for (int64_t c = 0; c < len; c += 32) {
      __m256i xv[RT];
#pragma GCC unroll 8
      for (int i = 0; i < RT; ++i) xv[i] = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(xr[i] + g * x.group_stride + c));
      const int64_t rem = len - c;
#pragma GCC unroll 8
      for (int j = 0; j < RN; ++j) {
        __m256i q;
        if (rem >= 32) {
          q = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(code[j] + k0 + c));
        } else {  // the group's last bytes: never read past them (the activations there are zero anyway)
          alignas(32) uint8_t part[32] = {};
          std::memcpy(part, code[j] + k0 + c, static_cast<size_t>(rem));
          q = _mm256_load_si256(reinterpret_cast<const __m256i*>(part));
        }
        const __m256i ws = _mm256_xor_si256(q, flip);  // q - 128 as int8
        const __m256i mag = _mm256_abs_epi8(ws);       // |q - 128| <= 128, read as unsigned
#pragma GCC unroll 8
        for (int i = 0; i < RT; ++i) {
          const __m256i prod = _mm256_maddubs_epi16(mag, _mm256_sign_epi8(xv[i], ws));
          ia[i * RN + j] = _mm256_add_epi32(ia[i * RN + j], _mm256_madd_epi16(prod, ones));
        }
      }
    }
    __m256i isum = reduce8(ia);
    __m256i z;
    __m256 s;
    if constexpr (RN == 8) {
      z = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(bc.zT + g * kBlockRows + j0));
      s = _mm256_loadu_ps(bc.sT + g * kBlockRows + j0);
    } else {
      z = _mm256_broadcastsi128_si256(_mm_loadu_si128(reinterpret_cast<const __m128i*>(bc.zT + g * kBlockRows + j0)));
      s = _mm256_broadcast_ps(reinterpret_cast<const __m128*>(bc.sT + g * kBlockRows + j0));
    }
    const __m256i xs = _mm256_i32gather_epi32(x.xsum_t + g * x.rows, lane_t, 4);
    isum = _mm256_sub_epi32(isum, _mm256_mullo_epi32(z, xs));
    acc = _mm256_fmadd_ps(s, _mm256_cvtepi32_ps(isum), acc);
  }
  const __m256 sx = _mm256_i32gather_ps(x.sx, lane_t, 4);
  alignas(32) float bias[8];
  for (int l = 0; l < 8; ++l) {
    const int64_t j = std::min<int64_t>(j0 + l % RN, bc.rows - 1);
    bias[l] = w.bias ? w.bias[bc.n_begin + j] : 0.0f;
  }
  alignas(32) float out[8];
  _mm256_store_ps(out, _mm256_fmadd_ps(sx, acc, _mm256_load_ps(bias)));
  for (int i = 0; i < RT && t0 + i < x.rows; ++i)
    for (int j = 0; j < RN && j0 + j < bc.rows; ++j) y[(t0 + i) * w.n + bc.n_begin + j0 + j] = out[i * RN + j];
}

}  // namespace

void avx2_column_order(int bits, int32_t* order) {
  for (int p = 0; p < 16; ++p) order[p] = bits == 4 ? (p < 8 ? 2 * p : 2 * (p - 8) + 1) : p;
}

EDGEC_AVX2 void avx2_permute_x(const float* x, int64_t rows, int64_t k, float* out) {
  const int64_t full = k / 16 * 16;
  for (int64_t t = 0; t < rows; ++t) {
    const float* src = x + t * k;
    float* dst = out + t * k;
    for (int64_t b = 0; b < full; b += 16) {
      const __m256 lo = _mm256_loadu_ps(src + b), hi = _mm256_loadu_ps(src + b + 8);
      // Even columns, then odd: in-lane shuffles give [0 2 8 10 | 4 6 12 14], the qword permute puts them in order.
      const __m256 even = _mm256_shuffle_ps(lo, hi, 0x88), odd = _mm256_shuffle_ps(lo, hi, 0xDD);
      _mm256_storeu_ps(dst + b, _mm256_castpd_ps(_mm256_permute4x64_pd(_mm256_castps_pd(even), 0xD8)));
      _mm256_storeu_ps(dst + b + 8, _mm256_castpd_ps(_mm256_permute4x64_pd(_mm256_castps_pd(odd), 0xD8)));
    }
    std::memcpy(dst + full, src + full, static_cast<size_t>(k - full) * sizeof(float));
  }
}

size_t avx2_scratch_floats(const Weights& w) { return static_cast<size_t>(3 * kBlockRows * w.groups); }

void wo_avx2(const Weights& w, const FloatRows& x, float* y, int64_t n_begin, int64_t n_end, float* scratch) {
  if (w.bits == 4) wo_range<4>(w, x, y, n_begin, n_end, scratch);
  else wo_range<8>(w, x, y, n_begin, n_end, scratch);
}

EDGEC_AVX2 void w8a8_avx2(const Weights& w, const Int8Rows& x, float* y, int64_t n_begin, int64_t n_end, float* scratch) {
  for (int64_t nb = n_begin; nb < n_end; nb += kBlockRows) {
    const Int8Consts bc = prepare_int8_block(w, nb, std::min(kBlockRows, n_end - nb), scratch);
    if (x.rows == 1) {
      for (int64_t j0 = 0; j0 < bc.rows; j0 += 8) w8a8_tile_avx2<1, 8>(w, x, bc, 0, j0, y);
      continue;
    }
    for (int64_t t0 = 0; t0 < x.rows; t0 += 2)
      for (int64_t j0 = 0; j0 < bc.rows; j0 += 4) w8a8_tile_avx2<2, 4>(w, x, bc, t0, j0, y);
  }
}

EDGEC_AVX2 float absmax_avx2(const float* x, int64_t k) {
  const __m256 sign = _mm256_set1_ps(-0.0f);
  __m256 m = _mm256_setzero_ps();
  int64_t i = 0;
  for (; i + 8 <= k; i += 8) m = _mm256_max_ps(_mm256_andnot_ps(sign, _mm256_loadu_ps(x + i)), m);  // NaN lanes ignored
  alignas(32) float lanes[8];
  _mm256_store_ps(lanes, m);
  float best = 0.0f;
  for (const float v : lanes) best = v > best ? v : best;
  for (; i < k; ++i) {
    const float a = std::fabs(x[i]);
    if (a > best) best = a;
  }
  return best;
}

EDGEC_AVX2 void quantize_row_avx2(const float* x, int64_t k, int64_t group_size, int64_t group_stride, float sx,
                                  int8_t* xq, int32_t* xsum) {
  const __m256 scale = _mm256_set1_ps(sx);
  const __m256 lo = _mm256_set1_ps(-127.0f), hi = _mm256_set1_ps(127.0f);
  const __m256i order = _mm256_setr_epi32(0, 4, 1, 5, 2, 6, 3, 7);
  const int64_t groups = (k + group_size - 1) / group_size;
  for (int64_t g = 0; g < groups; ++g) {
    const int64_t k0 = g * group_size, len = std::min(group_size, k - k0);
    int8_t* out = xq + g * group_stride;
    __m256i sum = _mm256_setzero_si256();
    int64_t i = 0;
    for (; i + 32 <= len; i += 32) {
      __m256i v[4];
#pragma GCC unroll 4
      for (int part = 0; part < 4; ++part) {
        const __m256 q = _mm256_div_ps(_mm256_loadu_ps(x + k0 + i + 8 * part), scale);
        const __m256 r = _mm256_min_ps(_mm256_max_ps(_mm256_round_ps(q, _MM_FROUND_TO_NEAREST_INT | _MM_FROUND_NO_EXC), lo), hi);
        v[part] = _mm256_cvtps_epi32(r);
        sum = _mm256_add_epi32(sum, v[part]);
      }
      const __m256i bytes = _mm256_packs_epi16(_mm256_packs_epi32(v[0], v[1]), _mm256_packs_epi32(v[2], v[3]));
      _mm256_storeu_si256(reinterpret_cast<__m256i*>(out + i), _mm256_permutevar8x32_epi32(bytes, order));
    }
    alignas(32) int32_t lanes[8];
    _mm256_store_si256(reinterpret_cast<__m256i*>(lanes), sum);
    int32_t total = 0;
    for (const int32_t v : lanes) total += v;
    for (; i < len; ++i) {
      float r = std::nearbyint(x[k0 + i] / sx);
      if (!(r >= -127.0f)) r = -127.0f;  // NaN -> -127, as max_ps above
      if (r > 127.0f) r = 127.0f;
      out[i] = static_cast<int8_t>(r);
      total += static_cast<int32_t>(r);
    }
    std::memset(out + len, 0, static_cast<size_t>(group_stride - len));
    xsum[g] = total;
  }
}

}  // namespace edgec::runtime::detail::qlinear
