// read_edgepack and load_edgepack_model: open the container, decode the manifest with a TensorSource that
// checks each section (size, checksum, zstd frame) the first time a tensor uses it, then validate the graph.
#include <map>
#include <set>

#include "edgec/core/error.hpp"
#include "edgec/formats/edgepack.hpp"
#include "edgepack/container.hpp"
#include "edgepack/manifest_codec.hpp"

namespace edgec {
namespace {

namespace ep = edgepack;

class CheckedSource final : public ep::TensorSource {
 public:
  CheckedSource(const ep::Container& container, bool verify) : container_(container), verify_(verify) {}

  Tensor tensor(uint32_t section, DType dtype, std::vector<int64_t> dims, const std::string& label, const char* /*kind*/) override {
    const std::string what = "tensor '" + label + "'";
    container_.section(section, what);  // range check before anything else
    if (verify_ && verified_.insert(section).second) container_.verify_checksum(section, what);
    // A section several tensors share is decompressed once: copies of a Tensor share its bytes.
    if (const auto it = decompressed_.find(section); it != decompressed_.end() && it->second.dtype() == dtype && it->second.dims() == dims)
      return it->second;
    Tensor tensor = container_.tensor(section, dtype, std::move(dims), what);
    if (!tensor.is_view()) decompressed_.emplace(section, tensor);
    return tensor;
  }

  std::string file(uint32_t section, const std::string& label) override {
    const std::string what = "file '" + label + "'";
    container_.section(section, what);
    if (verify_ && verified_.insert(section).second) container_.verify_checksum(section, what);
    return container_.bytes_of(section, what);
  }

 private:
  const ep::Container& container_;
  bool verify_;
  std::set<uint32_t> verified_;  // a section shared by several tensors is hashed once
  std::map<uint32_t, Tensor> decompressed_;
};

}  // namespace

EdgepackContents read_edgepack(const std::filesystem::path& path, const EdgepackReadOptions& options) {
  const auto container = ep::Container::open(path);
  if (options.verify_checksums) container.verify_padding();
  CheckedSource source(container, options.verify_checksums);
  EdgepackContents contents;
  contents.graph = ep::decode_graph(container.manifest().graph(), source, container.where());
  contents.extras = ep::decode_extras(container.manifest(), source, container.where());
  contents.extras.compression = (container.header().flags & ep::kFlagZstd) ? EdgepackCompression::zstd : EdgepackCompression::none;
  validate_graph(contents.graph, container.where());
  return contents;
}

Model load_edgepack_model(const std::filesystem::path& path) {
  auto contents = read_edgepack(path);
  Model model;
  model.format = "edgepack";
  model.architecture = contents.extras.model.architecture;
  model.source = path;
  model.files = {path};
  model.graphs.push_back(std::move(contents.graph));
  model.components = std::move(contents.extras.model.components);
  model.metadata = std::move(contents.extras.model.metadata);
  return model;
}

EdgepackModelInfo edgepack_model_info(const Model& model) {
  return {model.architecture, model.components, model.metadata};
}

std::string_view compression_name(EdgepackCompression compression) {
  return compression == EdgepackCompression::zstd ? "zstd" : "none";
}

}  // namespace edgec
