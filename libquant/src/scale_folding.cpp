#include "edgec/quant/scale_folding.hpp"

#include <map>

#include "edgec/core/error.hpp"

namespace edgec::quant {

namespace {

bool is_norm(const Node& node) {
  if (node.domain == kEdgecDomain) return node.op == "RMSNorm" || node.op == "LayerNorm";
  return node.domain.empty() && node.op == "LayerNormalization" && node.attr_int("axis", -1) == -1;
}

// How many node inputs (and graph outputs) read each value.
std::map<std::string, int> reader_counts(const Graph& graph) {
  std::map<std::string, int> counts;
  for (const auto& node : graph.nodes)
    for (const auto& input : node.inputs)
      if (!input.empty()) ++counts[input];
  for (const auto& output : graph.outputs) ++counts[output.name];
  return counts;
}

void scale_initializer(Graph& graph, const std::string& name, const std::vector<double>& scales, bool divide) {
  const Tensor* tensor = graph.initializer(name);
  std::vector<float> values = tensor->to_f32();
  if (values.size() != scales.size())
    throw Error(ErrorCategory::internal, "cannot scale '" + name + "': " + std::to_string(values.size()) + " values, " +
                                             std::to_string(scales.size()) + " scales");
  for (size_t j = 0; j < values.size(); ++j)
    values[j] = static_cast<float>(divide ? values[j] / scales[j] : values[j] * scales[j]);
  graph.initializers[name] = Tensor::from_values<float>(DType::f32, tensor->dims(), std::span<const float>(values));
}

}  // namespace

std::vector<InputGroup> input_groups(const Graph& graph, const std::vector<LinearLayer>& layers) {
  std::map<std::string, size_t> producer;  // value -> node index
  for (size_t i = 0; i < graph.nodes.size(); ++i)
    for (const auto& output : graph.nodes[i].outputs)
      if (!output.empty()) producer[output] = i;
  std::map<std::string, size_t> layer_of_node_output;
  for (size_t l = 0; l < layers.size(); ++l) layer_of_node_output[layers[l].output] = l;
  const auto readers = reader_counts(graph);

  std::vector<InputGroup> groups;
  std::map<std::string, size_t> group_of_input;
  for (size_t l = 0; l < layers.size(); ++l) {
    // A convolution's input columns are channels x taps, not the channels a preceding op could absorb.
    if (layers[l].conv_groups > 0) continue;
    const std::string& input = graph.nodes[layers[l].node].inputs.front();
    const auto [it, inserted] = group_of_input.emplace(input, groups.size());
    if (inserted) groups.push_back(InputGroup{input, {}, InputGroup::Absorber::none, 0, 0});
    groups[it->second].layers.push_back(l);
  }
  for (auto& group : groups) {
    // Every reader of the value must be a layer of the group, or scaling it would change something else.
    if (readers.at(group.input) != static_cast<int>(group.layers.size())) continue;
    const auto made = producer.find(group.input);
    if (made == producer.end()) continue;
    const Node& node = graph.nodes[made->second];
    if (is_norm(node)) {
      if (node.inputs.size() < 2 || !graph.initializer(node.inputs[1]) || readers.at(node.inputs[1]) != 1) continue;
      if (node.inputs.size() > 2 && !node.inputs[2].empty() && (!graph.initializer(node.inputs[2]) || readers.at(node.inputs[2]) != 1)) continue;
      group.absorber = InputGroup::Absorber::norm;
      group.absorber_node = made->second;
      continue;
    }
    std::string source = group.input;  // a layer's output read directly, or through a Mul
    if (node.domain.empty() && node.op == "Mul" && node.inputs.size() == 2) {
      for (const auto& operand : node.inputs)
        if (layer_of_node_output.count(operand) && readers.at(operand) == 1) source = operand;
      if (source == group.input) continue;
    }
    const auto layer = layer_of_node_output.find(source);
    if (layer == layer_of_node_output.end() || readers.at(source) != 1) continue;
    const LinearLayer& absorbing = layers[layer->second];
    if (absorbing.out_features != layers[group.layers.front()].in_features) continue;
    if (!absorbing.bias.empty() && readers.at(absorbing.bias) != 1) continue;
    group.absorber = InputGroup::Absorber::linear;
    group.absorber_layer = layer->second;
  }
  return groups;
}

void fold_channel_scales(Graph& graph, const InputGroup& group, const std::vector<LinearLayer>& layers, const std::vector<double>& scales) {
  switch (group.absorber) {
    case InputGroup::Absorber::none:
      throw Error(ErrorCategory::internal, "no op absorbs a channel scaling of '" + group.input + "'");
    case InputGroup::Absorber::norm: {
      const Node& norm = graph.nodes[group.absorber_node];
      scale_initializer(graph, norm.inputs[1], scales, true);
      if (norm.inputs.size() > 2 && !norm.inputs[2].empty()) scale_initializer(graph, norm.inputs[2], scales, true);
      break;
    }
    case InputGroup::Absorber::linear: {
      const LinearLayer& absorbing = layers[group.absorber_layer];
      std::vector<float> weight = read_weight(graph, absorbing);
      const int64_t k = absorbing.in_features;
      for (int64_t row = 0; row < absorbing.out_features; ++row)
        for (int64_t col = 0; col < k; ++col) weight[static_cast<size_t>(row * k + col)] /= static_cast<float>(scales[static_cast<size_t>(row)]);
      write_weight(graph, absorbing, weight);
      if (!absorbing.bias.empty()) scale_initializer(graph, absorbing.bias, scales, true);
      break;
    }
  }
  for (size_t l : group.layers) {
    const LinearLayer& layer = layers[l];
    std::vector<float> weight = read_weight(graph, layer);
    const int64_t k = layer.in_features;
    for (int64_t row = 0; row < layer.out_features; ++row)
      for (int64_t col = 0; col < k; ++col) weight[static_cast<size_t>(row * k + col)] *= static_cast<float>(scales[static_cast<size_t>(col)]);
    write_weight(graph, layer, weight);
  }
}

}  // namespace edgec::quant
