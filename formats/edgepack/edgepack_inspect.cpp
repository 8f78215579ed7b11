// inspect_edgepack and read_edgepack_file: the header and manifest of an artifact (checked like read_edgepack
// checks them) without touching tensor data; one carried file on its own.
#include "edgec/core/error.hpp"
#include "edgec/core/sha256.hpp"
#include "edgec/formats/edgepack.hpp"
#include "edgepack/container.hpp"
#include "edgepack/manifest_codec.hpp"

namespace edgec {
namespace {

namespace ep = edgepack;

// Records what each section holds instead of loading it; tensors come back empty.
class ListingSource final : public ep::TensorSource {
 public:
  ListingSource(const ep::Container& container, std::vector<EdgepackSectionInfo>& sections)
      : container_(container), sections_(sections) {}

  Tensor tensor(uint32_t section, DType dtype, std::vector<int64_t> dims, const std::string& label, const char* kind) override {
    const std::string what = "tensor '" + label + "'";
    container_.check_tensor_size(section, dtype, element_count(dims).value_or(0), what);
    name(section, label, kind, dtype, std::move(dims));
    return {};
  }

  std::string file(uint32_t section, const std::string& label) override {
    container_.section(section, "file '" + label + "'");
    name(section, label, ep::kKindFile, DType::undefined, {});
    return {};
  }

 private:
  void name(uint32_t section, const std::string& label, const char* kind, DType dtype, std::vector<int64_t> dims) {
    auto& info = sections_.at(section);
    if (!info.name.empty()) return;  // shared: listed under its first user
    info.name = label;
    info.kind = kind;
    info.dtype = dtype;
    info.dims = std::move(dims);
  }

  const ep::Container& container_;
  std::vector<EdgepackSectionInfo>& sections_;
};

}  // namespace

EdgepackInfo inspect_edgepack(const std::filesystem::path& path) {
  const auto container = ep::Container::open(path);
  const auto& manifest = container.manifest();
  EdgepackInfo info;
  info.format_version = container.header().version;
  info.flags = container.header().flags;
  info.file_size = container.file_size();
  info.manifest_size = container.header().manifest_size;
  info.manifest_sha256 = to_hex(container.header().manifest_sha256);
  info.data_offset = container.data_offset();
  info.data_size = manifest.data_size();
  for (int i = 0; i < manifest.sections_size(); ++i) {
    const auto& s = manifest.sections(i);
    EdgepackSectionInfo section;
    section.index = static_cast<uint32_t>(i);
    section.offset = container.data_offset() + s.offset();
    section.stored_size = s.stored_size();
    section.size = s.size();
    section.compression = s.compression() == ep::pb::COMPRESSION_ZSTD ? EdgepackCompression::zstd : EdgepackCompression::none;
    section.sha256 = to_hex({reinterpret_cast<const uint8_t*>(s.sha256().data()), s.sha256().size()});
    info.sections.push_back(std::move(section));
  }
  ListingSource source(container, info.sections);
  const Graph graph = ep::decode_graph(manifest.graph(), source, container.where());
  const EdgepackExtras extras = ep::decode_extras(manifest, source, container.where());
  info.graph_name = graph.name;
  info.nodes = static_cast<int64_t>(graph.nodes.size());
  info.model = extras.model;
  info.target = extras.target;
  info.provenance = extras.provenance;
  for (const auto& sample : extras.golden) info.golden_samples.push_back(sample.name);
  for (const auto& [name, content] : extras.files) info.files.push_back(name);
  return info;
}

std::string read_edgepack_file(const std::filesystem::path& path, const std::string& name) {
  const auto container = ep::Container::open(path);
  for (const auto& file : container.manifest().files()) {
    if (file.name() != name) continue;
    const std::string what = "file '" + name + "'";
    container.verify_checksum(file.section(), what);
    return container.bytes_of(file.section(), what);
  }
  throw_input_error(container.where(), "carries no file '" + name + "'");
}

}  // namespace edgec
