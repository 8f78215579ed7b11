#pragma once
// Helpers the architecture builders share: checked access to checkpoint tensors (present, floating point,
// the shape the config implies) and emission of nodes with unique value names and HF scopes.
#include <cstdint>
#include <string>
#include <vector>

#include "edgec/core/graph.hpp"

namespace edgec::hf {

class GraphBuilder {
 public:
  // `graph.initializers` already holds every checkpoint tensor; `checkpoint` names the file for messages.
  GraphBuilder(Graph& graph, std::string checkpoint) : graph_(graph), checkpoint_(std::move(checkpoint)) {}

  Graph& graph() { return graph_; }
  bool has(const std::string& tensor) const { return graph_.initializer(tensor) != nullptr; }
  const Tensor* tensor(const std::string& name) const { return graph_.initializer(name); }
  // The tensor must exist, be floating point and have `dims`; `why` says which config keys require it.
  std::string require(const std::string& name, const std::vector<int64_t>& dims, const std::string& why) const;
  // Like require, but "" when the tensor is absent.
  std::string optional(const std::string& name, const std::vector<int64_t>& dims, const std::string& why) const;
  // Shape check only, for a tensor whose size the config does not fully determine.
  [[noreturn]] void fail(const std::string& name, const std::string& what) const;

  // Adds a node and returns the name of its (single) output, "<scope>/<suffix>" made unique.
  std::string add(const std::string& op, const std::string& domain, const std::string& scope,
                  std::vector<std::string> inputs, std::map<std::string, Attribute> attributes = {},
                  const std::string& suffix = "");
  std::string edgec(const std::string& op, const std::string& scope, std::vector<std::string> inputs,
                    std::map<std::string, Attribute> attributes = {}, const std::string& suffix = "") {
    return add(op, std::string(kEdgecDomain), scope, std::move(inputs), std::move(attributes), suffix);
  }
  std::string onnx(const std::string& op, const std::string& scope, std::vector<std::string> inputs,
                   std::map<std::string, Attribute> attributes = {}, const std::string& suffix = "") {
    return add(op, "", scope, std::move(inputs), std::move(attributes), suffix);
  }

  // edgec.Linear with weight `<scope>.weight` [out, in] and, when present (or required), `<scope>.bias`.
  std::string linear(const std::string& scope, const std::string& x, int64_t in, int64_t out, bool bias_required,
                     const std::string& why);
  std::string layer_norm(const std::string& scope, const std::string& x, int64_t size, double eps,
                         const std::string& why);
  std::string rms_norm(const std::string& scope, const std::string& x, int64_t size, double eps,
                       const std::string& why);
  // An HF activation name (hidden_act): gelu, gelu_pytorch_tanh, gelu_new, quick_gelu, silu, relu, ...
  // `where` is the config key for the error on an unknown name.
  std::string activation(const std::string& hf_name, const std::string& scope, const std::string& x,
                         const std::string& where);

  // Renames a node output (and its uses), e.g. to give a graph output a stable name such as "logits".
  void rename(const std::string& value, const std::string& new_name);

  void add_input(const std::string& name, DType dtype, std::vector<Dim> shape);
  void add_output(const std::string& name, DType dtype, std::vector<Dim> shape);

 private:
  Graph& graph_;
  std::string checkpoint_;
  std::map<std::string, int> used_names_;
};

// True when `hf_name` is an activation the builders can emit.
bool is_supported_activation(const std::string& hf_name);

}  // namespace edgec::hf
