#pragma once
// NumPy .npy files (format versions 1-3): little-endian f32 f64 f16 i8 u8 i16 u16 i32 u32 i64 u64 bool,
// C order. Used by `edgec run` for inputs and outputs.
#include <filesystem>

#include "edgec/core/tensor.hpp"

namespace edgec::npy {

// Throws Error(input) naming the file and what is wrong (magic, header dict, dtype, fortran order, size).
Tensor read(const std::filesystem::path& file);
// Writes a version-1 file (version 2 when the header needs it).
void write(const std::filesystem::path& file, const Tensor& tensor);

}  // namespace edgec::npy
