#include "edgepack/container.hpp"

#include <algorithm>
#include <climits>
#include <cstdint>
#include <cstdio>
#include <cstring>

#include "edgec/core/error.hpp"
#include "edgec/core/sha256.hpp"
#include "edgec/formats/edgepack.hpp"
#include "edgepack/manifest_codec.hpp"
#include "edgepack/zstd_codec.hpp"

namespace edgec::edgepack {
namespace {

std::string printable(std::span<const std::byte> bytes) {
  std::string text;
  for (const std::byte b : bytes) {
    const auto c = static_cast<unsigned char>(b);
    if (c >= 0x20 && c < 0x7f && c != '\\') {
      text += static_cast<char>(c);
    } else {
      char escaped[5];
      std::snprintf(escaped, sizeof(escaped), "\\x%02x", c);
      text += escaped;
    }
  }
  return text;
}

std::string hex_flags(uint32_t flags) {
  char text[16];
  std::snprintf(text, sizeof(text), "0x%x", flags);
  return text;
}

std::string hex_digest(const std::string& bytes) {
  return to_hex({reinterpret_cast<const uint8_t*>(bytes.data()), bytes.size()});
}

}  // namespace

Container Container::open(const std::filesystem::path& path) {
  Container c;
  c.where_ = path.string();
  c.file_ = MappedFile::open(path);
  const auto bytes = c.file_->bytes();
  const std::string& where = c.where_;

  // Header: magic first (the most useful message for a file that is not an artifact at all), then size.
  const auto start = bytes.first(std::min(bytes.size(), kMagic.size()));
  const bool magic_prefix = std::equal(start.begin(), start.end(), kMagic.begin(),
                                       [](std::byte b, char m) { return static_cast<char>(b) == m; });
  if (!magic_prefix || start.size() < kMagic.size()) {
    if (magic_prefix)
      throw_input_error(where, "truncated: the file is " + std::to_string(bytes.size()) + " bytes, an .edgepack header is " +
                                   std::to_string(kHeaderSize));
    throw_input_error(where, "not an .edgepack file: expected the magic bytes 'EDGEPACK' at offset 0, found '" +
                                 printable(start) + "'");
  }
  if (bytes.size() < kHeaderSize)
    throw_input_error(where, "truncated: the file is " + std::to_string(bytes.size()) + " bytes, an .edgepack header is " +
                                 std::to_string(kHeaderSize));
  c.header_ = decode_header(bytes.first<kHeaderSize>());
  const FileHeader& h = c.header_;
  if (h.version == 0) throw_input_error(where, "format version 0 is invalid (expected " + std::to_string(kEdgepackFormatVersion) + ")");
  if (h.version > kEdgepackFormatVersion)
    throw_input_error(where, "format version " + std::to_string(h.version) + " is newer than this edgec reads (" +
                                 std::to_string(kEdgepackFormatVersion) + "): use a newer edgec");
  if ((h.flags & ~kKnownFlags) != 0)
    throw_input_error(where, "header flags " + hex_flags(h.flags) + " set unknown bits " + hex_flags(h.flags & ~kKnownFlags) +
                                 " (this edgec knows " + hex_flags(kKnownFlags) + ")");

  // Manifest: in range, its checksum, then parseable.
  const uint64_t after_header = bytes.size() - kHeaderSize;
  if (h.manifest_size > after_header)
    throw_input_error(where, "truncated: the header announces a manifest of " + std::to_string(h.manifest_size) +
                                 " bytes, but only " + std::to_string(after_header) + " bytes follow the header");
  if (h.manifest_size > static_cast<uint64_t>(INT_MAX))
    throw_input_error(where, "manifest of " + std::to_string(h.manifest_size) + " bytes exceeds the 2 GiB protobuf limit");
  const auto manifest_bytes = bytes.subspan(kHeaderSize, static_cast<size_t>(h.manifest_size));
  const auto actual = sha256(manifest_bytes);
  if (actual != h.manifest_sha256)
    throw_input_error(where, "manifest (" + std::to_string(h.manifest_size) + " bytes at offset " + std::to_string(kHeaderSize) +
                                 "): checksum mismatch (expected " + to_hex(h.manifest_sha256) + ", got " + to_hex(actual) + ")");
  if (!c.manifest_.ParseFromArray(manifest_bytes.data(), static_cast<int>(manifest_bytes.size())))
    throw_input_error(where, "manifest (" + std::to_string(h.manifest_size) + " bytes at offset " + std::to_string(kHeaderSize) +
                                 ") is not a valid edgepack Manifest protobuf");

  // The data area ends the file exactly.
  c.data_offset_ = data_offset_for(h.manifest_size);
  const auto& m = c.manifest_;
  const uint64_t data_size = m.data_size();
  if (data_size > UINT64_MAX - c.data_offset_ || c.data_offset_ + data_size != bytes.size()) {
    const bool longer = data_size <= UINT64_MAX - c.data_offset_ && c.data_offset_ + data_size < bytes.size();
    const std::string expected = data_size > UINT64_MAX - c.data_offset_ ? std::string("an impossible size")
                                                                         : std::to_string(c.data_offset_ + data_size) + " bytes";
    throw_input_error(where, std::string(longer ? "unexpected trailing bytes" : "truncated") + ": the file is " +
                                 std::to_string(bytes.size()) + " bytes, the manifest describes " + expected +
                                 " (data area of " + std::to_string(data_size) + " bytes at offset " +
                                 std::to_string(c.data_offset_) + ")");
  }

  // Section table: aligned, in order, inside the data area, sizes consistent with the compression.
  uint64_t previous_end = 0;
  bool any_zstd = false;
  for (int i = 0; i < m.sections_size(); ++i) {
    const auto& s = m.sections(i);
    const std::string what = "manifest: section " + std::to_string(i);
    if (s.offset() % kAlignment != 0)
      throw_input_error(where, what + ": offset " + std::to_string(s.offset()) + " is not a multiple of " + std::to_string(kAlignment));
    if (s.offset() < previous_end)
      throw_input_error(where, what + ": offset " + std::to_string(s.offset()) + " overlaps the previous section (ends at " +
                                   std::to_string(previous_end) + ")");
    if (s.stored_size() > data_size || s.offset() > data_size - s.stored_size())
      throw_input_error(where, what + ": " + std::to_string(s.stored_size()) + " bytes at offset " + std::to_string(s.offset()) +
                                   " run past the data area (" + std::to_string(data_size) + " bytes)");
    if (s.sha256().size() != 32)
      throw_input_error(where, what + ": sha256 is " + std::to_string(s.sha256().size()) + " bytes, expected 32");
    if (s.compression() == pb::COMPRESSION_NONE) {
      if (s.size() != s.stored_size())
        throw_input_error(where, what + ": uncompressed, but size " + std::to_string(s.size()) + " != stored_size " +
                                     std::to_string(s.stored_size()));
    } else if (s.compression() == pb::COMPRESSION_ZSTD) {
      any_zstd = true;
      if (s.size() / kZstdMaxRatio > s.stored_size())
        throw_input_error(where, what + ": " + std::to_string(s.stored_size()) + " zstd bytes cannot hold " +
                                     std::to_string(s.size()) + " bytes");
    } else {
      throw_input_error(where, what + ": unknown compression " + std::to_string(s.compression()) + " (this edgec knows none=0, zstd=1)");
    }
    previous_end = s.offset() + s.stored_size();
  }
  if (previous_end != data_size)
    throw_input_error(where, "manifest: data area is " + std::to_string(data_size) + " bytes but its sections end at " +
                                 std::to_string(previous_end));
  if (any_zstd != ((h.flags & kFlagZstd) != 0))
    throw_input_error(where, std::string("header flag 0x1 (zstd sections present) is ") + (any_zstd ? "clear" : "set") +
                                 " but the manifest has " + (any_zstd ? "" : "no ") + "zstd sections");
  return c;
}

std::string Container::describe(uint32_t index, const std::string& what) const {
  return what + " (section " + std::to_string(index) + ")";
}

const pb::Section& Container::section(uint32_t index, const std::string& what) const {
  if (index >= static_cast<uint32_t>(manifest_.sections_size()))
    throw_input_error(where_, "manifest: " + what + " refers to section " + std::to_string(index) + ", but there are " +
                                  std::to_string(manifest_.sections_size()));
  return manifest_.sections(static_cast<int>(index));
}

std::span<const std::byte> Container::stored_bytes(uint32_t index) const {
  const auto& s = manifest_.sections(static_cast<int>(index));
  return file_->bytes().subspan(static_cast<size_t>(data_offset_ + s.offset()), static_cast<size_t>(s.stored_size()));
}

void Container::verify_checksum(uint32_t index, const std::string& what) const {
  const auto& s = section(index, what);
  const auto actual = sha256(stored_bytes(index));
  if (std::string(reinterpret_cast<const char*>(actual.data()), actual.size()) != s.sha256())
    throw_input_error(where_, describe(index, what) + ": checksum mismatch (expected " + hex_digest(s.sha256()) + ", got " +
                                  to_hex(actual) + ")");
}

void Container::verify_padding() const {
  const auto bytes = file_->bytes();
  auto check = [&](uint64_t from, uint64_t to) {
    for (uint64_t at = from; at < to; ++at)
      if (bytes[static_cast<size_t>(at)] != std::byte{0})
        throw_input_error(where_, "padding byte at offset " + std::to_string(at) + " is not zero");
  };
  uint64_t end = kHeaderSize + header_.manifest_size;
  for (const auto& s : manifest_.sections()) {
    check(end, data_offset_ + s.offset());
    end = data_offset_ + s.offset() + s.stored_size();
  }
  check(end, data_offset_ + manifest_.data_size());
}

void Container::check_tensor_size(uint32_t index, DType dtype, int64_t elements, const std::string& what) const {
  const auto& s = section(index, what);
  if (dtype == DType::string) return;  // records are checked once the bytes are at hand
  const auto needed = dtype_storage_bytes(dtype, static_cast<uint64_t>(elements));
  if (!needed || *needed != s.size())
    throw_input_error(where_, "manifest: " + describe(index, what) + " holds " + std::to_string(s.size()) + " bytes, but " +
                                  std::to_string(elements) + " elements of " + std::string(dtype_name(dtype)) + " need " +
                                  (needed ? std::to_string(*needed) : std::string("an impossible size")));
}

std::vector<std::byte> Container::decompress(uint32_t index, const std::string& what) const {
  const auto& s = section(index, what);
  return zstd_decompress(stored_bytes(index), s.size(), where_, describe(index, what));
}

Tensor Container::tensor(uint32_t index, DType dtype, std::vector<int64_t> dims, const std::string& what) const {
  const auto elements = element_count(dims).value_or(0);
  check_tensor_size(index, dtype, elements, what);
  const auto& s = section(index, what);
  auto check_strings = [&](std::span<const std::byte> raw) {
    if (dtype == DType::string && !string_records_valid(raw, elements))
      throw_input_error(where_, describe(index, what) + ": bytes are not " + std::to_string(elements) +
                                    " string records (u32 length + bytes each)");
  };
  if (s.compression() == pb::COMPRESSION_NONE) {
    check_strings(stored_bytes(index));
    return Tensor::view(dtype, std::move(dims), file_, static_cast<size_t>(data_offset_ + s.offset()), static_cast<size_t>(s.size()));
  }
  auto raw = decompress(index, what);
  check_strings(raw);
  return Tensor::owning(dtype, std::move(dims), std::move(raw));
}

std::string Container::bytes_of(uint32_t index, const std::string& what) const {
  const auto& s = section(index, what);
  if (s.compression() == pb::COMPRESSION_NONE) {
    const auto raw = stored_bytes(index);
    return {reinterpret_cast<const char*>(raw.data()), raw.size()};
  }
  const auto raw = decompress(index, what);
  return {reinterpret_cast<const char*>(raw.data()), raw.size()};
}

}  // namespace edgec::edgepack
