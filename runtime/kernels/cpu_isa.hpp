#pragma once
// Which SIMD code path the kernels take: the CPU's features, read once, capped by the environment variable
// EDGEC_ISA (portable | avx2 | avx512 | auto) so tests and benchmarks can run every path on one machine
// (docs/runtime.md, "Choosing the path"). Kernels for a path are compiled with target attributes only, so the
// library runs on any x86-64 CPU.
#include <cstdint>

namespace edgec::runtime::detail {

enum class Isa { portable = 0, avx2 = 1, avx512 = 2 };

struct CpuFeatures {
  bool avx2 = false;    // AVX2 + FMA + F16C
  bool avx512 = false;  // AVX-512 F, BW, VL, DQ (+ the AVX2 set)
  bool vnni = false;    // AVX-512 VNNI
  bool bf16 = false;    // AVX-512 BF16
};

const CpuFeatures& cpu_features();

// The best path the CPU has, capped by EDGEC_ISA (read on every call; unset or "auto": no cap). Throws
// Error(input) naming the value when it is not one of portable, avx2, avx512, auto.
Isa isa_limit();

const char* isa_name(Isa isa);

}  // namespace edgec::runtime::detail
