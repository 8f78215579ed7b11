// edgec.QLinear kernels for AVX-512 (F, BW, VL, DQ + FMA, F16C) and AVX-512 VNNI. Every function here carries
// a target attribute; nothing is compiled for AVX-512 file-wide, so the library still loads and runs on CPUs
// without it (the driver in qlinear.cpp calls these only after checking the CPU's features).
//
// Weight-only (float activations), group_size % 32 == 0; a step handles 32 codes of a weight row.
//  * 2, 3, 4 bits: a group's 2^bits dequantized values c * s - z * s sit in one register and vpermps looks the
//    codes up (LowBits below): for 4 bits vpmovzxbd + one shift turn 32 packed codes into two index vectors, two
//    lookups into 32 dequantized weights, then one FMA per 16. x comes permuted to the order in which the codes
//    come out (avx512_column_order).
//  * 8 bits, GEMV: q is widened and converted (vpmovzxbd + vcvtdq2ps), s * sum q * x is accumulated per group and
//    z * s * sum(x) subtracted once per group: s * (sum q x - z sum x).
//  * 8 bits, GEMM: the magic number trick gives the exact q - z (OR-ing q into the mantissa of 2^23 is the float
//    2^23 + q; subtracting 2^23 + z leaves q - z), times s: the exact dequantized weight.
// GEMV (one activation row): one pass over the weight rows of a run of channels, 4 adjacent rows side by side
// (2-4 bits) sharing each x load (a thread's channels stay one sequential stream) and the codes fetched ~8 KiB ahead
// in software. More rows: tiles of 4 activation rows x 4 channels, the dequantized weights of a step formed once and
// reused from registers. The kernels are bound by the vector ports (about 2.3 cycles per step of 32 4-bit codes
// on Zen 5: 3 loads, a widening and a shift to unpack, 2 lookups, 2 FMAs) or by memory.
//
// W8A8 (VNNI): vpdpbusd multiplies the unsigned codes (u8) by the int8 activations (s8) and sums groups of four
// into int32 lanes, wrapping like int32: exact. Tiles of 16 (row, channel) pairs (1 x 16 for one row, 4 x 4
// otherwise); at the end of each group the 16 accumulators are reduced to one vector holding the 16 exact
// group sums, corrected by z * sum(xq) and folded into 16 float accumulators with one FMA in group order:
// acc = fma(s, float(isum), acc), y = fma(sx, acc, b): the same operations, in the same order, as the portable
// reference, hence bit-identical.
//
// GCC 12 reports its own _mm512_undefined_*() (a self-initialised variable inside immintrin.h) as "may be used
// uninitialized" / "is used uninitialized" once the intrinsics are inlined: the warning is about the header.
#pragma GCC diagnostic ignored "-Wmaybe-uninitialized"
#pragma GCC diagnostic ignored "-Wuninitialized"
#include <immintrin.h>

#include <algorithm>
#include <cmath>
#include <cstring>

#include "edgec/core/quant_layout.hpp"
#include "kernels/qlinear_kernels.hpp"

#define EDGEC_AVX512 __attribute__((target("avx512f,avx512bw,avx512vl,avx512dq,avx2,fma,f16c")))
#define EDGEC_VNNI __attribute__((target("avx512f,avx512bw,avx512vl,avx512dq,avx512vnni,avx2,fma,f16c")))
#define EDGEC_ALWAYS_INLINE inline __attribute__((always_inline))

namespace edgec::runtime::detail::qlinear {
namespace {

constexpr int64_t kBlockRows = 16;  // channels whose constants are prepared together (scratch sizing)
constexpr float kMagic23 = 8388608.0f;  // 2^23
constexpr int64_t kW8A8PrefetchBytes = 512;
constexpr int64_t kPrefetchBytes = 8192;  // how far ahead of the weight-only kernels' reads the codes are fetched
constexpr int kGemvChannels = 4;          // channels per one-row GEMV call (sharing each x load)

// Per-block constants of the weight-only kernels, for channel j of the block and group g at j*groups + g: the
// scale s, the zero point z as a float and, for 8 bits, 2^23 + z (mz), for 2-4 bits, -z * s (nzs; the same
// storage).
struct BlockConsts {
  int64_t n_begin = 0;
  int64_t rows = 0;
  const float* s = nullptr;
  const float* z = nullptr;
  const float* mz = nullptr;
  const float* nzs = nullptr;
};

EDGEC_AVX512 void load_scales(const Weights& w, int64_t row, float* out) {
  if (w.scales_f32) {
    std::memcpy(out, w.scales_f32 + row * w.groups, static_cast<size_t>(w.groups) * sizeof(float));
    return;
  }
  const uint16_t* src = w.scales_f16 + row * w.groups;
  int64_t g = 0;
  for (; g + 16 <= w.groups; g += 16)
    _mm512_storeu_ps(out + g, _mm512_cvtph_ps(_mm256_loadu_si256(reinterpret_cast<const __m256i*>(src + g))));
  if (g < w.groups) {
    const __mmask16 mask = static_cast<__mmask16>((1u << (w.groups - g)) - 1u);
    _mm512_mask_storeu_ps(out + g, mask, _mm512_cvtph_ps(_mm256_maskz_loadu_epi16(mask, src + g)));
  }
}

EDGEC_AVX512 BlockConsts prepare_block(const Weights& w, int64_t n_begin, int64_t rows, float* scratch) {
  const int64_t groups = w.groups;
  float* s = scratch;
  float* z = s + kBlockRows * groups;
  float* mz = z + kBlockRows * groups;
  const __m512 magic = _mm512_set1_ps(kMagic23);
  const __m512 symmetric = _mm512_set1_ps(static_cast<float>(1 << (w.bits - 1)));
  for (int64_t j = 0; j < rows; ++j) {
    load_scales(w, n_begin + j, s + j * groups);
    const uint8_t* zeros = w.zeros ? w.zeros + (n_begin + j) * groups : nullptr;
    for (int64_t g = 0; g < groups; g += 16) {
      const __mmask16 mask = groups - g >= 16 ? __mmask16{0xFFFF} : static_cast<__mmask16>((1u << (groups - g)) - 1u);
      const __m512 zero = zeros ? _mm512_cvtepi32_ps(_mm512_cvtepu8_epi32(_mm_maskz_loadu_epi8(mask, zeros + g))) : symmetric;
      _mm512_mask_storeu_ps(z + j * groups + g, mask, zero);
      const __m512 third = w.bits == 8 ? _mm512_add_ps(zero, magic) : _mm512_mul_ps(_mm512_sub_ps(_mm512_setzero_ps(), zero), _mm512_maskz_loadu_ps(mask, s + j * groups + g));
      _mm512_mask_storeu_ps(mz + j * groups + g, mask, third);
    }
  }
  return {n_begin, rows, s, z, mz, mz};
}

// The scales and zeros of channel n are two short streams of their own, read in a burst when their block is
// prepared: fetched one block ahead (one channel's worth per channel of the current block).
EDGEC_AVX512 EDGEC_ALWAYS_INLINE void prefetch_consts(const Weights& w, int64_t n) {
  if (n >= w.n) return;
  const char* scales = w.scales_f32 ? reinterpret_cast<const char*>(w.scales_f32 + n * w.groups)
                                    : reinterpret_cast<const char*>(w.scales_f16 + n * w.groups);
  const int64_t scale_bytes = w.groups * (w.scales_f32 ? 4 : 2);
  for (int64_t b = 0; b < scale_bytes; b += 64) _mm_prefetch(scales + b, _MM_HINT_T0);
  if (w.zeros)
    for (int64_t b = 0; b < w.groups; b += 64) _mm_prefetch(reinterpret_cast<const char*>(w.zeros + n * w.groups + b), _MM_HINT_T0);
}

// The dot products' tail: the columns after the last full step of 32 (all in the last group), in natural order,
// then the bias; stores the tile's outputs.
template <int Bits, int RT, int RN>
EDGEC_AVX512 EDGEC_ALWAYS_INLINE void finish_tile(const Weights& w, const FloatRows& x, const BlockConsts& bc, int64_t t0,
                                                  int64_t j0, const uint8_t* const* code, const int64_t* jr,
                                                  const float* const* xr, __m512 (&acc)[RT][RN], float* y,
                                                  const float* correction) {
  const int64_t K = w.k, groups = w.groups, kfull = K & ~int64_t{31};
#pragma GCC unroll 16
  for (int i = 0; i < RT; ++i) {
    if (t0 + i >= x.rows) break;
#pragma GCC unroll 16
    for (int j = 0; j < RN; ++j) {
      if (j0 + j >= bc.rows) break;
      float r = _mm512_reduce_add_ps(acc[i][j]);
      if (correction) r -= correction[i * RN + j];
      const int64_t n = bc.n_begin + jr[j];
      if (kfull < K) {
        const int64_t at = jr[j] * groups + groups - 1;
        const int z = static_cast<int>(bc.z[at]);
        float tail = 0.0f;
        for (int64_t k = kfull; k < K; ++k) tail += static_cast<float>(unpack_code(code[j], Bits, k) - z) * xr[i][k];
        r += bc.s[at] * tail;
      }
      if (w.bias) r += w.bias[n];
      y[(t0 + i) * w.n + n] = r;
    }
  }
}

// 2, 3 and 4 bits: the 2^bits possible dequantized values of a group, (c - z) * s, sit in one register (replicated
// to 16 entries) and vpermps looks the codes up: it reads the low 4 bits of each 32-bit index lane, so a lane only
// needs its code at the bottom (bits above the code are ignored through the replication). A step turns 32 packed
// codes into two index vectors:
//  * 4 bits: the step's 16 bytes zero-extended to dwords (vpmovzxbd): lane d holds byte d, whose low nibble is
//    column 2d; shifted right by 4, column 2d + 1;
//  * 2 bits: the step's 8 bytes are broadcast to every qword; dword h of qword Q shifted by 2Q / 2Q + 16;
//  * 3 bits: the step's 12 bytes are broadcast to the 128-bit lanes and vpshufb gives dword d the two bytes
//    holding bits 6d..6d+5 (codes 2d and 2d + 1), shifted by 6d mod 8 / 6d mod 8 + 3.
// Lane p of the two vectors holds column order[p] / order[16 + p] of the step (avx512_column_order), the order in
// which the driver lays out x.
template <int Bits>
struct LowBits {
  static constexpr int64_t step_bytes = 4 * Bits;  // per 32 codes
  // `end` is the end of the row (3 bits: a 16-byte load is used while it stays inside the row, else a masked
  // 12-byte load).
  EDGEC_AVX512 static EDGEC_ALWAYS_INLINE void indices(const uint8_t* p, const uint8_t* end, __m512i& a, __m512i& b) {
    if constexpr (Bits == 4) {
      (void)end;
      a = _mm512_cvtepu8_epi32(_mm_loadu_si128(reinterpret_cast<const __m128i*>(p)));
      b = _mm512_srli_epi32(a, 4);
    } else if constexpr (Bits == 2) {
      (void)end;
      int64_t bits;
      std::memcpy(&bits, p, sizeof(bits));
      const __m512i v = _mm512_set1_epi64(bits);
      const __m512i shift = _mm512_setr_epi32(0, 0, 2, 2, 4, 4, 6, 6, 8, 8, 10, 10, 12, 12, 14, 14);
      a = _mm512_srlv_epi32(v, shift);
      b = _mm512_srlv_epi32(v, _mm512_add_epi32(shift, _mm512_set1_epi32(16)));
    } else {
      const __m512i bytes = p + 16 <= end ? _mm512_broadcast_i32x4(_mm_loadu_si128(reinterpret_cast<const __m128i*>(p)))
                                          : _mm512_broadcast_i32x4(_mm_maskz_loadu_epi8(0x0FFF, p));
      const __m512i v = _mm512_shuffle_epi8(bytes, shuffle3());  // byte 12 may be picked (for d = 15): ignored bits
      const __m512i shift = _mm512_setr_epi32(0, 6, 4, 2, 0, 6, 4, 2, 0, 6, 4, 2, 0, 6, 4, 2);
      a = _mm512_srlv_epi32(v, shift);
      b = _mm512_srlv_epi32(v, _mm512_add_epi32(shift, _mm512_set1_epi32(3)));
    }
  }
  // vpshufb pattern for 3 bits: dword d gets bytes floor(6d / 8) and the next one, zeros above.
  EDGEC_AVX512 static EDGEC_ALWAYS_INLINE __m512i shuffle3() {
    alignas(64) static constexpr uint8_t table[64] = {
#define EDGEC_Q3(d) static_cast<uint8_t>((6 * (d)) / 8), static_cast<uint8_t>((6 * (d)) / 8 + 1), 0x80, 0x80
        EDGEC_Q3(0),  EDGEC_Q3(1),  EDGEC_Q3(2),  EDGEC_Q3(3),  EDGEC_Q3(4),  EDGEC_Q3(5),  EDGEC_Q3(6),  EDGEC_Q3(7),
        EDGEC_Q3(8),  EDGEC_Q3(9),  EDGEC_Q3(10), EDGEC_Q3(11), EDGEC_Q3(12), EDGEC_Q3(13), EDGEC_Q3(14), EDGEC_Q3(15)
#undef EDGEC_Q3
    };
    return _mm512_load_si512(table);
  }
};

// The lookup table of a group: entry e = c * s - z * s with c = e mod 2^bits, the dequantized weight (c - z) * s of
// code c to within half an ulp of z * s (one FMA; the exact (c - z) * s took two operations per step at group
// size 32).
template <int Bits>
EDGEC_AVX512 EDGEC_ALWAYS_INLINE __m512 group_table(const BlockConsts& bc, int64_t at) {
  const __m512 codes = _mm512_cvtepi32_ps(_mm512_and_si512(_mm512_setr_epi32(0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15),
                                                           _mm512_set1_epi32((1 << Bits) - 1)));
  return _mm512_fmadd_ps(codes, _mm512_set1_ps(bc.s[at]), _mm512_set1_ps(bc.nzs[at]));
}

// The codes `ahead` bytes after byte `at` of each of the RN rows, once per 64-byte line (by the unit of `unit`
// bytes that starts in the line's first `unit` bytes). The hardware prefetcher alone left the GEMV waiting for
// memory (it does not cross 4 KiB pages): measured 13 -> 20 GB/s at group size 32 on one thread.
template <int RN>
EDGEC_AVX512 EDGEC_ALWAYS_INLINE void prefetch_codes(const uint8_t* const* code, int64_t at, int64_t unit, int64_t ahead) {
  if ((at & 63) >= unit) return;
#pragma GCC unroll 4
  for (int r = 0; r < RN; ++r) _mm_prefetch(reinterpret_cast<const char*>(code[r] + at + ahead), _MM_HINT_T0);
}

// `ahead` for a kernel reading runs of `run_bytes` (its adjacent rows): the same byte of the run a whole number of
// runs later, at least kPrefetchBytes on, so every line is fetched the same time before it is read (a fixed 8 KiB
// from a row's byte measured 1.25x slower at K = 5632, 4 rows at a time: it can land in the run being read).
EDGEC_AVX512 EDGEC_ALWAYS_INLINE int64_t prefetch_ahead(int64_t run_bytes) {
  return (kPrefetchBytes + run_bytes - 1) / run_bytes * run_bytes;
}

// GEMM tile: RT activation rows from t0 x RN channels of the block from j0 (rows and channels past the end are
// clamped to the last one, computed and not stored). `prefetch`: the first tile row over these channels, which
// reads their codes from memory.
template <int Bits, int RT, int RN>
EDGEC_AVX512 void lowbit_tile(const Weights& w, const FloatRows& x, const BlockConsts& bc, int64_t t0, int64_t j0, float* y,
                              bool prefetch) {
  const int64_t K = w.k, G = w.group_size, groups = w.groups, kfull = K & ~int64_t{31}, ahead = prefetch_ahead(RN * w.row_bytes);
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
  __m512 acc[RT][RN];
#pragma GCC unroll 16
  for (int i = 0; i < RT; ++i)
#pragma GCC unroll 16
    for (int j = 0; j < RN; ++j) acc[i][j] = _mm512_setzero_ps();
  for (int64_t g = 0, k0 = 0; g < groups && k0 < kfull; ++g, k0 += G) {
    const int64_t k1 = std::min(k0 + G, kfull);
    __m512 table[RN];
#pragma GCC unroll 16
    for (int j = 0; j < RN; ++j) table[j] = group_table<Bits>(bc, jr[j] * groups + g);
    for (int64_t k = k0; k < k1; k += 32) {
      if (prefetch) prefetch_codes<RN>(code, k / 32 * LowBits<Bits>::step_bytes, LowBits<Bits>::step_bytes, ahead);
      __m512 xa[RT], xb[RT];
#pragma GCC unroll 16
      for (int i = 0; i < RT; ++i) {
        xa[i] = _mm512_loadu_ps(xr[i] + k);
        xb[i] = _mm512_loadu_ps(xr[i] + k + 16);
      }
#pragma GCC unroll 16
      for (int j = 0; j < RN; ++j) {
        __m512i ia, ib;
        LowBits<Bits>::indices(code[j] + k / 32 * LowBits<Bits>::step_bytes, code[j] + w.row_bytes, ia, ib);
        const __m512 wa = _mm512_permutexvar_ps(ia, table[j]);
        const __m512 wb = _mm512_permutexvar_ps(ib, table[j]);
#pragma GCC unroll 16
        for (int i = 0; i < RT; ++i) {
          acc[i][j] = _mm512_fmadd_ps(wa, xa[i], acc[i][j]);
          acc[i][j] = _mm512_fmadd_ps(wb, xb[i], acc[i][j]);
        }
      }
    }
  }
  finish_tile<Bits, RT, RN>(w, x, bc, t0, j0, code, jr, xr, acc, y, nullptr);
}

// 8-bit GEMM tile (see lowbit_tile): the weights (q - z) * s of a step are formed once, exactly.
template <int RT, int RN>
EDGEC_AVX512 void wo8_tile(const Weights& w, const FloatRows& x, const BlockConsts& bc, int64_t t0, int64_t j0, float* y,
                           bool prefetch) {
  const int64_t K = w.k, G = w.group_size, groups = w.groups, ahead = prefetch_ahead(RN * w.row_bytes);
  const int64_t kfull = K & ~int64_t{31};
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
  const __m512i magic = _mm512_set1_epi32(0x4B000000);
  __m512 acc[RT][RN];
#pragma GCC unroll 16
  for (int i = 0; i < RT; ++i)
#pragma GCC unroll 16
    for (int j = 0; j < RN; ++j) acc[i][j] = _mm512_setzero_ps();
  for (int64_t g = 0, k0 = 0; g < groups && k0 < kfull; ++g, k0 += G) {
    const int64_t k1 = std::min(k0 + G, kfull);
    __m512 mz[RN], sc[RN];
#pragma GCC unroll 16
    for (int j = 0; j < RN; ++j) {
      mz[j] = _mm512_set1_ps(bc.mz[jr[j] * groups + g]);
      sc[j] = _mm512_set1_ps(bc.s[jr[j] * groups + g]);
    }
    for (int64_t k = k0; k < k1; k += 32) {
      if (prefetch) prefetch_codes<RN>(code, k, 32, ahead);
      __m512 xl[RT], xh[RT];
#pragma GCC unroll 16
      for (int i = 0; i < RT; ++i) {
        xl[i] = _mm512_loadu_ps(xr[i] + k);
        xh[i] = _mm512_loadu_ps(xr[i] + k + 16);
      }
#pragma GCC unroll 16
      for (int j = 0; j < RN; ++j) {
        const __m512i lo = _mm512_cvtepu8_epi32(_mm_loadu_si128(reinterpret_cast<const __m128i*>(code[j] + k)));
        const __m512i hi = _mm512_cvtepu8_epi32(_mm_loadu_si128(reinterpret_cast<const __m128i*>(code[j] + k + 16)));
        const __m512 wl = _mm512_mul_ps(_mm512_sub_ps(_mm512_castsi512_ps(_mm512_or_si512(lo, magic)), mz[j]), sc[j]);
        const __m512 wh = _mm512_mul_ps(_mm512_sub_ps(_mm512_castsi512_ps(_mm512_or_si512(hi, magic)), mz[j]), sc[j]);
#pragma GCC unroll 16
        for (int i = 0; i < RT; ++i) {
          acc[i][j] = _mm512_fmadd_ps(wl, xl[i], acc[i][j]);
          acc[i][j] = _mm512_fmadd_ps(wh, xh[i], acc[i][j]);
        }
      }
    }
  }
  finish_tile<8, RT, RN>(w, x, bc, t0, j0, code, jr, xr, acc, y, nullptr);
}

// Sums each channel's A accumulators into the first (a tree; A is a power of two).
template <int RN, int A>
EDGEC_AVX512 EDGEC_ALWAYS_INLINE void sum_chains(__m512 (&acc)[RN][A], __m512 (&out)[1][RN]) {
#pragma GCC unroll 4
  for (int r = 0; r < RN; ++r) {
#pragma GCC unroll 8
    for (int width = A / 2; width > 0; width /= 2)
#pragma GCC unroll 8
      for (int c = 0; c < width; ++c) acc[r][c] = _mm512_add_ps(acc[r][c], acc[r][c + width]);
    out[0][r] = acc[r][0];
  }
}

// GEMV step, 2/3/4 bits: the 32 codes from column k of RN rows looked up in their tables (the dequantized weights)
// and multiplied with x (loaded once for the RN channels) into accumulator pair c, c + 1.
template <int Bits, int RN, int A>
EDGEC_AVX512 EDGEC_ALWAYS_INLINE void lookup_step(const uint8_t* const (&code)[RN], int64_t row_bytes, const float* x, int64_t k,
                                                  const __m512 (&table)[RN], __m512 (&acc)[RN][A], int c) {
  const __m512 xa = _mm512_loadu_ps(x + k), xb = _mm512_loadu_ps(x + k + 16);
#pragma GCC unroll 4
  for (int j = 0; j < RN; ++j) {
    __m512i ia, ib;
    LowBits<Bits>::indices(code[j] + k / 32 * LowBits<Bits>::step_bytes, code[j] + row_bytes, ia, ib);
    acc[j][c] = _mm512_fmadd_ps(_mm512_permutexvar_ps(ia, table[j]), xa, acc[j][c]);
    acc[j][c + 1] = _mm512_fmadd_ps(_mm512_permutexvar_ps(ib, table[j]), xb, acc[j][c + 1]);
  }
}

template <int Bits, int RN>
EDGEC_AVX512 EDGEC_ALWAYS_INLINE void group_tables(const BlockConsts& bc, const int64_t (&at)[RN], int64_t g, __m512 (&table)[RN]) {
#pragma GCC unroll 4
  for (int j = 0; j < RN; ++j) table[j] = group_table<Bits>(bc, at[j] + g);
}

// GEMV, 2/3/4 bits: channels j .. j + RN - 1 of the block (past its end clamped to its last channel, computed and
// not stored), one pass over their codes; x is loaded once per step for the RN channels. Their rows are adjacent
// in memory, so a thread's channels remain one sequential stream (fetched ahead in software; interleaving rows had
// measured up to 1.6x slower without). The lookups give dequantized weights, so the accumulators run across
// groups: units of U steps, step u of a unit into its own pair of FMA chains. Group size 32: each step has its own
// tables; Steps > 0: groups of that many steps, unrolled (measured faster at group size 128); otherwise a group's
// tables serve its units (the group spans a multiple of U steps); steps left over (the last, ragged group, or
// units that do not fit) go one at a time into the first pair.
template <int Bits, int RN, int U, int Steps>
EDGEC_AVX512 void lowbit_row(const Weights& w, const FloatRows& x, const BlockConsts& bc, int64_t j, float* y) {
  constexpr int A = 2 * U;
  constexpr int64_t kUnitBytes = U * LowBits<Bits>::step_bytes;
  const int64_t steps = w.k / 32, per_group = w.group_size / 32, ahead = prefetch_ahead(RN * w.row_bytes);
  const uint8_t* code[RN];
  int64_t jr[RN], at[RN];
#pragma GCC unroll 4
  for (int r = 0; r < RN; ++r) {
    jr[r] = std::min<int64_t>(j + r, bc.rows - 1);
    code[r] = w.codes + (bc.n_begin + jr[r]) * w.row_bytes;
    at[r] = jr[r] * w.groups;
  }
  const float* xr = x.x;
  __m512 acc[RN][A];
#pragma GCC unroll 4
  for (int r = 0; r < RN; ++r)
#pragma GCC unroll 8
    for (int c = 0; c < A; ++c) acc[r][c] = _mm512_setzero_ps();
  int64_t s = 0;
  __m512 table[RN];
  if (per_group == 1) {
    for (; s + U <= steps; s += U) {
      prefetch_codes<RN>(code, s * LowBits<Bits>::step_bytes, kUnitBytes, ahead);
#pragma GCC unroll 4
      for (int u = 0; u < U; ++u) {
        group_tables<Bits, RN>(bc, at, s + u, table);
        lookup_step<Bits, RN, A>(code, w.row_bytes, xr, (s + u) * 32, table, acc, 2 * u);
      }
    }
  } else if (Steps > 0 && per_group == Steps) {
    for (int64_t g = 0; s + Steps <= steps; ++g) {
      group_tables<Bits, RN>(bc, at, g, table);
#pragma GCC unroll 8
      for (int64_t e = 0; e < Steps; e += U, s += U) {
        prefetch_codes<RN>(code, s * LowBits<Bits>::step_bytes, kUnitBytes, ahead);
#pragma GCC unroll 4
        for (int u = 0; u < U; ++u) lookup_step<Bits, RN, A>(code, w.row_bytes, xr, (s + u) * 32, table, acc, 2 * u);
      }
    }
  } else if (per_group % U == 0) {
    for (int64_t g = 0; s + per_group <= steps; ++g) {
      group_tables<Bits, RN>(bc, at, g, table);
      for (const int64_t group_end = s + per_group; s < group_end; s += U) {
        prefetch_codes<RN>(code, s * LowBits<Bits>::step_bytes, kUnitBytes, ahead);
#pragma GCC unroll 4
        for (int u = 0; u < U; ++u) lookup_step<Bits, RN, A>(code, w.row_bytes, xr, (s + u) * 32, table, acc, 2 * u);
      }
    }
  }
  for (; s < steps; ++s) {
    group_tables<Bits, RN>(bc, at, s / per_group, table);
    lookup_step<Bits, RN, A>(code, w.row_bytes, xr, s * 32, table, acc, 0);
  }
  __m512 sum[1][RN];
  sum_chains<RN, A>(acc, sum);
  const float* const xrows[1] = {xr};
  finish_tile<Bits, 1, RN>(w, x, bc, 0, j, code, jr, xrows, sum, y, nullptr);
}

// GEMV, 8 bits: channel j of the block. s * sum q * x per group (widen, convert, FMA: 3 instructions per 16 codes,
// C chains), the group sums scaled into alternating even / odd accumulators, and z * s * sum(x) (x.group_sums)
// subtracted at the end.
EDGEC_AVX512 EDGEC_ALWAYS_INLINE __m512 codes16(const uint8_t* p) {
  return _mm512_cvtepi32_ps(_mm512_cvtepu8_epi32(_mm_loadu_si128(reinterpret_cast<const __m128i*>(p))));
}

// One group's s * sum q * x into the alternating accumulators, for columns [k0, k1) (whole steps): units of C
// vectors into C chains; Fixed > 0: k1 - k0 == Fixed, known at compile time (unrolled: in-cache 36 -> 44 GB/s at
// group size 128).
template <int C, int Fixed>
EDGEC_AVX512 EDGEC_ALWAYS_INLINE void u8_group(const uint8_t* const (&code)[1], int64_t ahead, const float* x, int64_t k0, int64_t k1,
                                               int64_t g, float s, __m512& even, __m512& odd) {
  __m512 a[1][C];
#pragma GCC unroll 8
  for (int c = 0; c < C; ++c) a[0][c] = _mm512_setzero_ps();
  if constexpr (Fixed > 0) k1 = k0 + Fixed;
  int64_t k = k0;
#pragma GCC unroll 4
  for (; k + 16 * C <= k1; k += 16 * C) {
    prefetch_codes<1>(code, k, 16 * C, ahead);
#pragma GCC unroll 8
    for (int c = 0; c < C; ++c) a[0][c] = _mm512_fmadd_ps(codes16(code[0] + k + 16 * c), _mm512_loadu_ps(x + k + 16 * c), a[0][c]);
  }
#pragma GCC unroll 4
  for (; k < k1; k += 16) a[0][0] = _mm512_fmadd_ps(codes16(code[0] + k), _mm512_loadu_ps(x + k), a[0][0]);
  __m512 sum[1][1];
  sum_chains<1, C>(a, sum);
  if (g & 1) odd = _mm512_fmadd_ps(_mm512_set1_ps(s), sum[0][0], odd);
  else even = _mm512_fmadd_ps(_mm512_set1_ps(s), sum[0][0], even);
}

template <int C, int Fixed>
EDGEC_AVX512 void u8_row(const Weights& w, const FloatRows& x, const BlockConsts& bc, int64_t j, float* y) {
  const int64_t G = w.group_size, groups = w.groups, kfull = w.k & ~int64_t{31}, ahead = prefetch_ahead(w.row_bytes);
  const uint8_t* const code[1] = {w.codes + (bc.n_begin + j) * w.row_bytes};
  __m512 even = _mm512_setzero_ps(), odd = _mm512_setzero_ps();
  const float* s = bc.s + j * groups;
  int64_t g = 0, k0 = 0;
  if constexpr (Fixed > 0)
    for (; g < groups && k0 + Fixed <= kfull; ++g, k0 += Fixed) u8_group<C, Fixed>(code, ahead, x.x, k0, 0, g, s[g], even, odd);
  for (; g < groups && k0 < kfull; ++g, k0 += G) u8_group<C, 0>(code, ahead, x.x, k0, std::min(k0 + G, kfull), g, s[g], even, odd);
  // z * s * sum(x) over the groups, 16 at a time (a group without a full step has a zero sum).
  __m512 c = _mm512_setzero_ps();
  for (int64_t h = 0; h < groups; h += 16) {
    const __mmask16 mask = groups - h >= 16 ? __mmask16{0xFFFF} : static_cast<__mmask16>((1u << (groups - h)) - 1u);
    c = _mm512_fmadd_ps(_mm512_mul_ps(_mm512_maskz_loadu_ps(mask, s + h), _mm512_maskz_loadu_ps(mask, bc.z + j * groups + h)),
                        _mm512_maskz_loadu_ps(mask, x.group_sums + h), c);
  }
  const float correction[1] = {_mm512_reduce_add_ps(c)};
  __m512 acc[1][1] = {{_mm512_add_ps(even, odd)}};
  const int64_t jr[1] = {j};
  const float* const xrows[1] = {x.x};
  finish_tile<8, 1, 1>(w, x, bc, 0, j, code, jr, xrows, acc, y, correction);
}

// A GEMV kernel: channels j .. j + gemv_channels<Bits>() - 1 of the block.
using RowKernel = void (*)(const Weights&, const FloatRows&, const BlockConsts&, int64_t, float*);

// The GEMV kernel for one activation row (several rows take the GEMM tiles: their four channels share each x load;
// measured faster than two-row passes over single channels). About eight to sixteen FMA chains; the unit of U
// steps must divide a multi-step group.
template <int Bits>
RowKernel row_kernel(int64_t group_size) {
  if constexpr (Bits == 8) {
    return group_size == 128 ? u8_row<4, 128> : u8_row<4, 0>;
  } else {
    const int64_t per_group = group_size / 32;
    if (per_group == 4) return lowbit_row<Bits, kGemvChannels, 2, 4>;
    return per_group == 1 || per_group % 2 == 0 ? lowbit_row<Bits, kGemvChannels, 2, 0> : lowbit_row<Bits, kGemvChannels, 1, 0>;
  }
}

template <int Bits>
constexpr int64_t gemv_channels() {
  return Bits == 8 ? 1 : kGemvChannels;
}

template <int Bits>
EDGEC_AVX512 void wo_range(const Weights& w, const FloatRows& x, float* y, int64_t n_begin, int64_t n_end, float* scratch) {
  const RowKernel gemv = x.rows == 1 ? row_kernel<Bits>(w.group_size) : nullptr;
  for (int64_t nb = n_begin; nb < n_end; nb += kBlockRows) {
    const BlockConsts bc = prepare_block(w, nb, std::min(kBlockRows, n_end - nb), scratch);
    if (gemv) {
      for (int64_t j = 0; j < bc.rows; j += gemv_channels<Bits>()) {
        for (int64_t r = 0; r < gemv_channels<Bits>(); ++r) prefetch_consts(w, nb + kBlockRows + j + r);
        gemv(w, x, bc, j, y);
      }
      continue;
    }
    for (int64_t t0 = 0; t0 < x.rows; t0 += 4) {
      const int64_t left = x.rows - t0;
      for (int64_t j0 = 0; j0 < bc.rows; j0 += 4) {
        const bool first = t0 == 0;
        if (first)
          for (int64_t r = 0; r < 4; ++r) prefetch_consts(w, nb + kBlockRows + j0 + r);
        if constexpr (Bits == 8) {
          if (left <= 2) wo8_tile<2, 4>(w, x, bc, t0, j0, y, first);
          else if (left == 3) wo8_tile<3, 4>(w, x, bc, t0, j0, y, first);
          else wo8_tile<4, 4>(w, x, bc, t0, j0, y, first);
        } else {
          if (left <= 2) lowbit_tile<Bits, 2, 4>(w, x, bc, t0, j0, y, first);
          else if (left == 3) lowbit_tile<Bits, 3, 4>(w, x, bc, t0, j0, y, first);
          else lowbit_tile<Bits, 4, 4>(w, x, bc, t0, j0, y, first);
        }
      }
    }
  }
}

// ---- W8A8 (VNNI) ------------------------------------------------------------------------------------------

// Sixteen int32 vectors -> one vector whose lane i is the sum of vector i's lanes (exact integer adds).
EDGEC_AVX512 EDGEC_ALWAYS_INLINE __m512i reduce16(const __m512i* v) {
  __m512i pairs[8];
#pragma GCC unroll 8
  for (int i = 0; i < 8; ++i)  // [a b a b] per 128-bit quarter
    pairs[i] = _mm512_add_epi32(_mm512_unpacklo_epi32(v[2 * i], v[2 * i + 1]), _mm512_unpackhi_epi32(v[2 * i], v[2 * i + 1]));
  __m512i quads[4];
#pragma GCC unroll 4
  for (int i = 0; i < 4; ++i)  // [a b c d] per quarter
    quads[i] = _mm512_add_epi32(_mm512_unpacklo_epi64(pairs[2 * i], pairs[2 * i + 1]),
                                _mm512_unpackhi_epi64(pairs[2 * i], pairs[2 * i + 1]));
  __m512i halves[2];
#pragma GCC unroll 2
  for (int i = 0; i < 2; ++i)  // [abcd' abcd'' efgh' efgh'']
    halves[i] = _mm512_add_epi32(_mm512_shuffle_i32x4(quads[2 * i], quads[2 * i + 1], 0x88),
                                 _mm512_shuffle_i32x4(quads[2 * i], quads[2 * i + 1], 0xDD));
  return _mm512_add_epi32(_mm512_shuffle_i32x4(halves[0], halves[1], 0x88), _mm512_shuffle_i32x4(halves[0], halves[1], 0xDD));
}

// Per-block W8A8 constants, transposed so a group's values for the block's 16 channels are contiguous:
// sT[g*16 + j] = s[n_begin + j, g], zT[g*16 + j] = z (zero for channels past the block).
struct Int8Consts {
  int64_t n_begin = 0;
  int64_t rows = 0;
  const float* sT = nullptr;
  const int32_t* zT = nullptr;
};

EDGEC_AVX512 Int8Consts prepare_int8_block(const Weights& w, int64_t n_begin, int64_t rows, float* scratch, int zero_offset) {
  const int64_t groups = w.groups;
  float* sT = scratch;
  int32_t* zT = reinterpret_cast<int32_t*>(scratch + kBlockRows * groups);
  float* row = scratch + 2 * kBlockRows * groups;
  for (int64_t j = 0; j < kBlockRows; ++j) {
    if (j < rows) load_scales(w, n_begin + j, row);
    for (int64_t g = 0; g < groups; ++g) {
      sT[g * kBlockRows + j] = j < rows ? row[g] : 0.0f;
      zT[g * kBlockRows + j] = j < rows ? w.zero(n_begin + j, g) - zero_offset : 0;
    }
  }
  return {n_begin, rows, sT, zT};
}

template <int RT, int RN>
EDGEC_VNNI void w8a8_tile_vnni(const Weights& w, const Int8Rows& x, const Int8Consts& bc, int64_t t0, int64_t j0, float* y) {
  static_assert(RT * RN == 16);
  const int64_t K = w.k, G = w.group_size, groups = w.groups;
  const uint8_t* code[RN];
#pragma GCC unroll 16
  for (int j = 0; j < RN; ++j) code[j] = w.codes + (bc.n_begin + std::min<int64_t>(j0 + j, bc.rows - 1)) * w.row_bytes;
  const int8_t* xr[RT];
  int64_t tr[RT];
#pragma GCC unroll 16
  for (int i = 0; i < RT; ++i) {
    tr[i] = std::min<int64_t>(t0 + i, x.rows - 1);
    xr[i] = x.xq + tr[i] * x.row_stride;
  }
  // Lane l = i * RN + j holds (row t0 + i, channel j0 + j).
  alignas(64) int32_t t_of_lane[16];
  for (int l = 0; l < 16; ++l) t_of_lane[l] = static_cast<int32_t>(tr[l / RN]);
  const __m512i lane_t = _mm512_load_si512(t_of_lane);
  __m512 acc = _mm512_setzero_ps();
  for (int64_t g = 0; g < groups; ++g) {
    const int64_t k0 = g * G, len = std::min(G, K - k0);
    __m512i ia[RT * RN];
#pragma GCC unroll 16
    for (int l = 0; l < RT * RN; ++l) ia[l] = _mm512_setzero_si512();
    for (int64_t c = 0; c < len; c += 64) {
      __m512i xv[RT];
#pragma GCC unroll 16
      for (int i = 0; i < RT; ++i) xv[i] = _mm512_loadu_si512(xr[i] + g * x.group_stride + c);
      const int64_t rem = len - c;
      const __mmask64 mask = rem >= 64 ? ~__mmask64{0} : (__mmask64{1} << rem) - 1;
#pragma GCC unroll 16
      for (int j = 0; j < RN; ++j) {
        // One row, sixteen weight rows read side by side: the hardware prefetcher needs help (measured).
        if constexpr (RT == 1) _mm_prefetch(reinterpret_cast<const char*>(code[j] + k0 + c + kW8A8PrefetchBytes), _MM_HINT_T0);
        const __m512i wv = _mm512_maskz_loadu_epi8(mask, code[j] + k0 + c);
#pragma GCC unroll 16
        for (int i = 0; i < RT; ++i) ia[i * RN + j] = _mm512_dpbusd_epi32(ia[i * RN + j], wv, xv[i]);
      }
    }
    __m512i isum = reduce16(ia);
    const __m512i z = RN == 16 ? _mm512_loadu_si512(bc.zT + g * kBlockRows)
                               : _mm512_broadcast_i32x4(_mm_loadu_si128(reinterpret_cast<const __m128i*>(bc.zT + g * kBlockRows + j0)));
    const __m512 s = RN == 16 ? _mm512_loadu_ps(bc.sT + g * kBlockRows)
                              : _mm512_broadcast_f32x4(_mm_loadu_ps(bc.sT + g * kBlockRows + j0));
    const __m512i xs = _mm512_i32gather_epi32(lane_t, x.xsum_t + g * x.rows, 4);
    isum = _mm512_sub_epi32(isum, _mm512_mullo_epi32(z, xs));
    acc = _mm512_fmadd_ps(s, _mm512_cvtepi32_ps(isum), acc);
  }
  const __m512 sx = _mm512_i32gather_ps(lane_t, x.sx, 4);
  alignas(64) float bias[16];
  for (int l = 0; l < 16; ++l) {
    const int64_t j = std::min<int64_t>(j0 + l % RN, bc.rows - 1);
    bias[l] = w.bias ? w.bias[bc.n_begin + j] : 0.0f;
  }
  alignas(64) float out[16];
  _mm512_store_ps(out, _mm512_fmadd_ps(sx, acc, _mm512_load_ps(bias)));
  for (int i = 0; i < RT && t0 + i < x.rows; ++i)
    for (int j = 0; j < RN && j0 + j < bc.rows; ++j) y[(t0 + i) * w.n + bc.n_begin + j0 + j] = out[i * RN + j];
}

}  // namespace

void avx512_column_order(int bits, int32_t* order) {
  for (int d = 0; d < 16; ++d) {
    int a = d, b = 16 + d;  // 8 bits: in order
    if (bits == 4 || bits == 3) a = 2 * d, b = a + 1;
    if (bits == 2) a = 16 * (d % 2) + d / 2, b = a + 8;
    order[d] = a;
    order[16 + d] = b;
  }
}

EDGEC_AVX512 void avx512_permute_x(int bits, const float* x, int64_t rows, int64_t k, float* out) {
  alignas(64) int32_t order[32];
  avx512_column_order(bits, order);
  const __m512i first = _mm512_load_si512(order), second = _mm512_load_si512(order + 16);
  const int64_t full = k / 32 * 32;
  for (int64_t t = 0; t < rows; ++t) {
    const float* src = x + t * k;
    float* dst = out + t * k;
    for (int64_t b = 0; b < full; b += 32) {
      const __m512 lo = _mm512_loadu_ps(src + b), hi = _mm512_loadu_ps(src + b + 16);
      _mm512_storeu_ps(dst + b, _mm512_permutex2var_ps(lo, first, hi));
      _mm512_storeu_ps(dst + b + 16, _mm512_permutex2var_ps(lo, second, hi));
    }
    std::memcpy(dst + full, src + full, static_cast<size_t>(k - full) * sizeof(float));
  }
}

size_t avx512_scratch_floats(const Weights& w) { return static_cast<size_t>(3 * kBlockRows * w.groups); }

void wo_avx512(const Weights& w, const FloatRows& x, float* y, int64_t n_begin, int64_t n_end, float* scratch) {
  switch (w.bits) {
    case 2: wo_range<2>(w, x, y, n_begin, n_end, scratch); return;
    case 3: wo_range<3>(w, x, y, n_begin, n_end, scratch); return;
    case 4: wo_range<4>(w, x, y, n_begin, n_end, scratch); return;
    default: wo_range<8>(w, x, y, n_begin, n_end, scratch); return;
  }
}

EDGEC_VNNI void w8a8_vnni(const Weights& w, const Int8Rows& x, float* y, int64_t n_begin, int64_t n_end, float* scratch) {
  for (int64_t nb = n_begin; nb < n_end; nb += kBlockRows) {
    const Int8Consts bc = prepare_int8_block(w, nb, std::min(kBlockRows, n_end - nb), scratch, 0);
    if (x.rows == 1) {
      w8a8_tile_vnni<1, 16>(w, x, bc, 0, 0, y);
      continue;
    }
    for (int64_t t0 = 0; t0 < x.rows; t0 += 4)
      for (int64_t j0 = 0; j0 < bc.rows; j0 += 4) w8a8_tile_vnni<4, 4>(w, x, bc, t0, j0, y);
  }
}

EDGEC_AVX512 float absmax_avx512(const float* x, int64_t k) {
  __m512 m = _mm512_setzero_ps();
  int64_t i = 0;
  for (; i + 16 <= k; i += 16) m = _mm512_max_ps(_mm512_abs_ps(_mm512_loadu_ps(x + i)), m);  // NaN lanes ignored
  if (i < k) {
    const __mmask16 mask = static_cast<__mmask16>((1u << (k - i)) - 1u);
    m = _mm512_max_ps(_mm512_abs_ps(_mm512_maskz_loadu_ps(mask, x + i)), m);
  }
  return _mm512_reduce_max_ps(m);
}

EDGEC_AVX512 void quantize_row_avx512(const float* x, int64_t k, int64_t group_size, int64_t group_stride, float sx,
                                      int8_t* xq, int32_t* xsum) {
  const __m512 scale = _mm512_set1_ps(sx);
  const __m512 lo = _mm512_set1_ps(-127.0f), hi = _mm512_set1_ps(127.0f);
  const int64_t groups = (k + group_size - 1) / group_size;
  for (int64_t g = 0; g < groups; ++g) {
    const int64_t k0 = g * group_size, len = std::min(group_size, k - k0);
    int8_t* out = xq + g * group_stride;
    __m512i sum = _mm512_setzero_si512();
    for (int64_t i = 0; i < len; i += 16) {
      const __mmask16 mask = len - i >= 16 ? __mmask16{0xFFFF} : static_cast<__mmask16>((1u << (len - i)) - 1u);
      const __m512 q = _mm512_div_ps(_mm512_maskz_loadu_ps(mask, x + k0 + i), scale);
      // max(q, -127) returns -127 for a NaN q, like the scalar clamp.
      const __m512 r = _mm512_min_ps(_mm512_max_ps(_mm512_roundscale_ps(q, _MM_FROUND_TO_NEAREST_INT | _MM_FROUND_NO_EXC), lo), hi);
      const __m512i v = _mm512_maskz_mov_epi32(mask, _mm512_cvtps_epi32(r));
      _mm_mask_storeu_epi8(out + i, mask, _mm512_cvtepi32_epi8(v));
      sum = _mm512_add_epi32(sum, v);
    }
    std::memset(out + len, 0, static_cast<size_t>(group_stride - len));
    xsum[g] = _mm512_reduce_add_epi32(sum);
  }
}

}  // namespace edgec::runtime::detail::qlinear
