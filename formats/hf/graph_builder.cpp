#include "hf/graph_builder.hpp"

#include "edgec/core/error.hpp"
#include "safetensors/strict_json.hpp"

namespace edgec::hf {

using formats_detail::printable;

void GraphBuilder::fail(const std::string& name, const std::string& what) const {
  throw_input_error(checkpoint_ + ": tensor '" + printable(name, 200) + "'", what);
}

std::string GraphBuilder::require(const std::string& name, const std::vector<int64_t>& dims,
                                  const std::string& why) const {
  const Tensor* found = tensor(name);
  if (!found) fail(name, "missing from the checkpoint (required by " + why + ")");
  if (!dtype_is_float(found->dtype()))
    fail(name, "expected a floating-point tensor, got " + std::string(dtype_name(found->dtype())));
  if (found->dims() != dims)
    fail(name, "expected shape " + dims_to_string(dims) + " (from " + why + "), got " +
                   dims_to_string(found->dims()));
  return name;
}

std::string GraphBuilder::optional(const std::string& name, const std::vector<int64_t>& dims,
                                   const std::string& why) const {
  return has(name) ? require(name, dims, why) : std::string();
}

std::string GraphBuilder::add(const std::string& op, const std::string& domain, const std::string& scope,
                              std::vector<std::string> inputs, std::map<std::string, Attribute> attributes,
                              const std::string& suffix) {
  std::string base = scope + "/" + (suffix.empty() ? op : suffix);
  const int seen = used_names_[base]++;
  const std::string output = seen == 0 ? base : base + "_" + std::to_string(seen + 1);
  Node node;
  node.name = output;
  node.op = op;
  node.domain = domain;
  node.scope = scope;
  node.inputs = std::move(inputs);
  node.outputs = {output};
  node.attributes = std::move(attributes);
  graph_.nodes.push_back(std::move(node));
  return output;
}

std::string GraphBuilder::linear(const std::string& scope, const std::string& x, int64_t in, int64_t out,
                                 bool bias_required, const std::string& why) {
  const std::string weight = require(scope + ".weight", {out, in}, why);
  // A bias in the checkpoint is always used (the module has one); the config may also demand it.
  const std::string bias = bias_required ? require(scope + ".bias", {out}, why) : optional(scope + ".bias", {out}, why);
  std::vector<std::string> inputs{x, weight};
  if (!bias.empty()) inputs.push_back(bias);
  return edgec("Linear", scope, std::move(inputs));
}

std::string GraphBuilder::layer_norm(const std::string& scope, const std::string& x, int64_t size, double eps,
                                     const std::string& why) {
  return edgec("LayerNorm", scope,
               {x, require(scope + ".weight", {size}, why), require(scope + ".bias", {size}, why)},
               {{"epsilon", static_cast<float>(eps)}});
}

std::string GraphBuilder::rms_norm(const std::string& scope, const std::string& x, int64_t size, double eps,
                                   const std::string& why) {
  return edgec("RMSNorm", scope, {x, require(scope + ".weight", {size}, why)}, {{"epsilon", static_cast<float>(eps)}});
}

bool is_supported_activation(const std::string& hf_name) {
  for (const char* name : {"gelu", "gelu_pytorch_tanh", "gelu_new", "gelu_fast", "quick_gelu", "silu", "swish", "relu"})
    if (hf_name == name) return true;
  return false;
}

std::string GraphBuilder::activation(const std::string& hf_name, const std::string& scope, const std::string& x,
                                     const std::string& where) {
  if (hf_name == "gelu") return edgec("Gelu", scope, {x}, {{"approximate", std::string("none")}});
  // transformers' gelu_new / gelu_fast / gelu_pytorch_tanh all compute the tanh approximation.
  if (hf_name == "gelu_pytorch_tanh" || hf_name == "gelu_new" || hf_name == "gelu_fast")
    return edgec("Gelu", scope, {x}, {{"approximate", std::string("tanh")}});
  if (hf_name == "quick_gelu") return edgec("QuickGelu", scope, {x});
  if (hf_name == "silu" || hf_name == "swish") return edgec("SiLU", scope, {x});
  if (hf_name == "relu") return onnx("Relu", scope, {x});
  throw_input_error(where, "unsupported activation '" + printable(hf_name) +
                               "' (supported: gelu, gelu_pytorch_tanh, gelu_new, gelu_fast, quick_gelu, silu, swish, relu)");
}

void GraphBuilder::rename(const std::string& value, const std::string& new_name) {
  for (Node& node : graph_.nodes) {
    for (auto& input : node.inputs)
      if (input == value) input = new_name;
    for (auto& output : node.outputs)
      if (output == value) output = new_name;
  }
}

void GraphBuilder::add_input(const std::string& name, DType dtype, std::vector<Dim> shape) {
  graph_.inputs.push_back(ValueInfo{name, ValueType{ValueKind::tensor, dtype, std::move(shape)}});
}

void GraphBuilder::add_output(const std::string& name, DType dtype, std::vector<Dim> shape) {
  graph_.outputs.push_back(ValueInfo{name, ValueType{ValueKind::tensor, dtype, std::move(shape)}});
}

}  // namespace edgec::hf
