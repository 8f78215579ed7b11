#include "edgec/core/dtype.hpp"

#include <array>
#include <bit>
#include <cstring>
#include <limits>

namespace edgec {
namespace {

struct DTypeInfo {
  DType dtype;
  std::string_view name;
  int bits;
};

constexpr std::array kInfo{
    DTypeInfo{DType::undefined, "undefined", 0}, DTypeInfo{DType::f32, "f32", 32},
    DTypeInfo{DType::f16, "f16", 16},            DTypeInfo{DType::bf16, "bf16", 16},
    DTypeInfo{DType::f64, "f64", 64},            DTypeInfo{DType::i8, "i8", 8},
    DTypeInfo{DType::u8, "u8", 8},               DTypeInfo{DType::i16, "i16", 16},
    DTypeInfo{DType::u16, "u16", 16},            DTypeInfo{DType::i32, "i32", 32},
    DTypeInfo{DType::u32, "u32", 32},            DTypeInfo{DType::i64, "i64", 64},
    DTypeInfo{DType::u64, "u64", 64},            DTypeInfo{DType::boolean, "bool", 8},
    DTypeInfo{DType::i4, "i4", 4},               DTypeInfo{DType::u4, "u4", 4},
    DTypeInfo{DType::f8e4m3fn, "f8e4m3fn", 8},   DTypeInfo{DType::f8e4m3fnuz, "f8e4m3fnuz", 8},
    DTypeInfo{DType::f8e5m2, "f8e5m2", 8},       DTypeInfo{DType::f8e5m2fnuz, "f8e5m2fnuz", 8},
    DTypeInfo{DType::complex64, "complex64", 64}, DTypeInfo{DType::complex128, "complex128", 128},
    DTypeInfo{DType::string, "string", 0},
};

const DTypeInfo& info(DType dtype) {
  for (const auto& entry : kInfo)
    if (entry.dtype == dtype) return entry;
  return kInfo[0];
}

}  // namespace

std::string_view dtype_name(DType dtype) { return info(dtype).name; }

std::optional<DType> dtype_from_name(std::string_view name) {
  for (const auto& entry : kInfo)
    if (entry.name == name) return entry.dtype;
  return std::nullopt;
}

int dtype_bits(DType dtype) { return info(dtype).bits; }

bool dtype_is_float(DType dtype) {
  switch (dtype) {
    case DType::f32: case DType::f16: case DType::bf16: case DType::f64:
    case DType::f8e4m3fn: case DType::f8e4m3fnuz: case DType::f8e5m2: case DType::f8e5m2fnuz:
      return true;
    default:
      return false;
  }
}

bool dtype_is_integer(DType dtype) {
  switch (dtype) {
    case DType::i8: case DType::u8: case DType::i16: case DType::u16: case DType::i32:
    case DType::u32: case DType::i64: case DType::u64: case DType::i4: case DType::u4:
      return true;
    default:
      return false;
  }
}

std::optional<uint64_t> dtype_storage_bytes(DType dtype, uint64_t elements) {
  const int bits = dtype_bits(dtype);
  if (bits == 0) return std::nullopt;
  if (bits == 4) return elements / 2 + elements % 2;
  const uint64_t bytes_per = static_cast<uint64_t>(bits) / 8;
  if (elements > std::numeric_limits<uint64_t>::max() / bytes_per) return std::nullopt;
  return elements * bytes_per;
}

float f16_to_f32(uint16_t h) {
  const uint32_t sign = static_cast<uint32_t>(h & 0x8000u) << 16;
  uint32_t exponent = (h >> 10) & 0x1fu;
  uint32_t mantissa = h & 0x3ffu;
  uint32_t bits;
  if (exponent == 0) {
    if (mantissa == 0) {
      bits = sign;
    } else {  // subnormal: normalise
      exponent = 127 - 15 + 1;
      while ((mantissa & 0x400u) == 0) {
        mantissa <<= 1;
        --exponent;
      }
      mantissa &= 0x3ffu;
      bits = sign | (exponent << 23) | (mantissa << 13);
    }
  } else if (exponent == 0x1f) {
    bits = sign | 0x7f800000u | (mantissa << 13);
  } else {
    bits = sign | ((exponent + 127 - 15) << 23) | (mantissa << 13);
  }
  return std::bit_cast<float>(bits);
}

uint16_t f32_to_f16(float value) {
  const uint32_t x = std::bit_cast<uint32_t>(value);
  const uint32_t sign = (x >> 16) & 0x8000u;
  const uint32_t abs = x & 0x7fffffffu;
  if (abs >= 0x7f800000u) return static_cast<uint16_t>(sign | 0x7c00u | (abs > 0x7f800000u ? 0x200u : 0u));
  if (abs >= 0x477ff000u) return static_cast<uint16_t>(sign | 0x7c00u);  // rounds to infinity
  if (abs < 0x38800000u) {  // subnormal or zero in f16
    if (abs < 0x33000000u) return static_cast<uint16_t>(sign);
    const uint32_t exponent = abs >> 23;
    const uint32_t mantissa = (abs & 0x7fffffu) | 0x800000u;
    const uint32_t shift = 126 - exponent;  // 14..24
    uint32_t result = mantissa >> shift;
    const uint32_t rem = mantissa & ((1u << shift) - 1u);
    const uint32_t half = 1u << (shift - 1);
    if (rem > half || (rem == half && (result & 1u))) ++result;
    return static_cast<uint16_t>(sign | result);
  }
  uint32_t result = ((abs >> 23) - 112) << 10 | ((abs >> 13) & 0x3ffu);
  const uint32_t rem = abs & 0x1fffu;
  if (rem > 0x1000u || (rem == 0x1000u && (result & 1u))) ++result;
  return static_cast<uint16_t>(sign | result);
}

float bf16_to_f32(uint16_t bits) { return std::bit_cast<float>(static_cast<uint32_t>(bits) << 16); }

uint16_t f32_to_bf16(float value) {
  const uint32_t x = std::bit_cast<uint32_t>(value);
  if ((x & 0x7fffffffu) > 0x7f800000u) return static_cast<uint16_t>((x >> 16) | 0x40u);  // quiet NaN
  const uint32_t rounding = 0x7fffu + ((x >> 16) & 1u);
  return static_cast<uint16_t>((x + rounding) >> 16);
}

}  // namespace edgec
