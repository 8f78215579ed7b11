// Manifest -> IR, checking everything the protobuf schema cannot: enum values this edgec knows, dims >= 0,
// names unique where the IR keys a map by them, layouts, digests of 32 bytes, safe file names.
#include <cmath>
#include <set>

#include "edgec/core/error.hpp"
#include "edgec/core/sha256.hpp"
#include "edgepack/manifest_codec.hpp"

namespace edgec::edgepack {
namespace {

std::optional<ValueKind> kind_from_proto(int value) {
  switch (value) {
    case pb::VALUE_KIND_TENSOR: return ValueKind::tensor;
    case pb::VALUE_KIND_SEQUENCE: return ValueKind::sequence;
    case pb::VALUE_KIND_MAP: return ValueKind::map;
    case pb::VALUE_KIND_OPTIONAL: return ValueKind::optional;
    case pb::VALUE_KIND_SPARSE_TENSOR: return ValueKind::sparse_tensor;
    case pb::VALUE_KIND_UNKNOWN: return ValueKind::unknown;
    default: return std::nullopt;
  }
}

class Decoder {
 public:
  Decoder(TensorSource& source, const std::string& where) : source_(source), where_(where) {}

  [[noreturn]] void fail(const std::string& what) const { throw_input_error(where_, "manifest: " + what); }

  DType dtype(int value, const std::string& what) const {
    const auto dtype = from_proto(value);
    if (!dtype) fail(what + ": unknown dtype number " + std::to_string(value) + " (this edgec knows 0-" +
                     std::to_string(pb::DataType_MAX) + "; written by a newer edgec?)");
    return *dtype;
  }

  Tensor tensor(const pb::Tensor& proto, const std::string& label, const char* kind) {
    const std::string what = std::string(kind) + " '" + label + "'";
    const DType type = dtype(proto.dtype(), what);
    if (type == DType::undefined) fail(what + ": dtype is undefined");
    std::vector<int64_t> dims(proto.dims().begin(), proto.dims().end());
    if (!element_count(dims)) fail(what + ": dims " + dims_to_string(dims) + " are negative or overflow");
    if (proto.layout() != "plain") fail(what + ": layout '" + proto.layout() + "' is not supported (expected 'plain')");
    return source_.tensor(proto.section(), type, std::move(dims), label, kind);
  }

  ValueType value_type(const pb::ValueType& proto, const std::string& what) const {
    ValueType type;
    const auto kind = kind_from_proto(proto.kind());
    if (!kind) fail(what + ": unknown value kind " + std::to_string(proto.kind()));
    type.kind = *kind;
    type.dtype = dtype(proto.dtype(), what);
    if (proto.has_shape()) {
      std::vector<Dim> dims;
      for (const auto& dim : proto.shape().dims()) {
        if (dim.value_case() == pb::Dim::kSize) {
          if (dim.size() < 0) fail(what + ": dim " + std::to_string(dim.size()) + " is negative");
          dims.push_back(Dim::of(dim.size()));
        } else if (dim.value_case() == pb::Dim::kSymbol) {
          dims.push_back(Dim::named(dim.symbol()));
        } else {
          dims.push_back(Dim{});
        }
      }
      type.shape = std::move(dims);
    }
    return type;
  }

  std::vector<ValueInfo> values(const google::protobuf::RepeatedPtrField<pb::ValueInfo>& list, const std::string& what) const {
    std::vector<ValueInfo> out;
    for (const auto& value : list) out.push_back({value.name(), value_type(value.type(), what + " '" + value.name() + "'")});
    return out;
  }

  Graph graph(const pb::Graph& proto, const std::string& prefix) {
    Graph graph;
    graph.name = proto.name();
    const std::string what = "graph '" + graph.name + "'";
    graph.inputs = values(proto.inputs(), what + " input");
    graph.outputs = values(proto.outputs(), what + " output");
    for (const auto& initializer : proto.initializers()) {
      const std::string& name = initializer.name();
      if (graph.initializers.count(name)) fail(what + ": initializer '" + name + "' appears twice");
      graph.initializers.emplace(name, tensor(initializer, prefix + name, kKindInitializer));
    }
    for (int i = 0; i < proto.nodes_size(); ++i) {
      const auto index = static_cast<size_t>(i);
      graph.nodes.push_back(node(proto.nodes(i), prefix, node_label(proto.nodes(i).name(), index), what));
    }
    for (const auto& value : proto.value_info())
      if (!graph.value_info.emplace(value.name(), value_type(value.type(), what + " value_info '" + value.name() + "'")).second)
        fail(what + ": value_info '" + value.name() + "' appears twice");
    for (const auto& opset : proto.opset_imports())
      if (!graph.opset_imports.emplace(opset.domain(), opset.version()).second)
        fail(what + ": opset import of domain '" + opset.domain() + "' appears twice");
    return graph;
  }

 private:
  GraphPtr subgraph(const pb::Graph& proto, const std::string& label) {
    return std::make_shared<Graph>(graph(proto, label + "/"));
  }

  Node node(const pb::Node& proto, const std::string& prefix, const std::string& id, const std::string& graph_what) {
    Node node;
    node.name = proto.name();
    node.op = proto.op();
    node.domain = proto.domain();
    node.scope = proto.scope();
    node.inputs.assign(proto.inputs().begin(), proto.inputs().end());
    node.outputs.assign(proto.outputs().begin(), proto.outputs().end());
    for (const auto& attribute : proto.attributes()) {
      const std::string& key = attribute.name();
      const std::string label = attribute_label(prefix, id, key);
      const std::string what = graph_what + " node '" + id + "' attribute '" + key + "'";
      if (node.attributes.count(key)) fail(what + " appears twice");
      Attribute value;
      switch (attribute.value_case()) {
        case pb::Attribute::kIntValue: value = attribute.int_value(); break;
        case pb::Attribute::kFloatValue: value = attribute.float_value(); break;
        case pb::Attribute::kStringValue: value = attribute.string_value(); break;
        case pb::Attribute::kTensorValue: value = tensor(attribute.tensor_value(), label, kKindAttribute); break;
        case pb::Attribute::kGraphValue: value = subgraph(attribute.graph_value(), label); break;
        case pb::Attribute::kInts: value = std::vector<int64_t>(attribute.ints().values().begin(), attribute.ints().values().end()); break;
        case pb::Attribute::kFloats: value = std::vector<float>(attribute.floats().values().begin(), attribute.floats().values().end()); break;
        case pb::Attribute::kStrings:
          value = std::vector<std::string>(attribute.strings().values().begin(), attribute.strings().values().end());
          break;
        case pb::Attribute::kTensors: {
          std::vector<Tensor> list;
          for (int i = 0; i < attribute.tensors().values_size(); ++i)
            list.push_back(tensor(attribute.tensors().values(i), attribute_label(prefix, id, key, static_cast<size_t>(i)), kKindAttribute));
          value = std::move(list);
          break;
        }
        case pb::Attribute::kGraphs: {
          std::vector<GraphPtr> list;
          for (int i = 0; i < attribute.graphs().values_size(); ++i)
            list.push_back(subgraph(attribute.graphs().values(i), attribute_label(prefix, id, key, static_cast<size_t>(i))));
          value = std::move(list);
          break;
        }
        default: fail(what + " has no value (or a kind this edgec does not know)");
      }
      node.attributes.emplace(key, std::move(value));
    }
    return node;
  }

  TensorSource& source_;
  const std::string& where_;
};

std::map<std::string, std::string> key_values(const google::protobuf::RepeatedPtrField<pb::KeyValue>& list,
                                              const Decoder& decoder, const std::string& what) {
  std::map<std::string, std::string> out;
  for (const auto& entry : list)
    if (!out.emplace(entry.key(), entry.value()).second) decoder.fail(what + " key '" + entry.key() + "' appears twice");
  return out;
}

std::map<std::string, Tensor> golden_tensors(const google::protobuf::RepeatedPtrField<pb::Tensor>& list, Decoder& decoder,
                                             const std::string& sample, const char* kind) {
  std::map<std::string, Tensor> out;
  for (const auto& proto : list) {
    if (out.count(proto.name())) decoder.fail(std::string(kind) + " '" + golden_label(sample, proto.name()) + "' appears twice");
    out.emplace(proto.name(), decoder.tensor(proto, golden_label(sample, proto.name()), kind));
  }
  return out;
}

}  // namespace

Graph decode_graph(const pb::Graph& proto, TensorSource& source, const std::string& where) {
  Decoder decoder(source, where);
  return decoder.graph(proto, "");
}

EdgepackExtras decode_extras(const pb::Manifest& manifest, TensorSource& source, const std::string& where) {
  Decoder decoder(source, where);
  EdgepackExtras extras;
  extras.model.architecture = manifest.model().architecture();
  for (const auto& component : manifest.model().components())
    extras.model.components.push_back({component.name(), {component.scope_prefixes().begin(), component.scope_prefixes().end()}});
  extras.model.metadata = key_values(manifest.model().metadata(), decoder, "model metadata");

  extras.target.device = manifest.target().device();
  extras.target.properties = key_values(manifest.target().properties(), decoder, "target property");

  const auto& provenance = manifest.provenance();
  extras.provenance.edgec_version = provenance.edgec_version();
  extras.provenance.recipe = provenance.recipe();
  for (const auto& input : provenance.inputs()) {
    if (input.sha256().size() != 32)
      decoder.fail("provenance input '" + input.path() + "': sha256 is " + std::to_string(input.sha256().size()) + " bytes, expected 32");
    const auto* digest = reinterpret_cast<const uint8_t*>(input.sha256().data());
    extras.provenance.inputs.push_back({input.role(), input.path(), to_hex({digest, 32})});
  }

  std::set<std::string> sample_names;
  for (const auto& proto : manifest.golden()) {
    const std::string what = "golden sample '" + proto.name() + "'";
    if (!sample_names.insert(proto.name()).second) decoder.fail(what + " appears twice");
    GoldenSample sample;
    sample.name = proto.name();
    sample.inputs = golden_tensors(proto.inputs(), decoder, sample.name, kKindGoldenInput);
    sample.outputs = golden_tensors(proto.outputs(), decoder, sample.name, kKindGoldenOutput);
    for (const auto& bound : proto.tolerances()) {
      const std::string bound_what = what + " tolerance for '" + bound.output() + "'";
      if (!sample.outputs.count(bound.output())) decoder.fail(bound_what + ": no such output");
      if (!std::isfinite(bound.abs()) || !std::isfinite(bound.rel()) || bound.abs() < 0 || bound.rel() < 0)
        decoder.fail(bound_what + ": abs and rel must be finite and >= 0");
      if (!sample.tolerances.emplace(bound.output(), GoldenTolerance{bound.abs(), bound.rel()}).second)
        decoder.fail(bound_what + " appears twice");
    }
    extras.golden.push_back(std::move(sample));
  }

  for (const auto& file : manifest.files()) {
    if (!file_name_valid(file.name())) decoder.fail("file name '" + file.name() + "' is not a plain file name");
    if (extras.files.count(file.name())) decoder.fail("file '" + file.name() + "' appears twice");
    extras.files.emplace(file.name(), source.file(file.section(), file.name()));
  }
  return extras;
}

}  // namespace edgec::edgepack
