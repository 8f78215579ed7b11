#pragma once
// The one IR every stage works on. Values are named (SSA: each name is defined once, by a graph input, an
// initializer or a node output); nodes are kept in topological order. ONNX ops keep their ONNX names in the
// default domain; the high-level ops the Hugging Face importers emit live in the "edgec" domain
// (see docs/architecture.md for their exact semantics).
#include <cstdint>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <variant>
#include <vector>

#include "edgec/core/tensor.hpp"

namespace edgec {

inline constexpr std::string_view kEdgecDomain = "edgec";

// One dimension of a declared shape: a known size, a symbolic name ("batch"), or unknown.
struct Dim {
  int64_t value = -1;
  std::string symbol;
  bool known() const { return value >= 0; }
  static Dim of(int64_t v) { return Dim{v, {}}; }
  static Dim named(std::string name) { return Dim{-1, std::move(name)}; }
};

enum class ValueKind { tensor, sequence, map, optional, sparse_tensor, unknown };

struct ValueType {
  ValueKind kind = ValueKind::tensor;
  DType dtype = DType::undefined;           // element type (for sequences/optionals: of the element tensor)
  std::optional<std::vector<Dim>> shape;    // nullopt: rank unknown
};

struct ValueInfo {
  std::string name;
  ValueType type;
};

struct Graph;
using GraphPtr = std::shared_ptr<Graph>;

using Attribute = std::variant<int64_t, float, std::string, Tensor, GraphPtr, std::vector<int64_t>,
                               std::vector<float>, std::vector<std::string>, std::vector<Tensor>,
                               std::vector<GraphPtr>>;

struct Node {
  std::string name;
  std::string op;
  std::string domain;  // "" is the ONNX default domain
  std::string scope;   // module path, e.g. language_model.model.layers.3.self_attn.q_proj
  std::vector<std::string> inputs;   // "" marks an omitted optional input
  std::vector<std::string> outputs;  // "" marks an omitted optional output
  std::map<std::string, Attribute> attributes;

  bool has_attribute(std::string_view key) const { return attributes.find(std::string(key)) != attributes.end(); }
  int64_t attr_int(std::string_view key, int64_t fallback) const;
  float attr_float(std::string_view key, float fallback) const;
  std::string attr_string(std::string_view key, std::string fallback) const;
  std::vector<int64_t> attr_ints(std::string_view key) const;  // empty when absent
  // The op as printed in histograms: "Conv" for ONNX ops, "edgec.Linear" for others.
  std::string qualified_op() const;
};

struct Graph {
  std::string name;
  std::vector<ValueInfo> inputs;
  std::vector<ValueInfo> outputs;
  std::vector<Node> nodes;
  std::map<std::string, Tensor> initializers;   // sorted by name: deterministic iteration
  std::map<std::string, ValueType> value_info;  // declared types of intermediate values
  std::map<std::string, int64_t> opset_imports; // domain -> version (top-level graphs)

  const Tensor* initializer(std::string_view value) const;
  // Declared type of a value wherever it is declared (input, output, value_info, initializer).
  std::optional<ValueType> type_of(std::string_view value) const;
};

// Checks the invariants every stage relies on and throws Error(input) naming `where` and the first
// violation: defined-before-use (topological order), single definition, no dangling references, declared
// graph outputs defined, initializer bytes consistent with dtype x dims, declared types consistent with
// initializers. Subgraphs (If/Loop/Scan bodies) are checked with the enclosing values visible.
void validate_graph(const Graph& graph, const std::string& where);

// Turns every top-level ONNX `Constant` node holding a tensor (`value`) into an initializer of the same name, so
// passes that look for constant weights (quantization) find weights exported as Constant nodes (PaddlePaddle's
// exporter writes every PP-OCR weight this way). Returns how many nodes it replaced.
size_t constants_to_initializers(Graph& graph);

// Sorts nodes topologically, keeping the original order among ready nodes (stable, so deterministic).
// Throws Error(input) naming `where` on a cycle or on an input that nothing defines.
void sort_topologically(Graph& graph, const std::string& where);

}  // namespace edgec
