#pragma once
// The .edgepack artifact: one file holding a graph, its tensors (64-byte aligned, optionally zstd-compressed per
// section, each with a SHA-256), the target profile, provenance, golden samples and small metadata files
// (config.json, tokenizer files). Byte-by-byte specification: docs/edgepack.md.
//
// Writing is deterministic (same inputs, same bytes) and atomic (a temporary file in the same folder, fsync,
// rename). Reading maps the file: uncompressed tensors are views of the mapping, used in place; every checksum
// is verified before a tensor is handed out, and anything malformed is an Error(input) naming the file.
#include <cstdint>
#include <filesystem>
#include <map>
#include <string>
#include <vector>

#include "edgec/core/graph.hpp"
#include "edgec/core/model.hpp"

namespace edgec {

inline constexpr uint32_t kEdgepackFormatVersion = 1;

enum class EdgepackCompression { none, zstd };

struct EdgepackTarget {
  std::string device;                             // e.g. "rk3588"; "" when no target was given
  std::map<std::string, std::string> properties;  // the device profile's key/values
};

struct EdgepackInputFile {
  std::string role;    // "model", "calibration", ...
  std::string path;    // as given on the command line / in the recipe
  std::string sha256;  // 64 lowercase hex digits (sha256_file)
};

struct EdgepackProvenance {
  std::string edgec_version;
  std::string recipe;  // the full recipe text
  std::vector<EdgepackInputFile> inputs;
};

struct GoldenTolerance {
  double abs = 0.0;
  double rel = 0.0;
};

// Inputs fed to the graph and the outputs it must reproduce, within per-output tolerances.
struct GoldenSample {
  std::string name;
  std::map<std::string, Tensor> inputs;
  std::map<std::string, Tensor> outputs;
  std::map<std::string, GoldenTolerance> tolerances;  // by output name
};

// What an importer knew about the model, so load_model of an artifact returns what it did for the source.
struct EdgepackModelInfo {
  std::string architecture;
  std::vector<Component> components;
  std::map<std::string, std::string> metadata;
};

struct EdgepackExtras {
  EdgepackModelInfo model;
  EdgepackTarget target;
  EdgepackProvenance provenance;
  std::vector<GoldenSample> golden;
  std::map<std::string, std::string> files;  // plain file name -> bytes (config.json, tok512.bin, ...)
  // Writing only: how to store sections. zstd keeps a section uncompressed when compression would not shrink it.
  EdgepackCompression compression = EdgepackCompression::none;
};

struct EdgepackContents {
  Graph graph;  // uncompressed tensors view the file's mapping; compressed ones own their decompressed bytes
  EdgepackExtras extras;  // extras.compression: zstd when any section is compressed
};

struct EdgepackReadOptions {
  bool verify_checksums = true;  // off: trust the sections (ranges and sizes are still checked)
};

// One section as `edgec inspect` lists it.
struct EdgepackSectionInfo {
  uint32_t index = 0;
  std::string name;  // the tensor or file it holds, see docs/edgepack.md "Section names"
  std::string kind;  // "initializer", "attribute", "golden input", "golden output" or "file"
  DType dtype = DType::undefined;  // undefined for files
  std::vector<int64_t> dims;
  uint64_t offset = 0;       // absolute, in the file
  uint64_t stored_size = 0;  // bytes in the file
  uint64_t size = 0;         // bytes once decompressed
  EdgepackCompression compression = EdgepackCompression::none;
  std::string sha256;  // hex of the stored bytes
};

struct EdgepackInfo {
  uint32_t format_version = 0;
  uint32_t flags = 0;
  uint64_t file_size = 0;
  uint64_t manifest_size = 0;
  std::string manifest_sha256;
  uint64_t data_offset = 0;
  uint64_t data_size = 0;
  std::string graph_name;
  int64_t nodes = 0;  // top-level graph
  EdgepackModelInfo model;
  EdgepackTarget target;
  EdgepackProvenance provenance;
  std::vector<std::string> golden_samples;
  std::vector<std::string> files;
  std::vector<EdgepackSectionInfo> sections;  // every section, in file order
};

// Writes `graph` (validated first) and `extras` to `out`. Throws Error(input) for an invalid graph or an I/O
// failure, Error(internal) for extras that cannot be stored (a bad file name, a malformed sha256, ...).
void write_edgepack(const Graph& graph, const EdgepackExtras& extras, const std::filesystem::path& out);

// Reads and checks a whole artifact; the graph has passed validate_graph.
EdgepackContents read_edgepack(const std::filesystem::path& path, const EdgepackReadOptions& options = {});

// Header and manifest only (checked; no data section is read): for `edgec inspect`.
EdgepackInfo inspect_edgepack(const std::filesystem::path& path);

// One carried file, its checksum verified, without loading any tensor. Throws Error(input) when absent.
std::string read_edgepack_file(const std::filesystem::path& path, const std::string& name);

// The artifact as a Model (format "edgepack"), as load_model returns it.
Model load_edgepack_model(const std::filesystem::path& path);

// The model-level facts of `model` to store with one of its graphs.
EdgepackModelInfo edgepack_model_info(const Model& model);

std::string_view compression_name(EdgepackCompression compression);

}  // namespace edgec
