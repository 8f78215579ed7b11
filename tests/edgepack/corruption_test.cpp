// Damaged and hostile artifacts: every one is an Error(input) with a one-line message naming the file and what
// was expected — a flipped tensor byte (the exact documented checksum message), any flipped header or manifest
// byte, truncation anywhere, bad magic, a newer version, unknown flags, non-zero padding, and manifests that
// reference outside the file or disagree with themselves (rewritten here with a valid manifest checksum).
#include <doctest/doctest.h>

#include <functional>

#include "edgec/core/error.hpp"
#include "edgec/core/sha256.hpp"
#include "edgec/formats/edgepack.hpp"
#include "edgepack/edgepack.pb.h"
#include "edgepack_support.hpp"

using namespace edgec;
using namespace edgec::test::edgepack;
namespace pb = edgec::edgepack::pb;

namespace {

// The message of the Error(input) that reading `file` throws (with checksums verified).
std::string read_error(const fs::path& file) {
  try {
    (void)read_edgepack(file);
  } catch (const Error& error) {
    CHECK(error.category() == ErrorCategory::input);
    const std::string message = error.what();
    CHECK_MESSAGE(message.rfind(file.string() + ": ", 0) == 0, message);
    CHECK_MESSAGE(message.find('\n') == std::string::npos, message);
    return message;
  }
  FAIL("reading " << file.string() << " did not fail");
  return {};
}

bool contains(const std::string& text, const std::string& part) { return text.find(part) != std::string::npos; }

uint64_t get_u64(const std::string& bytes, size_t at) {
  uint64_t value = 0;
  for (size_t i = 0; i < 8; ++i) value |= static_cast<uint64_t>(static_cast<unsigned char>(bytes[at + i])) << (8 * i);
  return value;
}

void put_u32(std::string& bytes, size_t at, uint32_t value) {
  for (size_t i = 0; i < 4; ++i) bytes[at + i] = static_cast<char>(value >> (8 * i));
}

// Rewrites the manifest of `source` with `edit` into `target`, keeping the data area as it is (section offsets
// are relative to it) and giving the new manifest a correct checksum, so only the reader's own checks can object.
void rewrite_manifest(const fs::path& source, const fs::path& target, const std::function<void(pb::Manifest&)>& edit) {
  const std::string bytes = read_bytes(source);
  const uint64_t manifest_size = get_u64(bytes, 16);
  pb::Manifest manifest;
  REQUIRE(manifest.ParseFromArray(bytes.data() + 56, static_cast<int>(manifest_size)));
  const uint64_t old_data = (56 + manifest_size + 63) / 64 * 64;
  edit(manifest);
  std::string encoded;
  REQUIRE(manifest.SerializeToString(&encoded));
  std::string out = bytes.substr(0, 56);
  for (size_t i = 0; i < 8; ++i) out[16 + i] = static_cast<char>(static_cast<uint64_t>(encoded.size()) >> (8 * i));
  const auto digest = sha256(std::as_bytes(std::span(encoded.data(), encoded.size())));
  for (size_t i = 0; i < 32; ++i) out[24 + i] = static_cast<char>(digest[i]);
  out += encoded;
  out.resize((out.size() + 63) / 64 * 64, '\0');
  out += bytes.substr(old_data);
  write_bytes(target, out);
}

struct Artifact {
  ScratchDir dir{"corrupt"};
  fs::path good = dir / "good.edgepack";
  fs::path bad = dir / "bad.edgepack";
  std::string bytes;
  EdgepackInfo info;
  explicit Artifact(EdgepackCompression compression = EdgepackCompression::none, bool small = false) {
    EdgepackExtras extras = synthetic_extras();
    extras.compression = compression;
    Graph graph = synthetic_graph();
    if (small) graph.initializers.erase("w_zeros");  // tests that rewrite the file thousands of times
    write_edgepack(graph, extras, good);
    bytes = read_bytes(good);
    info = inspect_edgepack(good);
  }
  const EdgepackSectionInfo& section(const std::string& name) const {
    for (const auto& s : info.sections)
      if (s.name == name) return s;
    FAIL("no section " << name);
    return info.sections.front();
  }
};

}  // namespace

TEST_CASE("edgepack corruption: one flipped byte in a tensor's data is a checksum mismatch naming file and tensor") {
  for (const auto compression : {EdgepackCompression::none, EdgepackCompression::zstd}) {
    INFO("compression " << compression_name(compression));
    Artifact a(compression);
    const auto& section = a.section("w_large");
    CHECK(section.compression == compression);
    for (const uint64_t at : {section.offset, section.offset + section.stored_size / 2, section.offset + section.stored_size - 1}) {
      std::string damaged = a.bytes;
      damaged[at] = static_cast<char>(damaged[at] ^ 0x01);
      write_bytes(a.bad, damaged);
      const std::string got = sha256_hex(std::string_view(damaged).substr(section.offset, section.stored_size));
      CHECK(read_error(a.bad) == a.bad.string() + ": tensor 'w_large' (section " + std::to_string(section.index) +
                                     "): checksum mismatch (expected " + section.sha256 + ", got " + got + ")");
      // inspect reads no data, so it still lists the artifact.
      CHECK(inspect_edgepack(a.bad).sections.size() == a.info.sections.size());
    }
  }
  // Every section: the first byte of each, files and golden tensors included.
  Artifact a;
  for (const auto& section : a.info.sections) {
    if (section.stored_size == 0) continue;
    std::string damaged = a.bytes;
    damaged[section.offset] = static_cast<char>(damaged[section.offset] ^ 0x80);
    write_bytes(a.bad, damaged);
    const std::string message = read_error(a.bad);
    const std::string noun = section.kind == "file" ? "file '" : "tensor '";
    CHECK_MESSAGE(contains(message, noun + section.name + "' (section " + std::to_string(section.index) + "): checksum mismatch (expected " +
                                        section.sha256 + ", got "),
                  message);
  }
}

TEST_CASE("edgepack corruption: any flipped byte of the header or the manifest is caught") {
  Artifact a(EdgepackCompression::none, true);
  const size_t end = 56 + a.info.manifest_size;
  int version = 0, flags = 0, truncated = 0, checksum = 0;
  for (size_t at = 0; at < end; ++at) {
    std::string damaged = a.bytes;
    damaged[at] = static_cast<char>(damaged[at] ^ (at % 7 == 0 ? 0xff : 0x04));
    write_bytes(a.bad, damaged);
    const std::string message = read_error(a.bad);
    if (at < 8) CHECK_MESSAGE(contains(message, "not an .edgepack file: expected the magic bytes 'EDGEPACK' at offset 0, found '"), message);
    version += contains(message, "format version");
    flags += contains(message, "header flags") || contains(message, "header flag 0x1");
    truncated += contains(message, "truncated");
    checksum += contains(message, "manifest (") && contains(message, "checksum mismatch (expected ");
  }
  CHECK(version > 0);
  CHECK(flags > 0);
  CHECK(truncated > 0);
  CHECK(checksum >= static_cast<int>(a.info.manifest_size));  // every manifest byte, and the digest itself
}

TEST_CASE("edgepack corruption: truncation anywhere is an error saying so") {
  Artifact a;
  for (const size_t size : {size_t{0}, size_t{4}, size_t{8}, size_t{30}, size_t{55}, size_t{56}, size_t{100},
                            static_cast<size_t>(a.info.data_offset), a.bytes.size() / 2, a.bytes.size() - 1}) {
    write_bytes(a.bad, a.bytes.substr(0, size));
    const std::string message = read_error(a.bad);
    CHECK_MESSAGE(contains(message, "truncated: "), size << ": " << message);
  }
  write_bytes(a.bad, a.bytes.substr(0, 30));
  CHECK(read_error(a.bad) == a.bad.string() + ": truncated: the file is 30 bytes, an .edgepack header is 56");
  write_bytes(a.bad, a.bytes.substr(0, a.bytes.size() - 1));
  CHECK(read_error(a.bad) == a.bad.string() + ": truncated: the file is " + std::to_string(a.bytes.size() - 1) +
                                 " bytes, the manifest describes " + std::to_string(a.bytes.size()) + " bytes (data area of " +
                                 std::to_string(a.info.data_size) + " bytes at offset " + std::to_string(a.info.data_offset) + ")");
  write_bytes(a.bad, a.bytes + "x");
  CHECK(contains(read_error(a.bad), "unexpected trailing bytes: the file is " + std::to_string(a.bytes.size() + 1) + " bytes"));
}

TEST_CASE("edgepack corruption: bad magic, newer version, unknown flags, non-zero padding") {
  Artifact a;
  std::string damaged = a.bytes;
  damaged[7] = 'X';
  write_bytes(a.bad, damaged);
  CHECK(read_error(a.bad) == a.bad.string() + ": not an .edgepack file: expected the magic bytes 'EDGEPACK' at offset 0, found 'EDGEPACX'");
  write_bytes(a.bad, std::string("\x08\x07\x12\x04onnx-ish bytes that are not an artifact at all, long enough for a header"));
  CHECK(contains(read_error(a.bad), "found '\\x08\\x07\\x12\\x04onnx'"));

  damaged = a.bytes;
  put_u32(damaged, 8, 2);
  write_bytes(a.bad, damaged);
  CHECK(read_error(a.bad) == a.bad.string() + ": format version 2 is newer than this edgec reads (1): use a newer edgec");
  CHECK_THROWS_AS(inspect_edgepack(a.bad), Error);

  damaged = a.bytes;
  put_u32(damaged, 12, 0x10);
  write_bytes(a.bad, damaged);
  CHECK(read_error(a.bad) == a.bad.string() + ": header flags 0x10 set unknown bits 0x10 (this edgec knows 0x1)");

  // The padding after the manifest (there is some unless the manifest happens to end on a 64-byte boundary)
  // and between sections must be zero.
  const uint64_t manifest_end = 56 + a.info.manifest_size;
  uint64_t gap = manifest_end < a.info.data_offset ? manifest_end : 0;
  for (size_t i = 1; gap == 0 && i < a.info.sections.size(); ++i) {
    const auto& previous = a.info.sections[i - 1];
    if (previous.offset + previous.stored_size < a.info.sections[i].offset) gap = previous.offset + previous.stored_size;
  }
  REQUIRE(gap > 0);
  damaged = a.bytes;
  damaged[gap] = 1;
  write_bytes(a.bad, damaged);
  CHECK(read_error(a.bad) == a.bad.string() + ": padding byte at offset " + std::to_string(gap) + " is not zero");
  // With checksums off the reader trusts the data (and the padding) but still checks structure.
  CHECK_NOTHROW(read_edgepack(a.bad, {.verify_checksums = false}));
}

TEST_CASE("edgepack hostile manifests: references outside the file and self-contradictions are rejected") {
  Artifact a;
  const auto& large = a.section("w_large");
  auto rejected = [&](const std::function<void(pb::Manifest&)>& edit, const std::string& part) {
    rewrite_manifest(a.good, a.bad, edit);
    const std::string message = read_error(a.bad);
    CHECK_MESSAGE(contains(message, part), message);
  };
  // Sanity: an unchanged rewrite reads fine.
  rewrite_manifest(a.good, a.bad, [](pb::Manifest&) {});
  CHECK_NOTHROW(read_edgepack(a.bad));

  rejected([&](pb::Manifest& m) { m.mutable_sections(static_cast<int>(large.index))->set_offset(large.offset - a.info.data_offset + 8); },
           "is not a multiple of 64");
  rejected([&](pb::Manifest& m) { m.mutable_sections(static_cast<int>(large.index))->set_stored_size(uint64_t{1} << 62); },
           "run past the data area");
  rejected([&](pb::Manifest& m) { m.mutable_sections(0)->set_offset(uint64_t{1} << 40); }, "run past the data area");
  rejected([&](pb::Manifest& m) { m.mutable_sections(1)->set_offset(0); }, "overlaps the previous section");
  rejected([&](pb::Manifest& m) { m.set_data_size(m.data_size() + 64); }, "truncated: the file is");
  rejected([&](pb::Manifest& m) { m.mutable_sections(0)->set_sha256("short"); }, "sha256 is 5 bytes, expected 32");
  rejected([&](pb::Manifest& m) { m.mutable_sections(0)->set_compression(static_cast<pb::Compression>(7)); }, "unknown compression 7");
  rejected([&](pb::Manifest& m) { m.mutable_sections(0)->set_size(m.sections(0).stored_size() + 1); }, "uncompressed, but size");
  rejected(
      [&](pb::Manifest& m) {
        auto* s = m.mutable_sections(static_cast<int>(large.index));
        s->set_compression(pb::COMPRESSION_ZSTD);
        s->set_size(uint64_t{1} << 60);
      },
      "zstd bytes cannot hold");

  // Tensor references.
  auto initializer = [](pb::Manifest& m, const std::string& name) -> pb::Tensor& {
    for (auto& t : *m.mutable_graph()->mutable_initializers())
      if (t.name() == name) return t;
    FAIL("no initializer " << name);
    return *m.mutable_graph()->mutable_initializers(0);
  };
  rejected([&](pb::Manifest& m) { initializer(m, "w_large").set_section(100000); }, "refers to section 100000, but there are");
  rejected([&](pb::Manifest& m) { initializer(m, "w_large").set_dims(0, 257); },
           "holds 65536 bytes, but 16448 elements of f32 need 65792");
  rejected([&](pb::Manifest& m) { initializer(m, "w_large").set_dims(0, -1); }, "dims [-1,64] are negative or overflow");
  rejected([&](pb::Manifest& m) { initializer(m, "w_large").set_dtype(static_cast<pb::DataType>(99)); }, "unknown dtype number 99");
  rejected([&](pb::Manifest& m) { initializer(m, "w_large").set_layout("rk3588-nhwc64"); },
           "layout 'rk3588-nhwc64' is not supported (expected 'plain')");
  rejected([&](pb::Manifest& m) { initializer(m, "w_large").set_section(initializer(m, "w_string").section()); }, "w_large");
  rejected([&](pb::Manifest& m) { initializer(m, "w_string").set_dims(0, 4); }, "are not 4 string records");
  rejected([&](pb::Manifest& m) { *m.mutable_graph()->add_initializers() = initializer(m, "w_large"); },
           "initializer 'w_large' appears twice");
  rejected([&](pb::Manifest& m) { m.mutable_graph()->mutable_nodes(3)->set_inputs(0, "nowhere"); }, "reads 'nowhere'");
  rejected([&](pb::Manifest& m) { m.mutable_graph()->mutable_nodes(1)->mutable_attributes(0)->clear_value(); }, "has no value");
  rejected([&](pb::Manifest& m) { m.mutable_files(0)->set_name("../../etc/passwd"); }, "is not a plain file name");
  rejected([&](pb::Manifest& m) { m.mutable_provenance()->mutable_inputs(0)->set_sha256("x"); }, "sha256 is 1 bytes, expected 32");
  rejected([&](pb::Manifest& m) { m.mutable_golden(0)->mutable_tolerances(0)->set_output("missing"); }, "no such output");
  rejected([&](pb::Manifest& m) { m.mutable_graph()->mutable_inputs(0)->mutable_type()->set_kind(static_cast<pb::ValueKind>(42)); },
           "unknown value kind 42");
}

TEST_CASE("edgepack hostile zstd sections: a size the frame does not declare, a damaged frame with checksums off") {
  Artifact a(EdgepackCompression::zstd);
  const auto& zeros = a.section("w_zeros");
  REQUIRE(zeros.compression == EdgepackCompression::zstd);
  CHECK(zeros.stored_size * 100 < zeros.size);  // far beyond what weights compress to
  CHECK_NOTHROW(read_edgepack(a.good));

  rewrite_manifest(a.good, a.bad, [&](pb::Manifest& m) {
    m.mutable_sections(static_cast<int>(zeros.index))->set_size(zeros.size * 2);
    for (auto& t : *m.mutable_graph()->mutable_initializers())
      if (t.name() == "w_zeros") t.set_dims(0, 512);
  });
  CHECK(contains(read_error(a.bad), "tensor 'w_zeros' (section " + std::to_string(zeros.index) + "): the zstd frame holds 262144 bytes, the manifest says 524288"));

  // The frame's magic damaged: with checksums verified that is a checksum mismatch; without, the frame is refused.
  std::string damaged = a.bytes;
  damaged[zeros.offset] = static_cast<char>(damaged[zeros.offset] ^ 0xff);
  write_bytes(a.bad, damaged);
  CHECK(contains(read_error(a.bad), "checksum mismatch"));
  try {
    (void)read_edgepack(a.bad, {.verify_checksums = false});
    FAIL("a damaged zstd frame was accepted");
  } catch (const Error& error) {
    CHECK(error.category() == ErrorCategory::input);
    CHECK_MESSAGE(contains(error.what(), "tensor 'w_zeros' (section " + std::to_string(zeros.index) + "): not a zstd frame"), error.what());
  }
}
