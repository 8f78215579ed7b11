// edgec::QuantLayout and the packed bit stream (libcore quant_layout.hpp): pack_code / unpack_code round trips
// for every supported width over random codes and odd row lengths, hand-checked bytes, and the size helpers.
#include <doctest/doctest.h>

#include <cstdint>
#include <vector>

#include "edgec/core/quant_layout.hpp"
#include "quant_test_helpers.hpp"

using namespace edgec;
using edgec::quant::test::Random;

namespace {

std::vector<uint8_t> pack_row(const std::vector<int>& codes, int bits) {
  QuantLayout layout;
  layout.bits = bits;
  layout.in_features = static_cast<int64_t>(codes.size());
  std::vector<uint8_t> row(static_cast<size_t>(layout.row_bytes()), 0);
  for (size_t k = 0; k < codes.size(); ++k) pack_code(row.data(), bits, static_cast<int64_t>(k), codes[k]);
  return row;
}

}  // namespace

TEST_CASE("pack_code / unpack_code round trip for bits 2, 3, 4, 8 and odd row lengths") {
  Random rng(7);
  for (const int bits : {2, 3, 4, 8}) {
    for (const int64_t k : {int64_t{1}, int64_t{2}, int64_t{7}, int64_t{8}, int64_t{33}, int64_t{172}, int64_t{1001}}) {
      CAPTURE(bits);
      CAPTURE(k);
      QuantLayout layout;
      layout.bits = bits;
      layout.in_features = k;
      layout.out_features = 3;
      const int64_t row_bytes = layout.row_bytes();
      CHECK(row_bytes == (k * bits + 7) / 8);
      // Three rows back to back plus a guard byte: every row must start on its own byte boundary and no
      // write may spill into the next row or past the end.
      std::vector<uint8_t> buffer(static_cast<size_t>(3 * row_bytes + 1), 0);
      std::vector<int> codes(static_cast<size_t>(3 * k));
      for (int64_t row = 0; row < 3; ++row)
        for (int64_t c = 0; c < k; ++c) {
          // Row 1 is all max codes (every bit set), so an overrun would show in row 2 / the guard.
          const int code = row == 1 ? layout.max_code() : rng.integer(0, layout.max_code());
          codes[static_cast<size_t>(row * k + c)] = code;
          pack_code(buffer.data() + row * row_bytes, bits, c, code);
        }
      for (int64_t row = 0; row < 3; ++row)
        for (int64_t c = 0; c < k; ++c)
          REQUIRE(unpack_code(buffer.data() + row * row_bytes, bits, c) == codes[static_cast<size_t>(row * k + c)]);
      CHECK(buffer.back() == 0);
      // Bits of a row past its last code stay zero.
      const int used = static_cast<int>((k * bits) % 8);
      if (used != 0) {
        const uint8_t last = buffer[static_cast<size_t>(2 * row_bytes - 1)];  // row 1: all ones
        CHECK(last == static_cast<uint8_t>((1u << used) - 1u));
      }
    }
  }
}

TEST_CASE("pack_code: out-of-range codes are masked to the width") {
  std::vector<uint8_t> row(2, 0);
  pack_code(row.data(), 4, 0, 0x1F);  // only the low 4 bits count
  pack_code(row.data(), 4, 1, 0x02);
  CHECK(row[0] == 0x2F);
  CHECK(row[1] == 0x00);
}

TEST_CASE("4-bit codes: two per byte, low nibble first") {
  const auto row = pack_row({1, 2, 3, 4, 15, 0, 9}, 4);
  REQUIRE(row.size() == 4);
  CHECK(row[0] == 0x21);
  CHECK(row[1] == 0x43);
  CHECK(row[2] == 0x0F);
  CHECK(row[3] == 0x09);
  CHECK(unpack_code(row.data(), 4, 4) == 15);
  CHECK(unpack_code(row.data(), 4, 6) == 9);
}

TEST_CASE("2-, 3- and 8-bit codes: little-endian bit stream") {
  CHECK(pack_row({0, 1, 2, 3}, 2) == std::vector<uint8_t>{0xE4});
  CHECK(pack_row({3, 0, 1}, 2) == std::vector<uint8_t>{0x13});
  // 8 codes of 3 bits fill 3 bytes; code 2 straddles bytes 0 and 1, code 5 bytes 1 and 2.
  CHECK(pack_row({0, 1, 2, 3, 4, 5, 6, 7}, 3) == std::vector<uint8_t>{0x88, 0xC6, 0xFA});
  CHECK(pack_row({7, 0, 5, 2, 6, 1, 3, 4, 7}, 3) == std::vector<uint8_t>{0x47, 0xE5, 0x8C, 0x07});
  CHECK(pack_row({0x12, 0xFF, 0x00, 0x80}, 8) == std::vector<uint8_t>{0x12, 0xFF, 0x00, 0x80});
}

TEST_CASE("QuantLayout: row_bytes, groups, codes and zero points") {
  QuantLayout layout;
  layout.bits = 3;
  layout.in_features = 172;
  layout.group_size = 32;
  CHECK(layout.row_bytes() == 65);  // 516 bits
  CHECK(layout.groups() == 6);      // 5 full groups and one of 12
  layout.group_size = 172;
  CHECK(layout.groups() == 1);
  layout.group_size = 1;
  CHECK(layout.groups() == 172);
  layout.bits = 4;
  layout.in_features = 7;
  CHECK(layout.row_bytes() == 4);
  layout.bits = 2;
  CHECK(layout.row_bytes() == 2);
  layout.bits = 8;
  CHECK(layout.row_bytes() == 7);
  CHECK(layout.max_code() == 255);
  CHECK(layout.symmetric_zero() == 128);
  layout.bits = 2;
  CHECK(layout.max_code() == 3);
  CHECK(layout.symmetric_zero() == 2);
  for (int bits = 0; bits <= 9; ++bits)
    CHECK(quant_bits_supported(bits) == (bits == 2 || bits == 3 || bits == 4 || bits == 8));
}
