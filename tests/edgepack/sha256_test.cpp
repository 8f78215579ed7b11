// SHA-256 against the FIPS 180-4 examples (NIST's "SHA256.pdf" / FIPS 180-2 appendix B vectors), streaming in
// uneven chunks, and sha256_file.
#include <doctest/doctest.h>

#include <array>
#include <string>
#include <vector>

#include "edgec/core/error.hpp"
#include "edgec/core/sha256.hpp"
#include "edgepack_support.hpp"

using namespace edgec;

TEST_CASE("sha256: FIPS 180-4 test vectors") {
  CHECK(sha256_hex(std::string_view("")) == "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
  CHECK(sha256_hex(std::string_view("abc")) == "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
  // The 448-bit message: its padding spills into a second block.
  CHECK(sha256_hex(std::string_view("abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq")) ==
        "248d6a61d20638b8e5c026930c3e6039a33ce45964ff2167f6ecedd419db06c1");
  // The 896-bit message.
  CHECK(sha256_hex(std::string_view("abcdefghbcdefghicdefghijdefghijkefghijklfghijklmghijklmnhijklmnoijklmnopjklmnopqklmnopqrlmnopqrs"
                                    "mnopqrstnopqrstu")) == "cf5b16a778af8380036ce59e7b0492370b249b11e8f07a51afac45037afee9d1");
  // One million 'a'.
  CHECK(sha256_hex(std::string(1000000, 'a')) == "cdc76e5c9914fb9281a1c7e284d73e67f1809a48a497200e046d39ccc7112cd0");
}

TEST_CASE("sha256: padding boundaries 55, 56, 63, 64 and 65 bytes agree between one call and byte-by-byte updates") {
  // Reference digests of 'a' * n, from the one-shot path; the streaming path must give the same.
  for (const size_t n : {size_t{55}, size_t{56}, size_t{63}, size_t{64}, size_t{65}, size_t{127}, size_t{128}}) {
    const std::string text(n, 'a');
    Sha256 hasher;
    for (const char c : text) hasher.update(std::string_view(&c, 1));
    CHECK_MESSAGE(to_hex(hasher.final()) == sha256_hex(text), n);
  }
  // Known value at the 64-byte boundary.
  CHECK(sha256_hex(std::string(64, 'a')) == "ffe054fe7ae0cb6dc65c3af9b61d5209f439851db43d0ba5997337df154668eb");
}

TEST_CASE("sha256: streaming in uneven chunks, reuse after final, and sha256_file") {
  std::string text;
  for (int i = 0; i < 5000; ++i) text += static_cast<char>((i * 7 + 3) & 0xff);
  const std::string expected = sha256_hex(text);
  Sha256 hasher;
  size_t at = 0;
  for (size_t chunk = 1; at < text.size(); chunk = chunk * 3 % 97 + 1) {
    const size_t take = std::min(chunk, text.size() - at);
    hasher.update(std::string_view(text).substr(at, take));
    at += take;
  }
  CHECK(to_hex(hasher.final()) == expected);
  // final() resets: the same hasher hashes the next message from scratch.
  hasher.update(std::string_view("abc"));
  CHECK(to_hex(hasher.final()) == "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");

  edgec::test::edgepack::ScratchDir dir("sha256");
  const auto file = dir / "data.bin";
  edgec::test::edgepack::write_bytes(file, text);
  CHECK(sha256_file(file) == expected);
  edgec::test::edgepack::write_bytes(file, "");
  CHECK(sha256_file(file) == "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");

  try {
    (void)sha256_file(dir / "missing.bin");
    FAIL("expected an error for a missing file");
  } catch (const Error& error) {
    CHECK(error.category() == ErrorCategory::input);
    CHECK(std::string(error.what()).find("missing.bin") != std::string::npos);
  }
}

TEST_CASE("sha256: the SHA-extension block function equals the portable one (when the CPU has it)") {
  std::vector<uint8_t> blocks(64 * 37);
  uint32_t x = 12345;
  for (auto& b : blocks) {
    x = x * 1664525u + 1013904223u;
    b = static_cast<uint8_t>(x >> 24);
  }
  for (const size_t count : {size_t{1}, size_t{2}, size_t{37}}) {
    std::array<uint32_t, 8> portable{0x6a09e667, 0xbb67ae85, 0x3c6ef372, 0xa54ff53a, 0x510e527f, 0x9b05688c, 0x1f83d9ab, 0x5be0cd19};
    std::array<uint32_t, 8> accelerated = portable;
    sha256_detail::compress_portable(portable, blocks.data(), count);
    if (!sha256_detail::compress_accelerated(accelerated, blocks.data(), count)) {
      MESSAGE("no SHA extensions on this CPU: only the portable block function is tested");
      return;
    }
    CHECK_MESSAGE(portable == accelerated, count << " blocks");
  }
}
