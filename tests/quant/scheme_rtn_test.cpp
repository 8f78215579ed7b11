// libquant schemes and round-to-nearest: fit_group's guarantees (zero exactly representable, codes in range,
// symmetric zero point, f16-exact scales), quantize_rtn's error bound, dequantize(), pack() against hand-computed
// bytes, the MSE clipping search never losing to min/max, and validate_scheme's errors.
#include <doctest/doctest.h>

#include <algorithm>
#include <cmath>
#include <cstring>
#include <string>
#include <vector>

#include "edgec/core/dtype.hpp"
#include "edgec/core/error.hpp"
#include "edgec/quant/rtn.hpp"
#include "edgec/quant/scheme.hpp"
#include "quant_test_helpers.hpp"

using namespace edgec;
using namespace edgec::quant;
using edgec::quant::test::Random;

namespace {

WeightScheme make_scheme(int bits, int64_t group, bool symmetric, DType scale_dtype = DType::f32) {
  WeightScheme scheme;
  scheme.bits = bits;
  scheme.group_size = group;
  scheme.symmetric = symmetric;
  scheme.scale_dtype = scale_dtype;
  return scheme;
}

// Groups of assorted shapes: mixed sign, all positive, all negative, all zero, one value, tiny, outliers.
std::vector<std::vector<float>> sample_groups(uint64_t seed) {
  Random rng(seed);
  std::vector<std::vector<float>> groups;
  for (int i = 0; i < 60; ++i) {
    const size_t count = static_cast<size_t>(rng.integer(1, 70));
    std::vector<float> g = rng.normals(count, 0.05 + rng.uniform());
    if (i % 6 == 1) for (float& v : g) v = std::fabs(v) + 0.1f;
    if (i % 6 == 2) for (float& v : g) v = -std::fabs(v) - 0.3f;
    if (i % 6 == 3) g[0] *= 25.0f;  // an outlier
    if (i % 6 == 4) for (float& v : g) v *= 1e-3f;
    groups.push_back(g);
  }
  groups.push_back(std::vector<float>(16, 0.0f));
  groups.push_back({0.75f});
  groups.push_back({-2.0f});
  groups.push_back(std::vector<float>(8, 3.0f));
  return groups;
}

double squared_error(const std::vector<float>& values, GroupParams params, int max_code) {
  double error = 0.0;
  for (float v : values) {
    const double d = static_cast<double>(v) - static_cast<double>(dequantize_code(quantize_value(v, params, max_code), params));
    error += d * d;
  }
  return error;
}

// |w - deq(q(w))| for a value inside the group's range: half a step, plus float rounding (of the scale as computed
// in f32, times up to max_code steps).
double error_bound(GroupParams p, int max_code) { return static_cast<double>(p.scale) * (0.5 + 1e-6 + max_code * 1.2e-7); }

// The smallest f16 value >= x (x > 0).
float f16_at_or_above(float x) {
  const uint16_t bits = f32_to_f16(x);
  return f16_to_f32(bits) >= x ? f16_to_f32(bits) : f16_to_f32(static_cast<uint16_t>(bits + 1));
}

std::vector<uint8_t> bytes_of(const std::vector<std::byte>& bytes) {
  std::vector<uint8_t> out(bytes.size());
  std::memcpy(out.data(), bytes.data(), bytes.size());
  return out;
}

}  // namespace

TEST_CASE("fit_group asymmetric: the range contains 0, zero is exact, codes stay in range, error <= scale/2") {
  for (const DType dtype : {DType::f32, DType::f16})
    for (const int bits : {2, 3, 4, 8}) {
      CAPTURE(bits);
      CAPTURE(dtype_name(dtype));
      const WeightScheme scheme = make_scheme(bits, 0, false, dtype);
      const int max_code = (1 << bits) - 1;
      for (const auto& group : sample_groups(static_cast<uint64_t>(bits))) {
        const GroupParams p = fit_group(group.data(), static_cast<int64_t>(group.size()), scheme);
        REQUIRE(p.scale > 0.0f);
        CHECK(p.zero >= 0);
        CHECK(p.zero <= max_code);
        // 0 is a grid point: w = 0 quantizes to the zero point and dequantizes to exactly 0.
        CHECK(quantize_value(0.0f, p, max_code) == p.zero);
        CHECK(dequantize_code(quantize_value(0.0f, p, max_code), p) == 0.0f);
        if (dtype == DType::f16) CHECK(f16_to_f32(f32_to_f16(p.scale)) == p.scale);
        float lo = 0.0f, hi = 0.0f;
        for (float v : group) {
          lo = std::min(lo, v);
          hi = std::max(hi, v);
        }
        if (hi > lo) {
          // The min/max scale (before the dtype rounding) is (hi - lo) / max_code; f16 rounds it up (to the next
          // f16: 2^-10 relative for normal values, 2^-24 absolute for subnormals).
          const double exact = (static_cast<double>(hi) - lo) / max_code;
          CHECK(p.scale >= exact * (1.0 - 1e-6));
          if (dtype == DType::f16) CHECK(p.scale <= exact * (1.0 + 1.0 / 1024) + std::ldexp(1.0, -24));
          else CHECK(p.scale <= exact * (1.0 + 1e-6));
        }
        for (float v : group) {
          const int q = quantize_value(v, p, max_code);
          CHECK(q >= 0);
          CHECK(q <= max_code);
          CHECK(std::fabs(static_cast<double>(v) - dequantize_code(q, p)) <= error_bound(p, max_code));
        }
      }
    }
}

TEST_CASE("fit_group symmetric: zero = 2^(bits-1), scale = 2 max|w| / max_code") {
  for (const int bits : {2, 3, 4, 8}) {
    CAPTURE(bits);
    const WeightScheme scheme = make_scheme(bits, 0, true);
    const int max_code = (1 << bits) - 1;
    for (const auto& group : sample_groups(100 + static_cast<uint64_t>(bits))) {
      const GroupParams p = fit_group(group.data(), static_cast<int64_t>(group.size()), scheme);
      CHECK(p.zero == (1 << (bits - 1)));
      double bound = 0.0;
      for (float v : group) bound = std::max(bound, std::fabs(static_cast<double>(v)));
      if (bound > 0.0) CHECK(p.scale == doctest::Approx(2.0 * bound / max_code).epsilon(1e-6));
      else CHECK(p.scale == 1.0f);
      CHECK(dequantize_code(quantize_value(0.0f, p, max_code), p) == 0.0f);
      for (float v : group)
        CHECK(std::fabs(static_cast<double>(v) - dequantize_code(quantize_value(v, p, max_code), p)) <= error_bound(p, max_code));
    }
  }
}

TEST_CASE("fit_group: f16 scales are exactly representable, tiny ranges keep a positive scale") {
  const WeightScheme scheme = make_scheme(4, 0, false, DType::f16);
  const std::vector<float> tiny{1e-9f, -2e-9f, 0.0f};  // (hi - lo) / 15 underflows f16
  const GroupParams p = fit_group(tiny.data(), 3, scheme);
  CHECK(p.scale > 0.0f);
  CHECK(f16_to_f32(f32_to_f16(p.scale)) == p.scale);
  CHECK(dequantize_code(quantize_value(0.0f, p, 15), p) == 0.0f);
  // 0.1 / 15 is not an f16 value: the stored one is the next f16 up, and the zero point is chosen for it.
  const std::vector<float> values{-0.04f, 0.06f};
  const GroupParams q = fit_group(values.data(), 2, scheme);
  CHECK(q.scale == f16_at_or_above(0.1f / 15.0f));
  CHECK(q.scale > 0.1f / 15.0f);
  CHECK(q.zero == static_cast<int>(std::nearbyint(0.04f / q.scale)));
  // Regression: rounding the scale to the nearest f16 could shrink the grid below the group's range. At 8 bits
  // with a subnormal f16 scale (any range below 255 * 2^-14) the extreme values were clipped by several steps.
  for (const bool symmetric : {false, true}) {
    CAPTURE(symmetric);
    WeightScheme w8 = make_scheme(8, 0, symmetric, DType::f16);
    std::vector<float> small(64);
    for (size_t i = 0; i < small.size(); ++i) small[i] = -0.0041f + 0.0103f * static_cast<float>(i) / 63.0f;
    const GroupParams fit = fit_group(small.data(), 64, w8);
    CHECK(fit.scale < std::ldexp(1.0f, -14));  // subnormal
    double worst = 0.0;
    for (float v : small) worst = std::max(worst, std::fabs(static_cast<double>(v) - dequantize_code(quantize_value(v, fit, 255), fit)));
    CHECK(worst <= error_bound(fit, 255));
  }
}

TEST_CASE("quantize_rtn on hand values: half-to-even rounding, ragged groups") {
  // Per channel, 2 bits, f32 scales.
  //  row 0: [-1, 0, 0.5, 2]   -> range [-1, 2], scale 1, zero 1, codes 0 1 1 3 (0.5 rounds to even 0)
  //  row 1: [0, 1.5, 2.5, -0.5] -> range [-0.5, 2.5], scale 1, zero round(0.5) = 0, codes 0 2 2 0
  const std::vector<float> w{-1.0f, 0.0f, 0.5f, 2.0f, 0.0f, 1.5f, 2.5f, -0.5f};
  const QuantizedWeight q = quantize_rtn(w.data(), 2, 4, make_scheme(2, 0, false));
  CHECK(q.layout.group_size == 4);
  CHECK(q.layout.groups() == 1);
  CHECK(q.codes == std::vector<uint8_t>{0, 1, 1, 3, 0, 2, 2, 0});
  CHECK(q.param(0, 0).scale == 1.0f);
  CHECK(q.param(0, 0).zero == 1);
  CHECK(q.param(1, 0).scale == 1.0f);
  CHECK(q.param(1, 0).zero == 0);
  CHECK(q.dequantize() == std::vector<float>{-1.0f, 0.0f, 0.0f, 2.0f, 0.0f, 2.0f, 2.0f, 0.0f});

  // Symmetric 4 bits: bound 3 -> scale 0.4, zero 8; 1.2 / 0.4 = 3 -> code 11.
  const std::vector<float> s{-3.0f, 1.2f, 0.0f, 2.0f};
  const QuantizedWeight qs = quantize_rtn(s.data(), 1, 4, make_scheme(4, 0, true));
  CHECK(qs.param(0, 0).zero == 8);
  CHECK(qs.param(0, 0).scale == doctest::Approx(0.4).epsilon(1e-7));
  CHECK(qs.codes[1] == 11);
  CHECK(qs.codes[2] == 8);
  CHECK(qs.codes[3] == 13);

  // Group size 3 over K = 7: groups [0,3), [3,6), [6,7) fitted separately.
  const std::vector<float> g{0.0f, 3.0f, 1.0f, -6.0f, 0.0f, 0.0f, 7.0f};
  const QuantizedWeight qg = quantize_rtn(g.data(), 1, 7, make_scheme(2, 3, false));
  REQUIRE(qg.layout.groups() == 3);
  CHECK(qg.param(0, 0).scale == 1.0f);
  CHECK(qg.param(0, 0).zero == 0);
  CHECK(qg.param(0, 1).scale == 2.0f);
  CHECK(qg.param(0, 1).zero == 3);
  CHECK(qg.param(0, 2).scale == doctest::Approx(7.0 / 3.0));
  CHECK(qg.param(0, 2).zero == 0);
  CHECK(qg.codes == std::vector<uint8_t>{0, 3, 1, 0, 3, 3, 3});
  const auto d = qg.dequantize();
  CHECK(d[1] == 3.0f);
  CHECK(d[3] == -6.0f);
  CHECK(d[6] == doctest::Approx(7.0));
}

TEST_CASE("quantize_rtn: every element within scale/2 of its weight, dequantize() matches the formula") {
  Random rng(11);
  for (const int bits : {2, 3, 4, 8})
    for (const int64_t group : {int64_t{0}, int64_t{16}, int64_t{32}, int64_t{50}})
      for (const bool symmetric : {false, true})
        for (const DType dtype : {DType::f32, DType::f16}) {
          CAPTURE(bits);
          CAPTURE(group);
          CAPTURE(symmetric);
          CAPTURE(dtype_name(dtype));
          const int64_t n = 5, k = 131;
          std::vector<float> w = rng.normals(static_cast<size_t>(n * k), 0.1);
          w[17] = 1.5f;  // an outlier
          const WeightScheme scheme = make_scheme(bits, group, symmetric, dtype);
          const QuantizedWeight q = quantize_rtn(w.data(), n, k, scheme);
          const int64_t g = scheme.group_for(k);
          REQUIRE(q.layout.group_size == g);
          REQUIRE(q.layout.bits == bits);
          REQUIRE(q.layout.symmetric == symmetric);
          REQUIRE(q.params.size() == static_cast<size_t>(n * ((k + g - 1) / g)));
          const auto deq = q.dequantize();
          double worst = 0.0;
          for (int64_t r = 0; r < n; ++r)
            for (int64_t c = 0; c < k; ++c) {
              const size_t at = static_cast<size_t>(r * k + c);
              const GroupParams p = q.param(r, c / g);
              REQUIRE(q.codes[at] <= q.layout.max_code());
              if (symmetric) REQUIRE(p.zero == (1 << (bits - 1)));
              if (dtype == DType::f16) REQUIRE(f16_to_f32(f32_to_f16(p.scale)) == p.scale);
              REQUIRE(deq[at] == static_cast<float>(q.codes[at] - p.zero) * p.scale);
              worst = std::max(worst, std::fabs(static_cast<double>(w[at]) - deq[at]) / p.scale);
            }
          CHECK(worst <= error_bound(GroupParams{1.0f, 0}, q.layout.max_code()));
        }
}

TEST_CASE("pack: hand-computed qweight, scales and zeros") {
  WeightScheme scheme = make_scheme(4, 2, false, DType::f16);
  QuantizedWeight q = make_quantized_weight(scheme, 2, 5);  // groups [0,2) [2,4) [4,5)
  REQUIRE(q.layout.groups() == 3);
  REQUIRE(q.layout.row_bytes() == 3);
  q.codes = {1, 2, 3, 4, 5, 15, 0, 7, 8, 9};
  const float scales[6] = {0.5f, 1.0f, 2.0f, 0.25f, -1.5f, 65504.0f};
  for (size_t i = 0; i < 6; ++i) q.params[i] = GroupParams{scales[i], static_cast<int>(i) + 3};

  const PackedWeight f16 = pack(q, DType::f16);
  CHECK(f16.qweight == std::vector<uint8_t>{0x21, 0x43, 0x05, 0x0F, 0x87, 0x09});
  // f16 little-endian: 0.5 = 0x3800, 1 = 0x3C00, 2 = 0x4000, 0.25 = 0x3400, -1.5 = 0xBE00, 65504 = 0x7BFF.
  CHECK(bytes_of(f16.scales) == std::vector<uint8_t>{0x00, 0x38, 0x00, 0x3C, 0x00, 0x40, 0x00, 0x34, 0x00, 0xBE, 0xFF, 0x7B});
  CHECK(f16.zeros == std::vector<uint8_t>{3, 4, 5, 6, 7, 8});

  const PackedWeight f32 = pack(q, DType::f32);
  CHECK(f32.qweight == f16.qweight);
  REQUIRE(f32.scales.size() == 24);
  for (size_t i = 0; i < 6; ++i) {
    float value;
    std::memcpy(&value, f32.scales.data() + 4 * i, 4);
    CHECK(value == scales[i]);
  }

  // Symmetric: no zeros tensor. 3 bits, K = 5: 15 bits -> 2 bytes per row.
  scheme = make_scheme(3, 0, true, DType::f32);
  QuantizedWeight s = make_quantized_weight(scheme, 1, 5);
  s.codes = {7, 0, 5, 2, 6};
  s.params[0] = GroupParams{1.0f, 4};
  const PackedWeight sp = pack(s, DType::f32);
  CHECK(sp.zeros.empty());
  CHECK(sp.qweight == std::vector<uint8_t>{0x47, 0x65});
}

TEST_CASE("RTN with the MSE clip search never has a higher squared error than min/max") {
  Random rng(5);
  for (const int bits : {2, 3, 4, 8})
    for (const bool symmetric : {false, true}) {
      CAPTURE(bits);
      CAPTURE(symmetric);
      const WeightScheme scheme = make_scheme(bits, 0, symmetric, DType::f16);
      RtnOptions options;
      options.mse_clip = true;
      int improved = 0;
      for (int i = 0; i < 150; ++i) {
        std::vector<float> group = rng.normals(static_cast<size_t>(rng.integer(8, 64)), 0.02);
        if (i % 3 == 0) group[static_cast<size_t>(rng.integer(0, static_cast<int>(group.size()) - 1))] *= 20.0f;  // outlier
        const int64_t count = static_cast<int64_t>(group.size());
        const GroupParams plain = fit_group(group.data(), count, scheme);
        const GroupParams searched = fit_group_searched(group.data(), count, scheme, options);
        const double plain_error = squared_error(group, plain, (1 << bits) - 1);
        const double searched_error = squared_error(group, searched, (1 << bits) - 1);
        CHECK(searched_error <= plain_error * (1.0 + 1e-9));
        if (searched_error < plain_error * 0.999) ++improved;
        CHECK(searched.scale <= plain.scale);  // it only ever shrinks the range
      }
      // The search is not a no-op: low bit widths clip most groups.
      if (bits <= 4) CHECK(improved > 20);
      // Without mse_clip it is exactly the min/max fit.
      const std::vector<float> group = rng.normals(40, 0.3);
      const GroupParams a = fit_group_searched(group.data(), 40, scheme, RtnOptions{});
      const GroupParams b = fit_group(group.data(), 40, scheme);
      CHECK(a.scale == b.scale);
      CHECK(a.zero == b.zero);
    }
}

TEST_CASE("quantize_rtn with mse_clip uses the searched parameters per group") {
  Random rng(9);
  const int64_t n = 4, k = 96;
  std::vector<float> w = rng.normals(static_cast<size_t>(n * k), 0.05);
  for (int64_t r = 0; r < n; ++r) w[static_cast<size_t>(r * k + 3 * r)] = 1.0f;
  const WeightScheme scheme = make_scheme(3, 32, false, DType::f16);
  RtnOptions options;
  options.mse_clip = true;
  const QuantizedWeight q = quantize_rtn(w.data(), n, k, scheme, options);
  const QuantizedWeight plain = quantize_rtn(w.data(), n, k, scheme);
  for (int64_t r = 0; r < n; ++r)
    for (int64_t g = 0; g < 3; ++g) {
      const GroupParams expected = fit_group_searched(w.data() + r * k + g * 32, 32, scheme, options);
      CHECK(q.param(r, g).scale == expected.scale);
      CHECK(q.param(r, g).zero == expected.zero);
    }
  double clipped = 0.0, minmax = 0.0;
  const auto dq = q.dequantize(), dp = plain.dequantize();
  for (size_t i = 0; i < w.size(); ++i) {
    clipped += (w[i] - dq[i]) * (w[i] - dq[i]);
    minmax += (w[i] - dp[i]) * (w[i] - dp[i]);
  }
  CHECK(clipped < minmax);
}

TEST_CASE("validate_scheme: unsupported schemes are usage errors naming the layer") {
  const auto category_of = [](const WeightScheme& scheme) {
    try {
      validate_scheme(scheme, "layer 'x.weight'");
    } catch (const Error& e) {
      CHECK(std::string(e.what()).find("layer 'x.weight'") != std::string::npos);
      return static_cast<int>(e.category());
    }
    return 0;
  };
  const int usage = static_cast<int>(ErrorCategory::usage);
  CHECK(category_of(make_scheme(5, 32, false)) == usage);
  CHECK(category_of(make_scheme(1, 32, false)) == usage);
  CHECK(category_of(make_scheme(16, 32, false)) == usage);
  CHECK(category_of(make_scheme(4, -1, false)) == usage);
  CHECK(category_of(make_scheme(4, 32, false, DType::bf16)) == usage);
  WeightScheme a8 = make_scheme(4, 0, true);
  a8.activations = ActivationMode::int8_dynamic;
  CHECK(category_of(a8) == usage);
  a8.activations = ActivationMode::int8_static;
  CHECK(category_of(a8) == usage);
  a8.bits = 8;
  CHECK(category_of(a8) == 0);
  for (const int bits : {2, 3, 4, 8}) CHECK(category_of(make_scheme(bits, 0, false, DType::f16)) == 0);
  CHECK(describe(make_scheme(4, 128, false, DType::f16)) == "w4 g128 asym f16-scales");
  a8.activations = ActivationMode::int8_dynamic;
  CHECK(describe(a8) == "w8 per-channel sym f32-scales a8-per-token");
  CHECK(make_scheme(4, 128, false).group_for(64) == 64);
  CHECK(make_scheme(4, 0, false).group_for(64) == 64);
  CHECK(make_scheme(4, 32, false).group_for(64) == 32);
}
