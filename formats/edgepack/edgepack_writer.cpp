// write_edgepack: encode the manifest, lay the sections out (64-byte aligned, zstd where it helps), checksum
// them, then write header, manifest and data through an AtomicFile. Nothing depends on time, addresses or
// hash-map order, so the same graph and extras give the same bytes.
#include <google/protobuf/io/coded_stream.h>
#include <google/protobuf/io/zero_copy_stream_impl_lite.h>

#include "edgec/core/error.hpp"
#include "edgec/core/sha256.hpp"
#include "edgec/formats/edgepack.hpp"
#include "edgepack/atomic_file.hpp"
#include "edgepack/file_header.hpp"
#include "edgepack/manifest_codec.hpp"
#include "edgepack/zstd_codec.hpp"

namespace edgec {
namespace {

namespace ep = edgepack;

std::string serialize_deterministic(const ep::pb::Manifest& manifest) {
  std::string bytes;
  {
    google::protobuf::io::StringOutputStream stream(&bytes);
    google::protobuf::io::CodedOutputStream coded(&stream);
    coded.SetSerializationDeterministic(true);
    if (!manifest.SerializeToCodedStream(&coded)) throw Error(ErrorCategory::internal, "edgepack writer: cannot serialize the manifest");
  }  // the coded stream trims `bytes` to what was written when it goes
  return bytes;
}

std::string digest_bytes(std::span<const std::byte> data) {
  const auto digest = sha256(data);
  return {reinterpret_cast<const char*>(digest.data()), digest.size()};
}

}  // namespace

void write_edgepack(const Graph& graph, const EdgepackExtras& extras, const std::filesystem::path& out) {
  validate_graph(graph, "edgepack writer (" + out.string() + ")");
  std::vector<ep::PendingSection> pending;
  ep::pb::Manifest manifest = ep::encode_manifest(graph, extras, pending);

  // Section layout. Compressed frames are kept in memory until written; uncompressed sections are written
  // straight from the tensors' own (possibly mapped) bytes.
  std::vector<std::vector<std::byte>> frames(pending.size());
  std::vector<std::span<const std::byte>> stored(pending.size());
  uint64_t cursor = 0;
  uint32_t flags = 0;
  for (size_t i = 0; i < pending.size(); ++i) {
    stored[i] = pending[i].bytes;
    auto* section = manifest.add_sections();
    section->set_compression(ep::pb::COMPRESSION_NONE);
    if (extras.compression == EdgepackCompression::zstd) {
      auto frame = ep::zstd_compress(pending[i].bytes);
      if (frame.size() < pending[i].bytes.size()) {  // else stored plain: compression must pay for itself
        frames[i] = std::move(frame);
        stored[i] = frames[i];
        section->set_compression(ep::pb::COMPRESSION_ZSTD);
        flags |= ep::kFlagZstd;
      }
    }
    cursor = ep::align_up(cursor);
    section->set_offset(cursor);
    section->set_stored_size(stored[i].size());
    section->set_size(pending[i].bytes.size());
    section->set_sha256(digest_bytes(stored[i]));
    cursor += stored[i].size();
  }
  manifest.set_data_size(cursor);

  const std::string manifest_bytes = serialize_deterministic(manifest);
  ep::FileHeader header;
  header.version = kEdgepackFormatVersion;
  header.flags = flags;
  header.manifest_size = manifest_bytes.size();
  header.manifest_sha256 = sha256(std::as_bytes(std::span(manifest_bytes.data(), manifest_bytes.size())));
  const uint64_t data_offset = ep::data_offset_for(manifest_bytes.size());

  ep::AtomicFile file(out);
  file.write(ep::encode_header(header));
  file.write(std::as_bytes(std::span(manifest_bytes.data(), manifest_bytes.size())));
  file.write_zeros(data_offset - file.written());
  for (int i = 0; i < manifest.sections_size(); ++i) {
    file.write_zeros(data_offset + manifest.sections(i).offset() - file.written());
    file.write(stored[static_cast<size_t>(i)]);
  }
  if (file.written() != data_offset + cursor) throw Error(ErrorCategory::internal, "edgepack writer: layout and bytes written disagree");
  file.commit();
}

}  // namespace edgec
