// `edgec inspect`: what a checkpoint holds — format, architecture, components with parameter counts and
// bytes, dtypes, op histogram, graph inputs/outputs. Text for people, --json for pipelines (same content).
#include <filesystem>
#include <iostream>
#include <nlohmann/json.hpp>
#include <sstream>

#include "commands.hpp"
#include "edgec/core/model.hpp"
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
}

}  // namespace

void add_inspect_command(CLI::App& app, Action& action) {
  auto* command = app.add_subcommand("inspect", "Show what a model holds: components, parameters, ops, inputs/outputs");
  auto path = std::make_shared<std::string>();
  auto json = std::make_shared<bool>(false);
  command->add_option("MODEL", *path, "An .onnx file, a folder of .onnx files, or a Hugging Face folder")->required();
  command->add_flag("--json", *json, "Print machine-readable JSON instead of text");
  command->callback([&action, path, json] {
    action = [path, json] {
      const Model model = load_model(*path);
      const Json report = inspect_json(*path, model);
      if (*json) std::cout << report.dump(2) << '\n';
      else print_text(report, std::cout);
    };
  });
}

}  // namespace edgec::cli
