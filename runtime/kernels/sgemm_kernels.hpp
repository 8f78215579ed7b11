#pragma once
// Private interface between the f32 product's driver (sgemm.cpp: blocking, packing, threads, epilogue) and its
// per-ISA kernels (sgemm_avx512.cpp, sgemm_avx2.cpp: one source, sgemm_simd.inc, compiled for each target with
// target attributes only, so the library still runs on any x86-64 CPU).
#include <cstdint>

namespace edgec::runtime::detail::sgemm::kernels {

// c[r * ldc + j] (+)= sum over k < kc of a[r * lda + k] * panel[k * panel_ld + j], for r < rows (<= the kernel's row
// count) and j < the kernel's width; `first` starts from zero instead of c. The panel is zero-padded to the width.
using MicroFn = void (*)(int64_t rows, int64_t kc, const float* a, int64_t lda, const float* panel, int64_t panel_ld,
                         float* c, int64_t ldc, bool first);

struct Micro {
  int rows = 0;   // R: rows of A (and C) per call
  int width = 0;  // W: columns of B (and C) per call
  MicroFn run = nullptr;
};

// y[t * ldy + j] = sum_k x[t * ldx + k] * W[j][k] (+ bias[j]) for t < rows (1..4) and j in [n0, n1); W [n x k] row-major,
// f32 (`w_half` null) or 16-bit (bf16 when `bf16`, else IEEE f16).
using GemvFn = void (*)(int64_t rows, int64_t n0, int64_t n1, int64_t k, const float* x, int64_t ldx, const float* w_f32,
                        const uint16_t* w_half, bool bf16, const float* bias, float* y, int64_t ldy);

// 16-bit floats widened to f32 (count values); bf16 or IEEE f16.
using WidenFn = void (*)(const uint16_t* src, int64_t count, bool bf16, float* dst);

Micro micro_avx512();
Micro micro_avx2();
GemvFn gemv_avx512();
GemvFn gemv_avx2();
WidenFn widen_avx512();
WidenFn widen_avx2();

}  // namespace edgec::runtime::detail::sgemm::kernels
