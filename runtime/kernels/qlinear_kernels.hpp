#pragma once
// Private interface between the edgec.QLinear driver (qlinear.cpp: validation, ISA choice, activation
// preparation, threading) and its SIMD kernels (qlinear_avx2.cpp, qlinear_avx512.cpp). The SIMD functions are
// compiled with __attribute__((target(...))) only, never with a file-wide -m flag or #pragma, so the library
// runs on any x86-64 CPU; the driver calls them only when the CPU has the features (docs/runtime.md,
// "Quantized kernels").
//
// Every kernel computes a range of output channels [n_begin, n_end) for all rows of the activations and writes
// y[t * n + o] (row-major [rows, N]) for exactly those channels; each output element is computed by one call in
// an order fixed by the shape, so the result does not depend on how the driver splits the channels.
#include <cstddef>
#include <cstdint>

namespace edgec::runtime::detail::qlinear {

// The quantized weight of one node (docs/ir-ops.md, edgec.QLinear; libcore quant_layout.hpp).
struct Weights {
  int bits = 4;
  int64_t group_size = 32;
  int64_t n = 0;          // out_features
  int64_t k = 0;          // in_features
  int64_t groups = 0;     // ceil(k / group_size)
  int64_t row_bytes = 0;  // ceil(k * bits / 8)
  const uint8_t* codes = nullptr;        // [n][row_bytes]
  const float* scales_f32 = nullptr;     // [n][groups], or nullptr when the scales are f16
  const uint16_t* scales_f16 = nullptr;  // [n][groups] IEEE half bits
  const uint8_t* zeros = nullptr;        // [n][groups]; nullptr: symmetric, z = 2^(bits-1)
  const float* bias = nullptr;           // [n] or nullptr

  int zero(int64_t row, int64_t group) const {
    return zeros ? zeros[row * groups + group] : 1 << (bits - 1);
  }
  // Output channels [first, first + count) as a weight of their own (edgec.QConv runs one per conv group).
  Weights rows_view(int64_t first, int64_t count) const;
};

// Float activations for the weight-only kernels: rows x k, row-major. The SIMD kernels read x permuted within each
// full step of 32 columns (AVX-512) / 16 columns (AVX2): position p of a step holds column order[p] of the step, as
// given by avx512_column_order / avx2_column_order (the order in which the packed codes come out of the unpacking);
// columns after the last full step keep their order.
struct FloatRows {
  int64_t rows = 0;
  const float* x = nullptr;
  // 8-bit weights (AVX2: also 4-bit), rows <= kGemvRows: [rows][groups], the sum of x over the full steps of each
  // group (columns [g * group_size, min((g + 1) * group_size, k rounded down to the step))). The GEMV kernels sum
  // q * x and subtract z * s * sum(x) once per group.
  const float* group_sums = nullptr;
};
// Activation rows up to which the SIMD weight-only kernels make one pass over each weight row (GEMV); more rows take
// tiles of 4 rows x 4 channels.
constexpr int64_t kGemvRows = 1;
void avx512_column_order(int bits, int32_t* order);  // 32 entries
void avx2_column_order(int bits, int32_t* order);    // 16 entries
// x [rows][k] laid out in those orders (bits 2, 3, 4 / bits 4) into out [rows][k].
void avx512_permute_x(int bits, const float* x, int64_t rows, int64_t k, float* out);
void avx2_permute_x(const float* x, int64_t rows, int64_t k, float* out);

// int8 activations of the W8A8 kernels, prepared by the driver exactly as the contract says.
// xq: row t, group g starts at xq + t * row_stride + g * group_stride; the group's codes are followed by
// zeros up to group_stride (so SIMD chunks of a group never need a mask on the activation side).
struct Int8Rows {
  int64_t rows = 0;
  const int8_t* xq = nullptr;
  int64_t row_stride = 0;    // groups * group_stride, plus padding
  int64_t group_stride = 0;  // group_size rounded up to the kernel's chunk (64 AVX-512, 32 AVX2, 1 portable)
  const int32_t* xsum_t = nullptr;  // [groups][rows]: sum of xq over the group (transposed)
  const float* sx = nullptr;        // [rows] activation scales
};

// Scratch the driver gives each thread, in floats (enough for any block size the kernels use).
size_t avx512_scratch_floats(const Weights& w);
size_t avx2_scratch_floats(const Weights& w);

// Weight-only (activations "float"): AVX-512 for bits 2, 3, 4, 8 with group_size % 32 == 0; AVX2 for bits 4, 8
// with group_size % 16 == 0.
void wo_avx512(const Weights& w, const FloatRows& x, float* y, int64_t n_begin, int64_t n_end, float* scratch);
void wo_avx2(const Weights& w, const FloatRows& x, float* y, int64_t n_begin, int64_t n_end, float* scratch);

// W8A8 (bits 8): AVX-512 VNNI and AVX2. Bit-identical to the portable reference (qlinear.cpp).
void w8a8_vnni(const Weights& w, const Int8Rows& x, float* y, int64_t n_begin, int64_t n_end, float* scratch);
void w8a8_avx2(const Weights& w, const Int8Rows& x, float* y, int64_t n_begin, int64_t n_end, float* scratch);

// Activation quantization of one row (the contract's formula; bit-identical to the scalar version):
// writes xq (zero-padded per group as Int8Rows describes) and xsum[g], returns nothing; `sx` is the scale.
void quantize_row_avx512(const float* x, int64_t k, int64_t group_size, int64_t group_stride, float sx, int8_t* xq,
                         int32_t* xsum);
void quantize_row_avx2(const float* x, int64_t k, int64_t group_size, int64_t group_stride, float sx, int8_t* xq,
                       int32_t* xsum);
float absmax_avx512(const float* x, int64_t k);
float absmax_avx2(const float* x, int64_t k);

}  // namespace edgec::runtime::detail::qlinear
