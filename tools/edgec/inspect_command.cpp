// `edgec inspect`: what a checkpoint holds — format, architecture, components with parameter counts and
// bytes, dtypes, op histogram, graph inputs/outputs; for an .edgepack artifact also its header, target,
// provenance and sections. Text for people, --json for pipelines (same content).
#include <filesystem>
#include <iostream>
#include <nlohmann/json.hpp>
#include <sstream>

#include "commands.hpp"
#include "edgec/core/model.hpp"
#include "edgec/formats/edgepack.hpp"
#include "edgec/formats/load.hpp"

namespace edgec::cli {
namespace {

using Json = nlohmann::ordered_json;
namespace fs = std::filesystem;

Json shape_json(const ValueType& type) {
  if (!type.shape) return nullptr;
  Json dims = Json::array();
  for (const Dim& dim : *type.shape) {
    if (dim.known()) dims.push_back(dim.value);
    else if (!dim.symbol.empty()) dims.push_back(dim.symbol);
    else dims.push_back(nullptr);
  }
  return dims;
}

const char* kind_name(ValueKind kind) {
  switch (kind) {
    case ValueKind::tensor: return "tensor";
    case ValueKind::sequence: return "sequence";
    case ValueKind::map: return "map";
    case ValueKind::optional: return "optional";
    case ValueKind::sparse_tensor: return "sparse_tensor";
    case ValueKind::unknown: return "unknown";
  }
  return "unknown";
}

Json values_json(const std::vector<ValueInfo>& values) {
  Json list = Json::array();
  for (const auto& value : values) {
    Json entry{{"name", value.name}, {"dtype", std::string(dtype_name(value.type.dtype))}, {"shape", shape_json(value.type)}};
    if (value.type.kind != ValueKind::tensor) entry["kind"] = kind_name(value.type.kind);
    list.push_back(std::move(entry));
  }
  return list;
}

void count_ops(const Graph& graph, std::map<std::string, int64_t>& histogram, int64_t& nodes) {
  for (const Node& node : graph.nodes) {
    ++histogram[node.qualified_op()];
    ++nodes;
    for (const auto& [key, attribute] : node.attributes) {
      if (const auto* sub = std::get_if<GraphPtr>(&attribute); sub && *sub) count_ops(**sub, histogram, nodes);
      if (const auto* subs = std::get_if<std::vector<GraphPtr>>(&attribute))
        for (const auto& g : *subs)
          if (g) count_ops(*g, histogram, nodes);
    }
  }
}

Json inspect_json(const fs::path& path, const Model& model) {
  Json report;
  report["path"] = path.string();
  report["format"] = model.format;
  report["architecture"] = model.architecture;
  Json files = Json::array();
  for (const auto& file : model.files) {
    std::error_code ec;
    const auto size = fs::file_size(file, ec);
    files.push_back({{"path", file.string()}, {"bytes", ec ? Json(nullptr) : Json(size)}});
  }
  report["files"] = std::move(files);

  const auto stats = parameter_stats(model);
  int64_t total_parameters = 0, total_bytes = 0, total_tensors = 0;
  std::map<std::string, int64_t> dtype_bytes;
  Json components = Json::array();
  for (const auto& [name, stat] : stats) {
    total_parameters += stat.parameters;
    total_bytes += stat.bytes;
    total_tensors += stat.tensors;
    for (const auto& [dtype, bytes] : stat.bytes_by_dtype) dtype_bytes[dtype] += bytes;
    if (name.empty() && stat.tensors == 0) continue;
    components.push_back({{"name", name.empty() ? "other" : name},
                          {"parameters", stat.parameters},
                          {"bytes", stat.bytes},
                          {"tensors", stat.tensors}});
  }
  report["parameters"] = total_parameters;
  report["parameter_bytes"] = total_bytes;
  report["tensors"] = total_tensors;
  report["components"] = std::move(components);
  report["dtypes"] = dtype_bytes;

  Json graphs = Json::array();
  for (const Graph& graph : model.graphs) {
    std::map<std::string, int64_t> histogram;
    int64_t nodes = 0;
    count_ops(graph, histogram, nodes);
    graphs.push_back({{"name", graph.name},
                      {"nodes", nodes},
                      {"opsets", graph.opset_imports},
                      {"inputs", values_json(graph.inputs)},
                      {"outputs", values_json(graph.outputs)},
                      {"ops", histogram}});
  }
  report["graphs"] = std::move(graphs);
  report["metadata"] = model.metadata;
  return report;
}

// Header, target, provenance and every section of an artifact (docs/edgepack.md).
Json edgepack_json(const EdgepackInfo& info) {
  Json provenance_inputs = Json::array();
  for (const auto& input : info.provenance.inputs)
    provenance_inputs.push_back({{"role", input.role}, {"path", input.path}, {"sha256", input.sha256}});
  Json sections = Json::array();
  for (const auto& section : info.sections)
    sections.push_back({{"index", section.index},
                        {"name", section.name},
                        {"kind", section.kind},
                        {"dtype", section.kind == "file" ? Json(nullptr) : Json(std::string(dtype_name(section.dtype)))},
                        {"shape", section.kind == "file" ? Json(nullptr) : Json(section.dims)},
                        {"offset", section.offset},
                        {"size", section.size},
                        {"stored_size", section.stored_size},
                        {"compression", std::string(compression_name(section.compression))},
                        {"sha256", section.sha256}});
  return {{"format_version", info.format_version},
          {"flags", info.flags},
          {"file_bytes", info.file_size},
          {"manifest_bytes", info.manifest_size},
          {"manifest_sha256", info.manifest_sha256},
          {"data_offset", info.data_offset},
          {"data_bytes", info.data_size},
          {"target", {{"device", info.target.device}, {"properties", info.target.properties}}},
          {"provenance",
           {{"edgec_version", info.provenance.edgec_version}, {"recipe", info.provenance.recipe}, {"inputs", provenance_inputs}}},
          {"golden_samples", info.golden_samples},
          {"files", info.files},
          {"sections", sections}};
}

std::string with_thousands(int64_t value) {
  std::string digits = std::to_string(value < 0 ? -value : value);
  for (int i = static_cast<int>(digits.size()) - 3; i > 0; i -= 3) digits.insert(static_cast<size_t>(i), ",");
  return value < 0 ? "-" + digits : digits;
}

std::string shape_text(const Json& shape) {
  if (shape.is_null()) return "[?]";
  std::string text = "[";
  for (size_t i = 0; i < shape.size(); ++i) {
    if (i) text += ",";
    text += shape[i].is_null() ? "?" : shape[i].is_string() ? shape[i].get<std::string>() : shape[i].dump();
  }
  return text + "]";
}

void print_edgepack(const Json& pack, std::ostream& out) {
  out << "edgepack version " << pack["format_version"].get<uint32_t>() << ", flags " << pack["flags"].get<uint32_t>() << ", "
      << pack["file_bytes"].get<uint64_t>() << " bytes: manifest " << pack["manifest_bytes"].get<uint64_t>() << " bytes (sha256 "
      << pack["manifest_sha256"].get<std::string>().substr(0, 16) << "), data " << pack["data_bytes"].get<uint64_t>()
      << " bytes at offset " << pack["data_offset"].get<uint64_t>() << '\n';
  const auto& target = pack["target"];
  out << "target:       " << (target["device"].get<std::string>().empty() ? "(none)" : target["device"].get<std::string>());
  for (const auto& [key, value] : target["properties"].items()) out << ' ' << key << '=' << value.get<std::string>();
  out << '\n';
  const auto& provenance = pack["provenance"];
  out << "provenance:   edgec " << provenance["edgec_version"].get<std::string>() << ", recipe "
      << provenance["recipe"].get<std::string>().size() << " bytes\n";
  for (const auto& input : provenance["inputs"])
    out << "  " << input["role"].get<std::string>() << ' ' << input["path"].get<std::string>() << " sha256 "
        << input["sha256"].get<std::string>().substr(0, 16) << '\n';
  out << "golden:       " << pack["golden_samples"].size() << " samples\n";
  out << "files:       ";
  for (const auto& file : pack["files"]) out << ' ' << file.get<std::string>();
  out << '\n';
  out << "sections:     " << pack["sections"].size() << '\n';
  for (const auto& section : pack["sections"]) {
    out << "  " << section["index"].get<uint32_t>() << ' ' << section["name"].get<std::string>() << " ("
        << section["kind"].get<std::string>();
    if (!section["dtype"].is_null()) out << ", " << section["dtype"].get<std::string>() << ' ' << shape_text(section["shape"]);
    out << ") offset " << section["offset"].get<uint64_t>() << ", " << section["size"].get<uint64_t>() << " bytes";
    if (section["compression"] != "none")
      out << ", " << section["compression"].get<std::string>() << ' ' << section["stored_size"].get<uint64_t>() << " bytes";
    out << ", sha256 " << section["sha256"].get<std::string>().substr(0, 16) << '\n';
  }
}

void print_text(const Json& report, std::ostream& out) {
  out << "model:        " << report["path"].get<std::string>() << '\n'
      << "format:       " << report["format"].get<std::string>() << '\n'
      << "architecture: " << report["architecture"].get<std::string>() << '\n'
      << "parameters:   " << with_thousands(report["parameters"].get<int64_t>()) << " ("
      << with_thousands(report["parameter_bytes"].get<int64_t>()) << " bytes in "
      << report["tensors"].get<int64_t>() << " tensors)\n";
  out << "components:\n";
  for (const auto& component : report["components"])
    out << "  " << component["name"].get<std::string>() << ": "
        << with_thousands(component["parameters"].get<int64_t>()) << " parameters, "
        << with_thousands(component["bytes"].get<int64_t>()) << " bytes, " << component["tensors"].get<int64_t>()
        << " tensors\n";
  out << "dtypes:";
  for (const auto& [dtype, bytes] : report["dtypes"].items())
    out << ' ' << dtype << '=' << with_thousands(bytes.get<int64_t>()) << 'B';
  out << '\n';
  for (const auto& graph : report["graphs"]) {
    out << "graph " << graph["name"].get<std::string>() << ": " << graph["nodes"].get<int64_t>() << " nodes";
    if (!graph["opsets"].empty()) {
      out << ", opsets";
      for (const auto& [domain, version] : graph["opsets"].items())
        out << ' ' << (domain.empty() ? "ai.onnx" : domain) << '=' << version.get<int64_t>();
    }
    out << '\n';
    for (const char* side : {"inputs", "outputs"})
      for (const auto& value : graph[side])
        out << "  " << (side[0] == 'i' ? "input  " : "output ") << value["name"].get<std::string>() << ": "
            << value["dtype"].get<std::string>() << ' ' << shape_text(value["shape"]) << '\n';
    out << "  ops:";
    for (const auto& [op, count] : graph["ops"].items()) out << ' ' << op << '=' << count.get<int64_t>();
    out << '\n';
  }
  if (report.contains("edgepack")) print_edgepack(report["edgepack"], out);
}

}  // namespace

void add_inspect_command(CLI::App& app, Action& action) {
  auto* command = app.add_subcommand("inspect", "Show what a model holds: components, parameters, ops, inputs/outputs");
  auto path = std::make_shared<std::string>();
  auto json = std::make_shared<bool>(false);
  command->add_option("MODEL", *path, "An .onnx file, a folder of .onnx files, a Hugging Face folder or an .edgepack artifact")->required();
  command->add_flag("--json", *json, "Print machine-readable JSON instead of text");
  command->callback([&action, path, json] {
    action = [path, json] {
      const Model model = load_model(*path);
      Json report = inspect_json(*path, model);
      if (model.format == "edgepack") report["edgepack"] = edgepack_json(inspect_edgepack(*path));
      if (*json) std::cout << report.dump(2) << '\n';
      else print_text(report, std::cout);
    };
  });
}

}  // namespace edgec::cli
