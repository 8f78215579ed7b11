#pragma once
// exp, erf and tanh over arrays of floats with glibc's vector math library (libmvec, part of libc6): the
// element-wise functions of Softmax, Erf/Gelu, Sigmoid, SiLU and Tanh, 16 (AVX-512), 8 (AVX2) or 4 (SSE2) values per
// call instead of one. libmvec's results are within 4 ulp of the correctly rounded value (glibc's documented bound);
// every element goes through the vector routine (a short tail is padded), so a value does not depend on where it sits
// in the array, and the code path follows EDGEC_ISA like the other kernels.
#include <cstdint>

#include "kernels/cpu_isa.hpp"

namespace edgec::runtime::detail::vmath {

enum class Fn { exp, erf, tanh };

// y[i] = fn(x[i]) for i < n; y may be x.
void apply(Fn fn, const float* x, float* y, int64_t n);
void apply(Fn fn, const float* x, float* y, int64_t n, Isa isa);  // on a path chosen once by the caller

// The activations built on them, with the formulas of the scalar kernels (elementwise.cpp, edgec_ops.cpp):
//   sigmoid 1 / (1 + exp(-x)), silu x / (1 + exp(-x)), quick_gelu x / (1 + exp(-1.702 x)),
//   gelu_erf 0.5 x (1 + erf(x / sqrt 2)), gelu_tanh 0.5 x (1 + tanh(0.7978845608 (x + 0.044715 x^3))).
enum class Activation { exp, erf, tanh, sigmoid, silu, quick_gelu, gelu_erf, gelu_tanh };
void activation(Activation kind, const float* x, float* y, int64_t n, Isa isa = isa_limit());

// Softmax of one contiguous row (y may be x): exp(x - max) / sum, the sum in double in 8 lanes.
void softmax_row(const float* x, float* y, int64_t n, bool log_form, Isa isa = isa_limit());

}  // namespace edgec::runtime::detail::vmath
