#pragma once
// Conversion between the IR (Graph + EdgepackExtras) and the protobuf manifest. Tensor bytes never enter the
// manifest: the encoder hands each tensor's bytes out as a pending section, the decoder asks a TensorSource for
// the bytes of each tensor it meets. Both walk the manifest in the same order and name sections the same way
// (docs/edgepack.md, "Section order" and "Section names").
#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <vector>

#include "edgec/formats/edgepack.hpp"
#include "edgepack/edgepack.pb.h"

namespace edgec::edgepack {

// Section kinds, as `edgec inspect` prints them.
inline constexpr const char* kKindInitializer = "initializer";
inline constexpr const char* kKindAttribute = "attribute";
inline constexpr const char* kKindGoldenInput = "golden input";
inline constexpr const char* kKindGoldenOutput = "golden output";
inline constexpr const char* kKindFile = "file";

struct PendingSection {
  std::span<const std::byte> bytes;  // views storage owned by the graph / extras being written
  std::string label;
  std::string kind;
};

// IR -> manifest (without sections, data_size; the writer fills them from `sections`, one per tensor and file,
// in the order returned). Throws Error(internal) for values the format cannot hold (a null subgraph, a tensor
// without dtype, a bad file name, a sha256 that is not 64 hex digits).
pb::Manifest encode_manifest(const Graph& graph, const EdgepackExtras& extras, std::vector<PendingSection>& sections);

// Where the decoder gets tensor and file bytes; it has already checked dtype, dims and layout.
class TensorSource {
 public:
  TensorSource() = default;
  TensorSource(const TensorSource&) = delete;
  TensorSource& operator=(const TensorSource&) = delete;
  virtual ~TensorSource() = default;
  virtual Tensor tensor(uint32_t section, DType dtype, std::vector<int64_t> dims, const std::string& label,
                        const char* kind) = 0;
  virtual std::string file(uint32_t section, const std::string& label) = 0;
};

// Manifest -> IR. Throws Error(input) starting with `where` (the file) for anything malformed: unknown enum
// values, negative dims, duplicate names, unsupported layouts, files with unsafe names.
Graph decode_graph(const pb::Graph& proto, TensorSource& source, const std::string& where);
EdgepackExtras decode_extras(const pb::Manifest& manifest, TensorSource& source, const std::string& where);

// DType <-> the format's numbering (stable, independent of the C++ enum order).
pb::DataType to_proto(DType dtype);
std::optional<DType> from_proto(int value);

// Whether `bytes` are exactly `elements` string records (u32 little-endian length, then that many bytes).
bool string_records_valid(std::span<const std::byte> bytes, int64_t elements);

// Section names (docs/edgepack.md, "Section names"). `prefix` is "" in the top-level graph and
// "<attribute label>/" inside a subgraph.
std::string node_label(const std::string& node_name, size_t node_index);
std::string attribute_label(const std::string& prefix, const std::string& node, const std::string& attribute,
                            std::optional<size_t> list_index = std::nullopt);
std::string golden_label(const std::string& sample, const std::string& value);

// A carried file's name is one plain path component: not empty, ".", ".." and without '/', '\\' or NUL.
bool file_name_valid(const std::string& name);

}  // namespace edgec::edgepack
