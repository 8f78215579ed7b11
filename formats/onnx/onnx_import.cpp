// ModelProto -> Model. The file is memory-mapped and parsed in place; every field is checked before it is
// trusted, and every problem becomes one Error(input) line that starts with the file path.
//
// ONNX has no notion of a module scope, but exporters (torch.onnx, Paddle2ONNX) encode the module path in
// the node name ("/model/layers.0/self_attn/q_proj/MatMul"), so Node::scope is set to the node name.
#include <google/protobuf/text_format.h>

#include <algorithm>
#include <climits>
#include <set>

#include "edgec/core/error.hpp"
#include "edgec/formats/onnx.hpp"
#include "onnx_internal.hpp"

namespace edgec::onnx_format {
namespace fs = std::filesystem;
using namespace detail;

namespace {

class GraphImporter {
 public:
  explicit GraphImporter(ImportContext& ctx) : ctx_(ctx) {}

  // `scope` prefixes field names inside subgraphs ("node 3 (If 'cond') attribute 'then_branch' > ").
  Graph import_graph(onnx::GraphProto& proto, const std::string& scope, int depth) {
    if (depth > kMaxNesting)
      fail(scope + "subgraphs nest more than " + std::to_string(kMaxNesting) + " levels deep");
    if (proto.sparse_initializer_size() != 0)
      fail(scope + "sparse_initializer is not supported yet (found " +
           std::to_string(proto.sparse_initializer_size()) + ")");
    Graph graph;
    graph.name = proto.name();
    for (const auto& info : proto.input()) graph.inputs.push_back(value_info(info, scope + "graph input"));
    for (const auto& info : proto.output()) graph.outputs.push_back(value_info(info, scope + "graph output"));
    for (const auto& info : proto.value_info()) {
      auto value = value_info(info, scope + "value_info");
      if (!graph.value_info.emplace(value.name, std::move(value.type)).second)
        fail(scope + "value_info " + quote_name(info.name()) + " is declared twice");
    }
    for (auto& init : *proto.mutable_initializer()) {
      const std::string field = scope + "initializer " + quote_name(init.name());
      check_name(init.name(), field, false);
      if (graph.initializers.count(init.name())) fail(field + " is defined twice");
      Tensor tensor = import_tensor(init, ctx_, field);
      graph.initializers.emplace(init.name(), std::move(tensor));
    }
    graph.nodes.reserve(static_cast<size_t>(proto.node_size()));
    for (int i = 0; i < proto.node_size(); ++i) graph.nodes.push_back(node(*proto.mutable_node(i), i, scope, depth));
    // Nodes may legally come in any order in a file; the IR wants them sorted (stable, so no-op when sorted).
    sort_topologically(graph, scope.empty() ? ctx_.path : ctx_.path + ": " + scope.substr(0, scope.size() - 3));
    return graph;
  }

 private:
  [[noreturn]] void fail(const std::string& what) const { throw_input_error(ctx_.path, what); }

  // Names end up in messages and keys everywhere; control characters in them mean a corrupt file.
  void check_name(const std::string& name, const std::string& field, bool may_be_empty) const {
    if (name.empty() && !may_be_empty) fail(field + ": name is empty");
    for (const char c : name)
      if (static_cast<unsigned char>(c) < 0x20 || c == 0x7f) fail(field + ": name contains control characters");
  }

  ValueInfo value_info(const onnx::ValueInfoProto& proto, const std::string& what) {
    const std::string field = what + " " + quote_name(proto.name());
    check_name(proto.name(), field, false);
    ValueInfo info;
    info.name = proto.name();
    info.type = proto.has_type() ? import_type(proto.type(), ctx_, field) : ValueType{ValueKind::unknown, {}, {}};
    return info;
  }

  Node node(onnx::NodeProto& proto, int index, const std::string& scope, int depth) {
    std::string field = scope + "node " + std::to_string(index) + " (" + quote_name(proto.op_type());
    if (!proto.name().empty()) field += " " + quote_name(proto.name());
    field += ")";
    check_name(proto.op_type(), field + " op_type", false);
    check_name(proto.name(), field + " name", true);
    check_name(proto.domain(), field + " domain", true);
    Node node;
    node.name = proto.name();
    node.op = proto.op_type();
    node.domain = proto.domain();
    node.scope = proto.name();
    for (const auto& input : proto.input()) {
      check_name(input, field + " input", true);
      node.inputs.push_back(input);
    }
    for (const auto& output : proto.output()) {
      check_name(output, field + " output", true);
      node.outputs.push_back(output);
    }
    for (auto& attr : *proto.mutable_attribute()) {
      const std::string attr_field = field + " attribute " + quote_name(attr.name());
      check_name(attr.name(), attr_field, false);
      if (node.has_attribute(attr.name())) fail(attr_field + " appears twice");
      node.attributes.emplace(attr.name(), attribute(attr, attr_field, depth));
    }
    return node;
  }

  // Old files (IR < 3) may leave AttributeProto.type unset; the one populated field then tells the kind.
  onnx::AttributeProto::AttributeType infer_type(const onnx::AttributeProto& a, const std::string& field) const {
    std::vector<onnx::AttributeProto::AttributeType> kinds;
    if (a.has_f()) kinds.push_back(onnx::AttributeProto::FLOAT);
    if (a.has_i()) kinds.push_back(onnx::AttributeProto::INT);
    if (a.has_s()) kinds.push_back(onnx::AttributeProto::STRING);
    if (a.has_t()) kinds.push_back(onnx::AttributeProto::TENSOR);
    if (a.has_g()) kinds.push_back(onnx::AttributeProto::GRAPH);
    if (a.floats_size()) kinds.push_back(onnx::AttributeProto::FLOATS);
    if (a.ints_size()) kinds.push_back(onnx::AttributeProto::INTS);
    if (a.strings_size()) kinds.push_back(onnx::AttributeProto::STRINGS);
    if (a.tensors_size()) kinds.push_back(onnx::AttributeProto::TENSORS);
    if (a.graphs_size()) kinds.push_back(onnx::AttributeProto::GRAPHS);
    if (kinds.size() != 1)
      fail(field + ": type is UNDEFINED and " + (kinds.empty() ? "no value is set" : "several values are set") +
           "; expected exactly one of f, i, s, t, g, floats, ints, strings, tensors, graphs");
    return kinds.front();
  }

  GraphPtr subgraph(onnx::GraphProto& proto, const std::string& field, int depth) {
    return std::make_shared<Graph>(import_graph(proto, field + " > ", depth + 1));
  }

  Attribute attribute(onnx::AttributeProto& a, const std::string& field, int depth) {
    if (!a.ref_attr_name().empty())
      fail(field + ": refers to function attribute " + quote_name(a.ref_attr_name()) + ", which is only valid inside functions");
    const auto type = a.type() == onnx::AttributeProto::UNDEFINED ? infer_type(a, field) : a.type();
    switch (type) {
      case onnx::AttributeProto::FLOAT: return a.f();
      case onnx::AttributeProto::INT: return static_cast<int64_t>(a.i());
      case onnx::AttributeProto::STRING: return a.s();
      case onnx::AttributeProto::TENSOR: return import_tensor(*a.mutable_t(), ctx_, field);
      case onnx::AttributeProto::GRAPH: return subgraph(*a.mutable_g(), field, depth);
      case onnx::AttributeProto::FLOATS: return std::vector<float>(a.floats().begin(), a.floats().end());
      case onnx::AttributeProto::INTS: return std::vector<int64_t>(a.ints().begin(), a.ints().end());
      case onnx::AttributeProto::STRINGS: return std::vector<std::string>(a.strings().begin(), a.strings().end());
      case onnx::AttributeProto::TENSORS: {
        std::vector<Tensor> tensors;
        tensors.reserve(static_cast<size_t>(a.tensors_size()));
        for (int i = 0; i < a.tensors_size(); ++i)
          tensors.push_back(import_tensor(*a.mutable_tensors(i), ctx_, field + " tensors[" + std::to_string(i) + "]"));
        return tensors;
      }
      case onnx::AttributeProto::GRAPHS: {
        std::vector<GraphPtr> graphs;
        graphs.reserve(static_cast<size_t>(a.graphs_size()));
        for (int i = 0; i < a.graphs_size(); ++i)
          graphs.push_back(subgraph(*a.mutable_graphs(i), field + " graphs[" + std::to_string(i) + "]", depth));
        return graphs;
      }
      case onnx::AttributeProto::TYPE_PROTO: {
        // No IR counterpart: kept losslessly as text (the Optional op's `type` is the common case).
        import_type(a.tp(), ctx_, field);  // bounds nesting and checks element types
        google::protobuf::TextFormat::Printer printer;
        printer.SetSingleLineMode(true);
        std::string text;
        printer.PrintToString(a.tp(), &text);
        while (!text.empty() && text.back() == ' ') text.pop_back();
        return std::string(kTypeProtoPrefix) + text;
      }
      case onnx::AttributeProto::SPARSE_TENSOR:
      case onnx::AttributeProto::SPARSE_TENSORS:
      case onnx::AttributeProto::TYPE_PROTOS:
        fail(field + ": attribute kind " + onnx::AttributeProto::AttributeType_Name(type) +
             " is not supported yet (supported: FLOAT, INT, STRING, TENSOR, GRAPH, TYPE_PROTO and their lists)");
      default:
        fail(field + ": unknown attribute type " + std::to_string(static_cast<int>(type)) + " (expected 1-14)");
    }
  }

  ImportContext& ctx_;
};

void import_opsets(const onnx::ModelProto& proto, const std::string& path, Graph& graph) {
  for (const auto& opset : proto.opset_import()) {
    const std::string field = "opset_import " + quote_name(opset.domain());
    if (opset.version() < 1)
      throw_input_error(path, field + ": version " + std::to_string(opset.version()) + " is invalid (expected >= 1)");
    const bool default_domain = opset.domain().empty() || opset.domain() == "ai.onnx";
    if (default_domain && opset.version() > kMaxDefaultOpset)
      throw_input_error(path, field + ": default-domain opset " + std::to_string(opset.version()) +
                                  " is not supported (supported: 1-" + std::to_string(kMaxDefaultOpset) + ")");
    if (!graph.opset_imports.emplace(opset.domain(), opset.version()).second)
      throw_input_error(path, field + " is listed twice");
  }
  // IR version < 3 had no opset_import and meant opset 1.
  if (graph.opset_imports.empty()) graph.opset_imports.emplace("", 1);
}

// Reads, parses, converts and validates one file. Metadata keys are prefixed with `prefix` (folder imports).
Graph import_model_file(const fs::path& path, std::map<std::string, std::string>& metadata, const std::string& prefix) {
  const std::string where = path.string();
  std::error_code ec;
  if (fs::is_directory(path, ec)) throw_input_error(where, "is a folder; expected an .onnx file");
  const auto file = MappedFile::open(path);
  if (file->size() == 0) throw_input_error(where, "file is empty; expected an ONNX ModelProto");
  if (file->size() > static_cast<size_t>(INT_MAX))
    throw_input_error(where, "file is " + std::to_string(file->size()) +
                                 " bytes; protobuf cannot parse a message over 2 GiB (2147483647 bytes): keep the "
                                 "weights in external data files");
  onnx::ModelProto proto;
  if (!proto.ParseFromArray(file->bytes().data(), static_cast<int>(file->size())))
    throw_input_error(where, "not a valid ONNX model: ModelProto failed to parse (corrupt, truncated or not ONNX)");
  if (proto.ir_version() < 1)
    throw_input_error(where, "ir_version is " + std::to_string(proto.ir_version()) +
                                 "; expected >= 1 (is this an ONNX model?)");
  if (!proto.has_graph()) throw_input_error(where, "ModelProto has no graph");
  if (proto.functions_size() != 0)
    throw_input_error(where, "model-local functions (ModelProto.functions, " + std::to_string(proto.functions_size()) +
                                 ") are not supported yet; inline them before import");

  Graph graph;
  import_opsets(proto, where, graph);
  ImportContext ctx{where, path.parent_path().empty() ? fs::path(".") : path.parent_path(), {}};
  {
    GraphImporter importer(ctx);
    Graph body = importer.import_graph(*proto.mutable_graph(), "", 0);
    body.opset_imports = std::move(graph.opset_imports);
    graph = std::move(body);
  }
  metadata[prefix + "graph_name"] = graph.name;
  graph.name = path.stem().string();
  validate_graph(graph, where);

  metadata[prefix + "producer_name"] = proto.producer_name();
  metadata[prefix + "producer_version"] = proto.producer_version();
  metadata[prefix + "ir_version"] = std::to_string(proto.ir_version());
  if (!proto.doc_string().empty()) metadata[prefix + "doc_string"] = proto.doc_string();
  if (!proto.domain().empty()) metadata[prefix + "domain"] = proto.domain();
  if (proto.model_version() != 0) metadata[prefix + "model_version"] = std::to_string(proto.model_version());
  for (const auto& entry : proto.metadata_props()) metadata[prefix + "metadata_props." + entry.key()] = entry.value();
  return graph;
}

}  // namespace

Model import_onnx_file(const fs::path& file) {
  Model model;
  model.format = "onnx";
  model.architecture = "onnx";
  model.source = file;
  model.files = {file};
  model.graphs.push_back(import_model_file(file, model.metadata, ""));
  return model;
}

Model import_onnx_folder(const fs::path& dir) {
  std::error_code ec;
  if (!fs::is_directory(dir, ec)) throw_input_error(dir.string(), "is not a folder");
  std::vector<fs::path> files;
  for (fs::directory_iterator it(dir, ec), end; !ec && it != end; it.increment(ec))
    if (it->path().extension() == ".onnx" && it->is_regular_file(ec)) files.push_back(it->path());
  if (ec) throw_input_error(dir.string(), "cannot list the folder: " + ec.message());
  if (files.empty()) throw_input_error(dir.string(), "holds no *.onnx files");
  std::sort(files.begin(), files.end(), [](const fs::path& a, const fs::path& b) { return a.filename() < b.filename(); });

  Model model;
  model.format = "onnx";
  model.architecture = "onnx";
  model.source = dir;
  model.files = files;
  for (const auto& file : files)
    model.graphs.push_back(import_model_file(file, model.metadata, file.stem().string() + "."));
  // Keys every file agrees on are also given without prefix, as a single-file import would.
  for (const std::string key : {"producer_name", "producer_version", "ir_version"}) {
    std::set<std::string> values;
    for (const auto& file : files) values.insert(model.metadata[file.stem().string() + "." + key]);
    if (values.size() == 1) model.metadata[key] = *values.begin();
  }
  return model;
}

}  // namespace edgec::onnx_format
