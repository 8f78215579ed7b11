#include "edgec/quant/layers.hpp"

#include <algorithm>
#include <cstring>
#include <map>
#include <regex>
#include <set>

#include "edgec/core/error.hpp"

namespace edgec::quant {

namespace {

// A floating-point initializer of rank `rank` (0: rank 3 or more, a Conv weight).
const Tensor* float_weight(const Graph& graph, const std::string& name, size_t rank) {
  const Tensor* tensor = graph.initializer(name);
  if (tensor == nullptr || !dtype_is_float(tensor->dtype())) return nullptr;
  if (rank == 0 ? tensor->dims().size() < 3 : tensor->dims().size() != rank) return nullptr;
  if (tensor->dtype() == DType::f8e4m3fn || tensor->dtype() == DType::f8e5m2 || tensor->dtype() == DType::f8e4m3fnuz ||
      tensor->dtype() == DType::f8e5m2fnuz)
    return nullptr;
  return tensor;
}

std::string input_or_empty(const Node& node, size_t index) { return index < node.inputs.size() ? node.inputs[index] : std::string(); }

bool glob_match(const char* pattern, const char* text) {
  if (*pattern == '\0') return *text == '\0';
  if (*pattern == '*') return glob_match(pattern + 1, text) || (*text != '\0' && glob_match(pattern, text + 1));
  if (*text == '\0') return false;
  return (*pattern == '?' || *pattern == *text) && glob_match(pattern + 1, text + 1);
}

std::string unique_name(const Graph& graph, const std::string& base) {
  std::string name = base;
  for (int i = 1; graph.initializers.count(name); ++i) name = base + "_" + std::to_string(i);
  return name;
}

}  // namespace

std::vector<LinearLayer> find_linear_layers(const Graph& graph) {
  std::vector<LinearLayer> layers;
  for (size_t i = 0; i < graph.nodes.size(); ++i) {
    const Node& node = graph.nodes[i];
    if (node.outputs.empty() || node.outputs.front().empty()) continue;
    LinearLayer layer;
    layer.node = i;
    layer.output = node.outputs.front();
    layer.weight = input_or_empty(node, 1);
    const bool conv = node.domain.empty() && node.op == "Conv";
    const Tensor* weight = float_weight(graph, layer.weight, conv ? 0 : 2);
    if (weight == nullptr) continue;
    const bool edgec_domain = node.domain == kEdgecDomain;
    if (conv) {
      layer.bias = input_or_empty(node, 2);
      layer.conv_groups = node.attr_int("group", 1);
      if (layer.conv_groups < 1) continue;
    } else if (edgec_domain && node.op == "Linear") {
      layer.bias = input_or_empty(node, 2);
    } else if (node.domain.empty() && node.op == "MatMul") {
      layer.transposed = true;
    } else if (node.domain.empty() && node.op == "Gemm") {
      if (node.attr_int("transA", 0) != 0 || node.attr_float("alpha", 1.0f) != 1.0f || node.attr_float("beta", 1.0f) != 1.0f) continue;
      layer.transposed = node.attr_int("transB", 0) == 0;
      layer.bias = input_or_empty(node, 2);
    } else {
      continue;
    }
    if (!layer.bias.empty()) {
      const Tensor* bias = graph.initializer(layer.bias);
      if (bias == nullptr || bias->dims().size() != 1 || !dtype_is_float(bias->dtype())) continue;
    }
    layer.out_features = weight->dims()[layer.transposed ? 1 : 0];
    layer.in_features = weight->dims()[layer.transposed ? 0 : 1];
    for (size_t axis = 2; axis < weight->dims().size(); ++axis) layer.in_features *= weight->dims()[axis];
    if (layer.out_features == 0 || layer.in_features == 0) continue;
    if (!layer.bias.empty() && graph.initializer(layer.bias)->dims()[0] != layer.out_features) continue;
    layers.push_back(layer);
  }
  return layers;
}

std::vector<float> read_weight(const Graph& graph, const LinearLayer& layer) {
  const std::vector<float> stored = graph.initializer(graph.nodes[layer.node].inputs[1])->to_f32();
  if (!layer.transposed) return stored;
  const int64_t n = layer.out_features, k = layer.in_features;
  std::vector<float> weight(stored.size());
  for (int64_t row = 0; row < k; ++row)
    for (int64_t col = 0; col < n; ++col) weight[static_cast<size_t>(col * k + row)] = stored[static_cast<size_t>(row * n + col)];
  return weight;
}

void write_weight(Graph& graph, const LinearLayer& layer, const std::vector<float>& weight) {
  const int64_t n = layer.out_features, k = layer.in_features;
  std::vector<float> stored = weight;
  if (layer.transposed)
    for (int64_t row = 0; row < n; ++row)
      for (int64_t col = 0; col < k; ++col) stored[static_cast<size_t>(col * n + row)] = weight[static_cast<size_t>(row * k + col)];
  Node& node = graph.nodes[layer.node];
  const auto dims = graph.initializer(node.inputs[1])->dims();
  // A weight other nodes read too (tied embeddings: lm_head and embed_tokens) is untied, not changed.
  int readers = 0;
  for (const auto& other : graph.nodes) readers += static_cast<int>(std::count(other.inputs.begin(), other.inputs.end(), node.inputs[1]));
  if (readers > 1) {
    const std::string base = node.scope.empty() ? node.inputs[1] : node.scope + ".weight";
    node.inputs[1] = unique_name(graph, base);
  }
  graph.initializers[node.inputs[1]] = Tensor::from_values<float>(DType::f32, dims, std::span<const float>(stored));
}

void rewrite_to_qlinear(Graph& graph, const LinearLayer& layer, const QuantizedWeight& weight, const WeightScheme& scheme,
                        const QLinearExtras& extras) {
  const QuantLayout& layout = weight.layout;
  const PackedWeight packed = pack(weight, scheme.scale_dtype);
  std::string base = graph.nodes[layer.node].inputs[1];
  if (base.size() > 7 && base.compare(base.size() - 7, 7, ".weight") == 0) base.resize(base.size() - 7);
  // A weight other nodes read too (a tied lm_head) names its quantized copy after the layer's own scope.
  int readers = 0;
  for (const auto& other : graph.nodes) readers += static_cast<int>(std::count(other.inputs.begin(), other.inputs.end(), graph.nodes[layer.node].inputs[1]));
  if (readers > 1 && !graph.nodes[layer.node].scope.empty()) base = graph.nodes[layer.node].scope;
  const int64_t n = layout.out_features, groups = layout.groups();
  const std::string qweight = unique_name(graph, base + ".qweight");
  graph.initializers[qweight] = Tensor::from_values<uint8_t>(DType::u8, {n, layout.row_bytes()}, std::span<const uint8_t>(packed.qweight));
  const std::string scales = unique_name(graph, base + ".scales");
  graph.initializers[scales] = Tensor::owning(scheme.scale_dtype, {n, groups}, packed.scales);
  std::string zeros;
  if (!layout.symmetric) {
    zeros = unique_name(graph, base + ".zeros");
    graph.initializers[zeros] = Tensor::from_values<uint8_t>(DType::u8, {n, groups}, std::span<const uint8_t>(packed.zeros));
  }
  std::string bias = layer.bias;
  if (!bias.empty() && graph.initializer(bias)->dtype() != DType::f32) {
    const auto values = graph.initializer(bias)->to_f32();
    bias = unique_name(graph, bias + ".f32");
    graph.initializers[bias] = Tensor::from_values<float>(DType::f32, {n}, std::span<const float>(values));
  }
  Node& node = graph.nodes[layer.node];
  const std::string input = node.inputs.front();
  std::map<std::string, Attribute> kept;
  if (layer.conv_groups > 0) {
    // The window attributes stay; the weight's spatial dims are gone with it, so kernel_shape is made explicit.
    const auto weight_dims = graph.initializer(node.inputs[1])->dims();
    for (const char* key : {"auto_pad", "dilations", "group", "pads", "strides"})
      if (const auto it = node.attributes.find(key); it != node.attributes.end()) kept.insert(*it);
    kept["kernel_shape"] = std::vector<int64_t>(weight_dims.begin() + 2, weight_dims.end());
  }
  node.op = layer.conv_groups > 0 ? "QConv" : "QLinear";
  node.domain = std::string(kEdgecDomain);
  node.inputs = {input, qweight, scales, zeros, bias};
  node.attributes = std::move(kept);
  node.attributes["bits"] = int64_t{layout.bits};
  node.attributes["group_size"] = layout.group_size;
  node.attributes["in_features"] = layout.in_features;
  if (scheme.activations == ActivationMode::int8_dynamic) node.attributes["activations"] = std::string("int8_dynamic");
  if (scheme.activations == ActivationMode::int8_static) {
    node.attributes["activations"] = std::string("int8_static");
    if (!extras.activation_scale) throw Error(ErrorCategory::internal, "int8_static layer '" + layer.output + "' without a scale");
    const std::string act = unique_name(graph, base + ".act_scale");
    const float value = *extras.activation_scale;
    graph.initializers[act] = Tensor::from_values<float>(DType::f32, {1}, std::span<const float>(&value, 1));
    node.inputs.push_back(act);
  }
  while (!node.inputs.empty() && node.inputs.back().empty()) node.inputs.pop_back();
  if (!graph.opset_imports.count(std::string(kEdgecDomain))) graph.opset_imports[std::string(kEdgecDomain)] = 1;
}

void remove_unused_initializers(Graph& graph) {
  std::set<std::string> used;
  for (const auto& node : graph.nodes) {
    for (const auto& input : node.inputs) used.insert(input);
    for (const auto& [key, value] : node.attributes)  // subgraphs may read any outer value
      if (std::holds_alternative<GraphPtr>(value) || std::holds_alternative<std::vector<GraphPtr>>(value)) return;
  }
  for (const auto& output : graph.outputs) used.insert(output.name);
  for (auto it = graph.initializers.begin(); it != graph.initializers.end();) {
    it = used.count(it->first) ? std::next(it) : graph.initializers.erase(it);
  }
}

bool name_matches(const std::string& pattern, const std::string& name) {
  if (pattern.rfind("re:", 0) == 0) {
    try {
      return std::regex_search(name, std::regex(pattern.substr(3)));
    } catch (const std::regex_error& e) {
      throw Error(ErrorCategory::usage, "invalid regular expression '" + pattern.substr(3) + "': " + e.what());
    }
  }
  return glob_match(pattern.c_str(), name.c_str());
}

}  // namespace edgec::quant
