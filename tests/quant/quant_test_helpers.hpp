#pragma once
// Shared helpers of the libquant / calibration tests: seeded random data, synthetic correlated activations,
// direct (test-side) error formulas, and running a callable at a given thread count.
#include <doctest/doctest.h>

#include <cmath>
#include <cstdint>
#include <cstring>
#include <vector>

#include "test_random.hpp"
#include "threads.hpp"
#include "edgec/calibration/hessian.hpp"
#include "edgec/quant/scheme.hpp"

namespace edgec::quant::test {

using edgec::test::Random;

// X = Z A [t, k]: i.i.d. normal Z mixed by a random dense A (identity plus a strong random part), so the
// Hessian is far from diagonal; channel j is further scaled by `channel_scale[j]` when given.
inline std::vector<float> correlated_inputs(int64_t t, int64_t k, uint64_t seed, const std::vector<float>& channel_scale = {}) {
  Random rng(seed);
  const std::vector<float> z = rng.normals(static_cast<size_t>(t * k));
  std::vector<double> a(static_cast<size_t>(k * k));
  for (int64_t i = 0; i < k; ++i)
    for (int64_t j = 0; j < k; ++j)
      a[static_cast<size_t>(i * k + j)] = (i == j ? 0.5 : 0.0) + rng.normal() / std::sqrt(static_cast<double>(k));
  std::vector<float> x(static_cast<size_t>(t * k));
  for (int64_t r = 0; r < t; ++r)
    for (int64_t j = 0; j < k; ++j) {
      double sum = 0.0;
      for (int64_t i = 0; i < k; ++i) sum += static_cast<double>(z[static_cast<size_t>(r * k + i)]) * a[static_cast<size_t>(i * k + j)];
      if (!channel_scale.empty()) sum *= channel_scale[static_cast<size_t>(j)];
      x[static_cast<size_t>(r * k + j)] = static_cast<float>(sum);
    }
  return x;
}

inline calibration::Hessian hessian_of(const std::vector<float>& x, int64_t k) {
  calibration::Hessian h(k);
  h.add(x.data(), static_cast<int64_t>(x.size()) / k);
  return h;
}

// sum_t ||(W - W_hat) x_t||^2 / T computed directly (double), W and W_hat [n, k], X [t, k].
inline double direct_output_error(const std::vector<float>& w, const std::vector<float>& w_hat, int64_t n, int64_t k,
                                  const std::vector<float>& x) {
  const int64_t t = static_cast<int64_t>(x.size()) / k;
  double total = 0.0;
  for (int64_t r = 0; r < t; ++r)
    for (int64_t o = 0; o < n; ++o) {
      double y = 0.0;
      for (int64_t j = 0; j < k; ++j)
        y += (static_cast<double>(w[static_cast<size_t>(o * k + j)]) - static_cast<double>(w_hat[static_cast<size_t>(o * k + j)])) *
             static_cast<double>(x[static_cast<size_t>(r * k + j)]);
      total += y * y;
    }
  return total / static_cast<double>(t);
}

using edgec::test::with_threads;

inline bool same_params(const std::vector<GroupParams>& a, const std::vector<GroupParams>& b) {
  if (a.size() != b.size()) return false;
  for (size_t i = 0; i < a.size(); ++i)
    if (std::memcmp(&a[i].scale, &b[i].scale, sizeof(float)) != 0 || a[i].zero != b[i].zero) return false;
  return true;
}

inline bool same_bytes(const QuantizedWeight& a, const QuantizedWeight& b) { return a.codes == b.codes && same_params(a.params, b.params); }

}  // namespace edgec::quant::test
