#pragma once
// The group-wise quantized weight layout shared by libquant (which writes it) and the runtime's quantized
// kernels (which read it). Spec: docs/quantization.md, "Packed weight layout".
//
// A weight W [N out, K in] is cut along K into groups of `group_size` columns (the last group may be
// shorter when group_size does not divide K; group_size == K is per output channel). Each element is an
// unsigned code q in [0, 2^bits - 1] and dequantizes as
//     w[n, k] = (q[n, k] - z[n, g]) * s[n, g],   g = k / group_size
// with s the group's scale and z its integer zero point (symmetric: z = 2^(bits-1) for every group).
// Codes of one row are a little-endian bit stream, `bits` bits per code, code k at bit k*bits; every row
// starts on a byte boundary, so a row holds row_bytes() bytes. For 4 bits that is two codes per byte, low
// nibble first (as ONNX and GGUF); for 3 bits, 8 codes fill 3 bytes.
#include <cstddef>
#include <cstdint>
#include <span>

namespace edgec {

struct QuantLayout {
  int bits = 4;               // 2, 3, 4 or 8
  int64_t group_size = 32;    // columns per group; == in_features for per-channel
  int64_t out_features = 0;   // N
  int64_t in_features = 0;    // K
  bool symmetric = false;     // symmetric: implicit zero point 2^(bits-1), no zeros tensor

  int64_t groups() const { return (in_features + group_size - 1) / group_size; }
  int64_t row_bytes() const { return (in_features * bits + 7) / 8; }
  int max_code() const { return (1 << bits) - 1; }
  int symmetric_zero() const { return 1 << (bits - 1); }
};

// Whether `bits` is one the layout supports (2, 3, 4, 8).
constexpr bool quant_bits_supported(int bits) { return bits == 2 || bits == 3 || bits == 4 || bits == 8; }

// Code k of a packed row.
inline int unpack_code(const uint8_t* row, int bits, int64_t k) {
  const int64_t bit = k * bits;
  const int64_t byte = bit >> 3;
  const int shift = static_cast<int>(bit & 7);
  // A code spans at most two bytes (bits <= 8); read the second only when needed, so a row's last byte
  // is never overrun.
  unsigned value = row[byte] >> shift;
  if (shift + bits > 8) value |= static_cast<unsigned>(row[byte + 1]) << (8 - shift);
  return static_cast<int>(value & ((1u << bits) - 1u));
}

// Writes code k of a packed row (the row must be zero-initialised before the first write).
inline void pack_code(uint8_t* row, int bits, int64_t k, int code) {
  const int64_t bit = k * bits;
  const int64_t byte = bit >> 3;
  const int shift = static_cast<int>(bit & 7);
  const unsigned value = static_cast<unsigned>(code) & ((1u << bits) - 1u);
  row[byte] = static_cast<uint8_t>(row[byte] | (value << shift));
  if (shift + bits > 8) row[byte + 1] = static_cast<uint8_t>(row[byte + 1] | (value >> (8 - shift)));
}

}  // namespace edgec
