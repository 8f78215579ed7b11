#pragma once
// Element types of the IR. 4-bit types are packed two to a byte (low nibble first), as in ONNX and GGUF.
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace edgec {

enum class DType : uint8_t {
  undefined,
  f32, f16, bf16, f64,
  i8, u8, i16, u16, i32, u32, i64, u64,
  boolean,
  i4, u4,
  f8e4m3fn, f8e4m3fnuz, f8e5m2, f8e5m2fnuz,
  complex64, complex128,
  string,  // ONNX string tensors: stored as a sequence of (u32 length, bytes) records
};

std::string_view dtype_name(DType dtype);
std::optional<DType> dtype_from_name(std::string_view name);

// Bits per element: 4 for i4/u4, 0 for undefined and string (variable size).
int dtype_bits(DType dtype);
bool dtype_is_float(DType dtype);
bool dtype_is_integer(DType dtype);

// Bytes needed for `elements` elements (4-bit types round up to whole bytes). Returns nullopt on overflow
// or for variable-size types, so callers can reject absurd headers before allocating anything.
std::optional<uint64_t> dtype_storage_bytes(DType dtype, uint64_t elements);

// Scalar conversions used by importers and kernels.
float f16_to_f32(uint16_t bits);
uint16_t f32_to_f16(float value);
float bf16_to_f32(uint16_t bits);
uint16_t f32_to_bf16(float value);  // round to nearest even

}  // namespace edgec
