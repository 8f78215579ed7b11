#include <doctest/doctest.h>

#include <bit>
#include <cmath>
#include <limits>

#include "edgec/core/dtype.hpp"

using namespace edgec;

TEST_CASE("f16 -> f32 -> f16 round-trips every non-NaN half exactly") {
  int checked = 0;
  for (uint32_t bits = 0; bits <= 0xffff; ++bits) {
    const auto h = static_cast<uint16_t>(bits);
    const float f = f16_to_f32(h);
    if (std::isnan(f)) continue;
    REQUIRE(f32_to_f16(f) == h);
    ++checked;
  }
  CHECK(checked == 65536 - 2046);  // 2 * (2^10 - 1) NaN encodings
}

TEST_CASE("f16 known values, subnormals and rounding") {
  CHECK(f16_to_f32(0x3c00) == 1.0f);
  CHECK(f16_to_f32(0xc000) == -2.0f);
  CHECK(f16_to_f32(0x7bff) == 65504.0f);
  CHECK(f16_to_f32(0x0001) == std::ldexp(1.0f, -24));  // smallest subnormal
  CHECK(f32_to_f16(65520.0f) == 0x7c00);               // rounds up to infinity
  CHECK(f32_to_f16(1.0f + std::ldexp(1.0f, -11)) == 0x3c00);  // tie to even stays at 1.0
  CHECK(f32_to_f16(1.0f + 3 * std::ldexp(1.0f, -11)) == 0x3c02);  // tie to even rounds up
  CHECK(f32_to_f16(std::ldexp(1.0f, -26)) == 0x0000);   // below half the smallest subnormal
  CHECK(std::isinf(f16_to_f32(f32_to_f16(std::numeric_limits<float>::infinity()))));
  CHECK(std::isnan(f16_to_f32(f32_to_f16(std::numeric_limits<float>::quiet_NaN()))));
}

TEST_CASE("bf16 conversions round to nearest even and keep NaN") {
  CHECK(bf16_to_f32(0x3f80) == 1.0f);
  CHECK(f32_to_bf16(1.0f) == 0x3f80);
  CHECK(f32_to_bf16(std::bit_cast<float>(0x3f808000u)) == 0x3f80);  // tie, even stays
  CHECK(f32_to_bf16(std::bit_cast<float>(0x3f818000u)) == 0x3f82);  // tie, odd rounds up
  CHECK(f32_to_bf16(std::bit_cast<float>(0x3f808001u)) == 0x3f81);
  CHECK(std::isnan(bf16_to_f32(f32_to_bf16(std::numeric_limits<float>::quiet_NaN()))));
}

TEST_CASE("storage sizes: packed 4-bit, overflow and variable-size types") {
  CHECK(dtype_storage_bytes(DType::i4, 7) == 4u);
  CHECK(dtype_storage_bytes(DType::u4, 8) == 4u);
  CHECK(dtype_storage_bytes(DType::f32, 10) == 40u);
  CHECK(dtype_storage_bytes(DType::bf16, 3) == 6u);
  CHECK_FALSE(dtype_storage_bytes(DType::f64, uint64_t{1} << 62).has_value());
  CHECK_FALSE(dtype_storage_bytes(DType::string, 4).has_value());
  CHECK(dtype_bits(DType::i4) == 4);
  CHECK(dtype_from_name("bf16") == DType::bf16);
  CHECK_FALSE(dtype_from_name("float17").has_value());
  CHECK(dtype_is_float(DType::f16));
  CHECK_FALSE(dtype_is_float(DType::i8));
  CHECK(dtype_is_integer(DType::u4));
}
