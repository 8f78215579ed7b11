#include "edgec/core/graph.hpp"

namespace edgec {

namespace {

template <class T>
const T* find_attribute(const Node& node, std::string_view key) {
  const auto it = node.attributes.find(std::string(key));
  if (it == node.attributes.end()) return nullptr;
  return std::get_if<T>(&it->second);
}

}  // namespace

int64_t Node::attr_int(std::string_view key, int64_t fallback) const {
  const auto* value = find_attribute<int64_t>(*this, key);
  return value ? *value : fallback;
}

float Node::attr_float(std::string_view key, float fallback) const {
  const auto* value = find_attribute<float>(*this, key);
  return value ? *value : fallback;
}

std::string Node::attr_string(std::string_view key, std::string fallback) const {
  const auto* value = find_attribute<std::string>(*this, key);
  return value ? *value : fallback;
}

std::vector<int64_t> Node::attr_ints(std::string_view key) const {
  const auto* value = find_attribute<std::vector<int64_t>>(*this, key);
  return value ? *value : std::vector<int64_t>{};
}

std::string Node::qualified_op() const {
  if (domain.empty() || domain == "ai.onnx") return op;
  return domain + "." + op;
}

const Tensor* Graph::initializer(std::string_view value) const {
  const auto it = initializers.find(std::string(value));
  return it == initializers.end() ? nullptr : &it->second;
}

std::optional<ValueType> Graph::type_of(std::string_view value) const {
  for (const auto& list : {&inputs, &outputs})
    for (const auto& info : *list)
      if (info.name == value) return info.type;
  if (const auto it = value_info.find(std::string(value)); it != value_info.end()) return it->second;
  if (const Tensor* tensor = initializer(value)) {
    ValueType type;
    type.dtype = tensor->dtype();
    std::vector<Dim> dims;
    for (const int64_t d : tensor->dims()) dims.push_back(Dim::of(d));
    type.shape = std::move(dims);
    return type;
  }
  return std::nullopt;
}

}  // namespace edgec
