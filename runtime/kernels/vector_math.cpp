#include "kernels/vector_math.hpp"

#include <immintrin.h>

#include <algorithm>
#include <cmath>
#include <cstring>
#include <limits>

#include "kernels/cpu_isa.hpp"

// libmvec's entry points (vector function ABI names: b = SSE, d = AVX2, e = AVX-512; N = lanes; v = one vector
// argument). GCC warns that passing vectors changes the ABI when the caller is not compiled for that ISA: every
// caller below is.
#pragma GCC diagnostic ignored "-Wpsabi"
extern "C" {
__m128 _ZGVbN4v_expf(__m128);
__m128 _ZGVbN4v_erff(__m128);
__m128 _ZGVbN4v_tanhf(__m128);
__m256 _ZGVdN8v_expf(__m256);
__m256 _ZGVdN8v_erff(__m256);
__m256 _ZGVdN8v_tanhf(__m256);
__m512 _ZGVeN16v_expf(__m512);
__m512 _ZGVeN16v_erff(__m512);
__m512 _ZGVeN16v_tanhf(__m512);
}

namespace edgec::runtime::detail::vmath {
namespace {

// Whole vectors in place, then the tail through a zero-padded vector.
template <int Lanes, class Load, class Store, class Call>
inline __attribute__((always_inline)) void run(const float* x, float* y, int64_t n, Load load, Store store, Call call) {
  int64_t i = 0;
  for (; i + Lanes <= n; i += Lanes) store(y + i, call(load(x + i)));
  if (i < n) {
    float tail[Lanes] = {};
    std::memcpy(tail, x + i, static_cast<size_t>(n - i) * sizeof(float));
    store(tail, call(load(tail)));
    std::memcpy(y + i, tail, static_cast<size_t>(n - i) * sizeof(float));
  }
}

__attribute__((target("avx512f"))) void apply_avx512(Fn fn, const float* x, float* y, int64_t n) {
  const auto load = [](const float* p) __attribute__((target("avx512f"))) { return _mm512_loadu_ps(p); };
  const auto store = [](float* p, __m512 v) __attribute__((target("avx512f"))) { _mm512_storeu_ps(p, v); };
  switch (fn) {
    case Fn::exp: return run<16>(x, y, n, load, store, [](__m512 v) __attribute__((target("avx512f"))) { return _ZGVeN16v_expf(v); });
    case Fn::erf: return run<16>(x, y, n, load, store, [](__m512 v) __attribute__((target("avx512f"))) { return _ZGVeN16v_erff(v); });
    case Fn::tanh: return run<16>(x, y, n, load, store, [](__m512 v) __attribute__((target("avx512f"))) { return _ZGVeN16v_tanhf(v); });
  }
}

__attribute__((target("avx2"))) void apply_avx2(Fn fn, const float* x, float* y, int64_t n) {
  const auto load = [](const float* p) __attribute__((target("avx2"))) { return _mm256_loadu_ps(p); };
  const auto store = [](float* p, __m256 v) __attribute__((target("avx2"))) { _mm256_storeu_ps(p, v); };
  switch (fn) {
    case Fn::exp: return run<8>(x, y, n, load, store, [](__m256 v) __attribute__((target("avx2"))) { return _ZGVdN8v_expf(v); });
    case Fn::erf: return run<8>(x, y, n, load, store, [](__m256 v) __attribute__((target("avx2"))) { return _ZGVdN8v_erff(v); });
    case Fn::tanh: return run<8>(x, y, n, load, store, [](__m256 v) __attribute__((target("avx2"))) { return _ZGVdN8v_tanhf(v); });
  }
}

void apply_sse(Fn fn, const float* x, float* y, int64_t n) {
  const auto load = [](const float* p) { return _mm_loadu_ps(p); };
  const auto store = [](float* p, __m128 v) { _mm_storeu_ps(p, v); };
  switch (fn) {
    case Fn::exp: return run<4>(x, y, n, load, store, [](__m128 v) { return _ZGVbN4v_expf(v); });
    case Fn::erf: return run<4>(x, y, n, load, store, [](__m128 v) { return _ZGVbN4v_erff(v); });
    case Fn::tanh: return run<4>(x, y, n, load, store, [](__m128 v) { return _ZGVbN4v_tanhf(v); });
  }
}

}  // namespace

void apply(Fn fn, const float* x, float* y, int64_t n) { apply(fn, x, y, n, isa_limit()); }

void apply(Fn fn, const float* x, float* y, int64_t n, Isa isa) {
  if (n <= 0) return;
  switch (isa) {
    case Isa::avx512: return apply_avx512(fn, x, y, n);
    case Isa::avx2: return apply_avx2(fn, x, y, n);
    default: return apply_sse(fn, x, y, n);
  }
}

void activation(Activation kind, const float* x, float* y, int64_t n, Isa isa) {
  constexpr int64_t kBlock = 1024;  // the function's argument for a block stays in L1
  float arg[kBlock];
  for (int64_t b = 0; b < n; b += kBlock) {
    const int64_t m = std::min(kBlock, n - b);
    const float* xs = x + b;
    float* ys = y + b;
    switch (kind) {
      case Activation::exp: apply(Fn::exp, xs, ys, m, isa); break;
      case Activation::erf: apply(Fn::erf, xs, ys, m, isa); break;
      case Activation::tanh: apply(Fn::tanh, xs, ys, m, isa); break;
      case Activation::sigmoid:
      case Activation::silu:
      case Activation::quick_gelu: {
        const float k = kind == Activation::quick_gelu ? -1.702f : -1.0f;
        for (int64_t i = 0; i < m; ++i) arg[i] = k == -1.0f ? -xs[i] : k * xs[i];
        apply(Fn::exp, arg, arg, m, isa);
        if (kind == Activation::sigmoid)
          for (int64_t i = 0; i < m; ++i) ys[i] = 1.0f / (1.0f + arg[i]);
        else
          for (int64_t i = 0; i < m; ++i) ys[i] = xs[i] / (1.0f + arg[i]);
        break;
      }
      case Activation::gelu_erf:
        for (int64_t i = 0; i < m; ++i) arg[i] = xs[i] * 0.7071067811865476f;
        apply(Fn::erf, arg, arg, m, isa);
        for (int64_t i = 0; i < m; ++i) ys[i] = 0.5f * xs[i] * (1.0f + arg[i]);
        break;
      case Activation::gelu_tanh:
        for (int64_t i = 0; i < m; ++i) arg[i] = 0.7978845608028654f * (xs[i] + 0.044715f * xs[i] * xs[i] * xs[i]);
        apply(Fn::tanh, arg, arg, m, isa);
        for (int64_t i = 0; i < m; ++i) ys[i] = 0.5f * xs[i] * (1.0f + arg[i]);
        break;
    }
  }
}

void softmax_row(const float* x, float* y, int64_t n, bool log_form, Isa isa) {
  if (n <= 0) return;
  // Max in 8 lanes (max is exact, so the lanes do not change it; NaN is skipped as in the scalar loop).
  float lanes[8];
  for (float& l : lanes) l = -std::numeric_limits<float>::infinity();
  int64_t i = 0;
  for (; i + 8 <= n; i += 8)
    for (int l = 0; l < 8; ++l) lanes[l] = lanes[l] < x[i + l] ? x[i + l] : lanes[l];
  for (; i < n; ++i) lanes[0] = lanes[0] < x[i] ? x[i] : lanes[0];
  float peak = lanes[0];
  for (int l = 1; l < 8; ++l) peak = peak < lanes[l] ? lanes[l] : peak;
  if (log_form) {
    constexpr int64_t kBlock = 1024;
    float e[kBlock];
    double sums[8] = {};
    for (int64_t b = 0; b < n; b += kBlock) {
      const int64_t m = std::min(kBlock, n - b);
      for (int64_t j = 0; j < m; ++j) e[j] = x[b + j] - peak;
      apply(Fn::exp, e, e, m, isa);
      for (int64_t j = 0; j < m; ++j) sums[j % 8] += static_cast<double>(e[j]);
    }
    const double sum = ((sums[0] + sums[1]) + (sums[2] + sums[3])) + ((sums[4] + sums[5]) + (sums[6] + sums[7]));
    const float log_sum = static_cast<float>(std::log(sum));
    for (int64_t j = 0; j < n; ++j) y[j] = x[j] - peak - log_sum;
    return;
  }
  for (int64_t j = 0; j < n; ++j) y[j] = x[j] - peak;
  apply(Fn::exp, y, y, n, isa);
  double sums[8] = {};
  int64_t j = 0;
  for (; j + 8 <= n; j += 8)
    for (int l = 0; l < 8; ++l) sums[l] += static_cast<double>(y[j + l]);
  for (; j < n; ++j) sums[0] += static_cast<double>(y[j]);
  const double sum = ((sums[0] + sums[1]) + (sums[2] + sums[3])) + ((sums[4] + sums[5]) + (sums[6] + sums[7]));
  const float scale = static_cast<float>(1.0 / sum);
  for (int64_t k = 0; k < n; ++k) y[k] *= scale;
}

}  // namespace edgec::runtime::detail::vmath
