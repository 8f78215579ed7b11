// IR -> manifest. Maps are written in key order and sections are numbered in the order tensors are met, so the
// same graph always gives the same manifest.
#include <cmath>
#include <limits>
#include <set>

#include "edgec/core/error.hpp"
#include "edgepack/manifest_codec.hpp"

namespace edgec::edgepack {
namespace {

[[noreturn]] void unstorable(const std::string& what) {
  throw Error(ErrorCategory::internal, "edgepack writer: " + what);
}

int hex_digit(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

std::string digest_from_hex(const std::string& hex, const std::string& what) {
  if (hex.size() != 64) unstorable(what + ": sha256 '" + hex + "' is not 64 hex digits");
  std::string digest(32, '\0');
  for (size_t i = 0; i < 32; ++i) {
    const int high = hex_digit(hex[2 * i]), low = hex_digit(hex[2 * i + 1]);
    if (high < 0 || low < 0) unstorable(what + ": sha256 '" + hex + "' is not 64 hex digits");
    digest[i] = static_cast<char>(high * 16 + low);
  }
  return digest;
}

pb::ValueKind kind_to_proto(ValueKind kind) {
  switch (kind) {
    case ValueKind::tensor: return pb::VALUE_KIND_TENSOR;
    case ValueKind::sequence: return pb::VALUE_KIND_SEQUENCE;
    case ValueKind::map: return pb::VALUE_KIND_MAP;
    case ValueKind::optional: return pb::VALUE_KIND_OPTIONAL;
    case ValueKind::sparse_tensor: return pb::VALUE_KIND_SPARSE_TENSOR;
    case ValueKind::unknown: return pb::VALUE_KIND_UNKNOWN;
  }
  unstorable("a value of unknown kind");
}

void encode_value_type(const ValueType& type, pb::ValueType& out) {
  out.set_kind(kind_to_proto(type.kind));
  out.set_dtype(to_proto(type.dtype));
  if (!type.shape) return;
  auto* shape = out.mutable_shape();  // present even when empty: rank 0 is not "rank unknown"
  for (const Dim& dim : *type.shape) {
    auto* entry = shape->add_dims();
    if (dim.known()) entry->set_size(dim.value);
    else if (!dim.symbol.empty()) entry->set_symbol(dim.symbol);
  }
}

void encode_value_info(const std::string& name, const ValueType& type, pb::ValueInfo& out) {
  out.set_name(name);
  encode_value_type(type, *out.mutable_type());
}

class Encoder {
 public:
  explicit Encoder(std::vector<PendingSection>& sections) : sections_(sections) {}

  void tensor(const Tensor& tensor, const std::string& name, const std::string& label, const char* kind, pb::Tensor& out) {
    const std::string what = std::string(kind) + " '" + label + "'";
    if (tensor.dtype() == DType::undefined) unstorable(what + " has no dtype");
    const auto count = element_count(tensor.dims());
    if (!count) unstorable(what + " has invalid dims " + dims_to_string(tensor.dims()));
    const auto bytes = tensor.bytes();
    const bool consistent = tensor.dtype() == DType::string
                                ? string_records_valid(bytes, *count)
                                : dtype_storage_bytes(tensor.dtype(), static_cast<uint64_t>(*count)) == bytes.size();
    if (!consistent)
      unstorable(what + ": " + std::to_string(bytes.size()) + " bytes do not hold " + std::string(dtype_name(tensor.dtype())) +
                 " " + dims_to_string(tensor.dims()));
    if (sections_.size() >= std::numeric_limits<uint32_t>::max()) unstorable("more than 2^32 - 1 sections");
    out.set_name(name);
    out.set_dtype(to_proto(tensor.dtype()));
    for (const int64_t dim : tensor.dims()) out.add_dims(dim);
    out.set_section(static_cast<uint32_t>(sections_.size()));
    out.set_layout("plain");
    sections_.push_back({bytes, label, kind});
  }

  void graph(const Graph& graph, const std::string& prefix, pb::Graph& out) {
    out.set_name(graph.name);
    for (const auto& value : graph.inputs) encode_value_info(value.name, value.type, *out.add_inputs());
    for (const auto& value : graph.outputs) encode_value_info(value.name, value.type, *out.add_outputs());
    for (const auto& [name, initializer] : graph.initializers)
      tensor(initializer, name, prefix + name, kKindInitializer, *out.add_initializers());
    for (size_t i = 0; i < graph.nodes.size(); ++i) node(graph.nodes[i], prefix, node_label(graph.nodes[i].name, i), *out.add_nodes());
    for (const auto& [name, type] : graph.value_info) encode_value_info(name, type, *out.add_value_info());
    for (const auto& [domain, version] : graph.opset_imports) {
      auto* opset = out.add_opset_imports();
      opset->set_domain(domain);
      opset->set_version(version);
    }
  }

 private:
  void subgraph(const GraphPtr& graph, const std::string& label, pb::Graph& out) {
    if (!graph) unstorable("attribute '" + label + "' holds a null subgraph");
    this->graph(*graph, label + "/", out);
  }

  void node(const Node& node, const std::string& prefix, const std::string& id, pb::Node& out) {
    out.set_name(node.name);
    out.set_op(node.op);
    out.set_domain(node.domain);
    out.set_scope(node.scope);
    for (const auto& input : node.inputs) out.add_inputs(input);
    for (const auto& output : node.outputs) out.add_outputs(output);
    for (const auto& [key, value] : node.attributes) {
      auto& attribute = *out.add_attributes();
      attribute.set_name(key);
      const std::string label = attribute_label(prefix, id, key);
      std::visit(
          [&](const auto& v) {
            using T = std::decay_t<decltype(v)>;
            if constexpr (std::is_same_v<T, int64_t>) attribute.set_int_value(v);
            else if constexpr (std::is_same_v<T, float>) attribute.set_float_value(v);
            else if constexpr (std::is_same_v<T, std::string>) attribute.set_string_value(v);
            else if constexpr (std::is_same_v<T, Tensor>) tensor(v, label, label, kKindAttribute, *attribute.mutable_tensor_value());
            else if constexpr (std::is_same_v<T, GraphPtr>) subgraph(v, label, *attribute.mutable_graph_value());
            else if constexpr (std::is_same_v<T, std::vector<int64_t>>) {
              auto* list = attribute.mutable_ints();  // set even when empty: an empty list is still a list
              for (const int64_t x : v) list->add_values(x);
            } else if constexpr (std::is_same_v<T, std::vector<float>>) {
              auto* list = attribute.mutable_floats();
              for (const float x : v) list->add_values(x);
            } else if constexpr (std::is_same_v<T, std::vector<std::string>>) {
              auto* list = attribute.mutable_strings();
              for (const auto& x : v) list->add_values(x);
            } else if constexpr (std::is_same_v<T, std::vector<Tensor>>) {
              auto* list = attribute.mutable_tensors();
              for (size_t i = 0; i < v.size(); ++i) {
                const std::string item = attribute_label(prefix, id, key, i);
                tensor(v[i], item, item, kKindAttribute, *list->add_values());
              }
            } else {
              static_assert(std::is_same_v<T, std::vector<GraphPtr>>);
              auto* list = attribute.mutable_graphs();
              for (size_t i = 0; i < v.size(); ++i) subgraph(v[i], attribute_label(prefix, id, key, i), *list->add_values());
            }
          },
          value);
    }
  }

  std::vector<PendingSection>& sections_;
};

void encode_key_values(const std::map<std::string, std::string>& values,
                       google::protobuf::RepeatedPtrField<pb::KeyValue>& out) {
  for (const auto& [key, value] : values) {
    auto* entry = out.Add();
    entry->set_key(key);
    entry->set_value(value);
  }
}

void check_tolerance(const GoldenTolerance& tolerance, const std::string& what) {
  for (const double bound : {tolerance.abs, tolerance.rel})
    if (!std::isfinite(bound) || bound < 0) unstorable(what + ": tolerances must be finite and >= 0");
}

}  // namespace

pb::Manifest encode_manifest(const Graph& graph, const EdgepackExtras& extras, std::vector<PendingSection>& sections) {
  pb::Manifest manifest;
  Encoder encoder(sections);
  encoder.graph(graph, "", *manifest.mutable_graph());

  auto& model = *manifest.mutable_model();
  model.set_architecture(extras.model.architecture);
  for (const auto& component : extras.model.components) {
    auto* entry = model.add_components();
    entry->set_name(component.name);
    for (const auto& prefix : component.scope_prefixes) entry->add_scope_prefixes(prefix);
  }
  encode_key_values(extras.model.metadata, *model.mutable_metadata());

  auto& target = *manifest.mutable_target();
  target.set_device(extras.target.device);
  encode_key_values(extras.target.properties, *target.mutable_properties());

  auto& provenance = *manifest.mutable_provenance();
  provenance.set_edgec_version(extras.provenance.edgec_version);
  provenance.set_recipe(extras.provenance.recipe);
  for (const auto& input : extras.provenance.inputs) {
    auto* entry = provenance.add_inputs();
    entry->set_role(input.role);
    entry->set_path(input.path);
    entry->set_sha256(digest_from_hex(input.sha256, "provenance input '" + input.path + "'"));
  }

  std::set<std::string> sample_names;
  for (const auto& sample : extras.golden) {
    const std::string what = "golden sample '" + sample.name + "'";
    if (!sample_names.insert(sample.name).second) unstorable(what + " appears twice");
    auto* entry = manifest.add_golden();
    entry->set_name(sample.name);
    for (const auto& [name, value] : sample.inputs)
      encoder.tensor(value, name, golden_label(sample.name, name), kKindGoldenInput, *entry->add_inputs());
    for (const auto& [name, value] : sample.outputs)
      encoder.tensor(value, name, golden_label(sample.name, name), kKindGoldenOutput, *entry->add_outputs());
    for (const auto& [output, tolerance] : sample.tolerances) {
      if (!sample.outputs.count(output)) unstorable(what + ": a tolerance names '" + output + "', which is not one of its outputs");
      check_tolerance(tolerance, what + " output '" + output + "'");
      auto* bound = entry->add_tolerances();
      bound->set_output(output);
      bound->set_abs(tolerance.abs);
      bound->set_rel(tolerance.rel);
    }
  }

  for (const auto& [name, content] : extras.files) {
    if (!file_name_valid(name)) unstorable("file name '" + name + "' is not a plain file name");
    if (sections.size() >= std::numeric_limits<uint32_t>::max()) unstorable("more than 2^32 - 1 sections");
    auto* entry = manifest.add_files();
    entry->set_name(name);
    entry->set_section(static_cast<uint32_t>(sections.size()));
    sections.push_back({std::as_bytes(std::span(content.data(), content.size())), name, kKindFile});
  }
  return manifest;
}

}  // namespace edgec::edgepack
