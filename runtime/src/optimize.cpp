// The executor's graph optimizer (optimize.hpp): constant folding, then element-wise chains fused standalone or into
// the Conv / MatMul / Gemm producing them. Every rewrite keeps the bits: folding runs the same kernels once, and a
// chain step is its node's computation (kernels/chain.hpp).
#include "edgec/runtime/optimize.hpp"

#include <algorithm>
#include <cstring>
#include <limits>
#include <map>
#include <optional>
#include <set>

#include "edgec/core/error.hpp"
#include "edgec/runtime/executor.hpp"
#include "kernels/chain.hpp"
#include "kernels/kernel_util.hpp"

namespace edgec::runtime {
namespace {

namespace chain = detail::chain;
using chain::Step;

bool is_onnx(const Node& node) { return canonical_domain(node.domain).empty(); }

bool has_subgraph(const Node& node) {
  return std::any_of(node.attributes.begin(), node.attributes.end(), [](const auto& entry) {
    return std::holds_alternative<GraphPtr>(entry.second) || std::holds_alternative<std::vector<GraphPtr>>(entry.second);
  });
}

// ---- constant folding ----------------------------------------------------------------------------------------------

const std::set<std::string, std::less<>> kNeverFold{"RandomNormal", "RandomUniform", "RandomNormalLike", "RandomUniformLike",
                                                    "Multinomial", "Bernoulli"};

int64_t fold_constants(Graph& g, const OpRegistry& registry) {
  int64_t folded = static_cast<int64_t>(constants_to_initializers(g));
  std::set<std::string, std::less<>> inputs, outputs;
  for (const auto& info : g.inputs) inputs.insert(info.name);
  for (const auto& info : g.outputs) outputs.insert(info.name);
  const auto constant = [&](const std::string& name) { return g.initializers.count(name) && !inputs.count(name); };
  std::vector<Node> kept;
  for (Node& node : g.nodes) {
    const KernelEntry* entry = registry.find(node.domain, node.op);
    const bool candidate = entry && !node.inputs.empty() && !has_subgraph(node) && !(is_onnx(node) && kNeverFold.count(node.op)) &&
                           std::all_of(node.inputs.begin(), node.inputs.end(), [&](const std::string& in) { return in.empty() || constant(in); }) &&
                           std::none_of(node.outputs.begin(), node.outputs.end(), [&](const std::string& out) { return out.empty() || outputs.count(out); });
    std::vector<HostTensor> results;
    if (candidate) {
      std::vector<HostTensor> values;
      values.reserve(node.inputs.size());
      int64_t input_bytes = 0;
      for (const auto& in : node.inputs) {
        values.push_back(in.empty() ? HostTensor{} : HostTensor::from_ir(g.initializers.at(in)));
        input_bytes += static_cast<int64_t>(values.back().size_bytes());
      }
      std::vector<const HostTensor*> args;
      for (const auto& v : values) args.push_back(v.defined() ? &v : nullptr);
      const std::vector<uint8_t> constants(args.size(), 1);
      try {
        if (entry->check) entry->check(node, opset_of(g, node.domain));
        const KernelContext ctx(node, args, opset_of(g, node.domain), {}, constants, nullptr);
        results = entry->run(ctx);
      } catch (const Error&) {
        results.clear();  // left to fail (or not) at run time, with the inputs the caller gives
      }
      int64_t output_bytes = 0;
      bool complete = results.size() == node.outputs.size();
      for (const auto& r : results) {
        complete = complete && r.defined();
        output_bytes += r.defined() ? static_cast<int64_t>(r.size_bytes()) : 0;
      }
      if (!complete || (output_bytes > 4 * input_bytes && output_bytes > (int64_t{1} << 20))) results.clear();
    }
    if (results.empty()) {
      kept.push_back(std::move(node));
      continue;
    }
    for (size_t k = 0; k < results.size(); ++k) g.initializers[node.outputs[k]] = results[k].to_ir();
    ++folded;
  }
  g.nodes = std::move(kept);
  // Initializers no node reads any more (a quantized weight whose DequantizeLinear was folded).
  std::set<std::string, std::less<>> used(outputs.begin(), outputs.end());
  for (const Node& node : g.nodes)
    for (const auto& in : node.inputs) used.insert(in);
  std::erase_if(g.initializers, [&](const auto& entry) { return !used.count(entry.first) && !inputs.count(entry.first); });
  return folded;
}

// ---- element dtypes, where they follow from the graph alone -------------------------------------------------------

const std::set<std::string, std::less<>> kSameAsInput0{
    "Add", "Sub", "Mul", "Div", "Relu", "Clip", "Sigmoid", "Tanh", "Erf", "Exp", "HardSwish", "HardSigmoid", "LeakyRelu", "Neg",
    "Abs", "Sqrt", "Conv", "ConvTranspose", "MatMul", "Gemm", "Softmax", "Transpose", "Reshape", "Flatten", "Squeeze",
    "Unsqueeze", "Concat", "Slice", "Pad", "Resize", "MaxPool", "AveragePool", "GlobalAveragePool", "GlobalMaxPool",
    "BatchNormalization", "LayerNormalization", "ReduceMean", "ReduceSum", "ReduceMax", "Identity", "Split", "Gather", "Expand",
    "Pow", "Reciprocal", "Floor", "Ceil", "Round", "Max", "Min", "Tile", "DepthToSpace", "SpaceToDepth", "Gelu", "InstanceNormalization"};

std::map<std::string, DType, std::less<>> infer_dtypes(const Graph& g) {
  std::map<std::string, DType, std::less<>> types;
  for (const auto& [name, tensor] : g.initializers) types[name] = tensor.dtype();
  for (const auto& info : g.inputs)
    if (info.type.dtype != DType::undefined) types[info.name] = info.type.dtype;
  for (const auto& [name, type] : g.value_info)
    if (type.dtype != DType::undefined && !types.count(name)) types[name] = type.dtype;
  for (const Node& node : g.nodes) {
    std::optional<DType> out;
    if (node.domain == "edgec") out = node.op == "Embedding" || node.op == "Linear" || node.op == "QLinear" ? DType::f32 : DType::undefined;
    if (!is_onnx(node)) {
      if (out && *out != DType::undefined)
        for (const auto& o : node.outputs) types[o] = *out;
      continue;
    }
    const auto type_of = [&](size_t i) -> std::optional<DType> {
      if (i >= node.inputs.size() || node.inputs[i].empty()) return std::nullopt;
      const auto it = types.find(node.inputs[i]);
      return it == types.end() ? std::nullopt : std::optional<DType>(it->second);
    };
    if (kSameAsInput0.count(node.op)) out = type_of(0);
    else if (node.op == "Cast") out = detail::dtype_from_onnx(node.attr_int("to", 0));
    else if (node.op == "DequantizeLinear") out = type_of(1);
    else if (node.op == "Shape" || node.op == "Size") out = DType::i64;
    if (!out || *out == DType::undefined) continue;
    // Multi-output ops whose other outputs have other types (MaxPool's Indices, BatchNorm's statistics) keep those unknown.
    types[node.outputs.at(0)] = *out;
    if (node.op == "Split")
      for (const auto& o : node.outputs) types[o] = *out;
  }
  return types;
}

// ---- element-wise chains -------------------------------------------------------------------------------------------

// What is known about the producer's output, for tensor operands: the output's rank and the length of one axis.
struct Known {
  int64_t rank = -1;        // -1: unknown
  int64_t axis = 0;         // from the end (1 = last); 0: none known
  int64_t length = 0;       // the output's dim on that axis
};

struct ChainPlan {
  std::vector<size_t> nodes;  // fused nodes, in graph order
  std::vector<int64_t> ops, operand, axis, rank, ref;
  std::vector<std::string> values;  // values[s]: the chain's value before step s (values[0]: its input)
  std::vector<float> a, b;
  std::vector<std::string> operands;  // constant tensors read by the steps, in order
  std::string output;

  void pop() {
    nodes.pop_back();
    values.pop_back();
    for (auto* v : {&ops, &operand, &axis, &rank, &ref}) v->pop_back();
    a.pop_back();
    b.pop_back();
  }
  bool operand_of_last() const { return !operand.empty() && operand.back() >= 0; }
};

class ChainBuilder {
 public:
  ChainBuilder(const Graph& g, const std::map<std::string, DType, std::less<>>& types) : g_(g), types_(types) {
    for (const auto& info : g.inputs) inputs_.insert(info.name);
    for (const auto& info : g.outputs) outputs_.insert(info.name);
    for (size_t i = 0; i < g.nodes.size(); ++i)
      for (const auto& in : g.nodes[i].inputs)
        if (!in.empty()) consumers_[in].push_back(i);
  }

  bool is_f32(const std::string& name) const {
    const auto it = types_.find(name);
    return it != types_.end() && it->second == DType::f32;
  }
  const Tensor* constant(const std::string& name) const {
    if (name.empty() || inputs_.count(name)) return nullptr;
    const auto it = g_.initializers.find(name);
    return it == g_.initializers.end() ? nullptr : &it->second;
  }
  bool is_output(const std::string& name) const { return outputs_.count(name) > 0; }
  const std::vector<size_t>& consumers(const std::string& name) const {
    static const std::vector<size_t> none;
    const auto it = consumers_.find(name);
    return it == consumers_.end() ? none : it->second;
  }

  // The longest chain from value `x` (nodes not in `taken`); `known` describes x's shape for tensor operands.
  ChainPlan build(const std::string& x, const Known& known, const std::vector<uint8_t>& taken) const {
    ChainPlan plan;
    std::string cur = x;
    plan.values.push_back(x);
    for (;;) {
      bool extended = false;
      for (const size_t c : consumers(cur)) {
        if (taken[c] || std::find(plan.nodes.begin(), plan.nodes.end(), c) != plan.nodes.end()) continue;
        if (!plan.nodes.empty() && c < plan.nodes.back()) continue;
        if (add_step(g_.nodes[c], cur, known, plan)) {
          plan.nodes.push_back(c);
          cur = g_.nodes[c].outputs[0];
          plan.values.push_back(cur);
          extended = true;
          break;
        }
      }
      if (!extended) break;
    }
    plan.output = cur;
    return plan;
  }

  // Drops nodes from the end until every fused-away value is read only inside the chain (and x too when
  // `x_fused`: a producer's output that the fused producer no longer writes).
  void trim(ChainPlan& plan, const std::string& x, bool x_fused) const {
    while (!plan.nodes.empty()) {
      const std::set<size_t> inside(plan.nodes.begin(), plan.nodes.end());
      const auto only_inside = [&](const std::string& v) {
        if (is_output(v)) return false;
        for (const size_t c : consumers(v))
          if (!inside.count(c)) return false;
        return true;
      };
      bool ok = !x_fused || only_inside(x);
      for (size_t i = 0; ok && i + 1 < plan.nodes.size(); ++i) ok = only_inside(g_.nodes[plan.nodes[i]].outputs[0]);
      // A chain never ends on a QuantizeLinear: its output is an integer tensor, the chain's a float one.
      const bool ends_quantized = plan.ops.back() == static_cast<int64_t>(Step::quantize_u8) ||
                                  plan.ops.back() == static_cast<int64_t>(Step::quantize_i8);
      if (ok && !ends_quantized) break;
      if (plan.operand_of_last()) plan.operands.pop_back();
      plan.pop();
    }
    plan.output = plan.nodes.empty() ? x : g_.nodes[plan.nodes.back()].outputs[0];
  }

 private:
  void push(ChainPlan& plan, Step step, float a = 0, float b = 0, int64_t rank = 0) const {
    plan.ops.push_back(static_cast<int64_t>(step));
    plan.a.push_back(a);
    plan.b.push_back(b);
    plan.operand.push_back(-1);
    plan.axis.push_back(0);
    plan.rank.push_back(rank);
    plan.ref.push_back(0);
  }

  // A 1-element f32 constant's value.
  static std::optional<float> scalar(const Tensor* t) {
    if (!t || t->dtype() != DType::f32 || t->bytes().size() != 4) return std::nullopt;
    float v;
    std::memcpy(&v, t->bytes().data(), 4);
    return v;
  }

  bool add_step(const Node& node, const std::string& cur, const Known& known, ChainPlan& plan) const {
    if (!is_onnx(node) || node.outputs.size() != 1 || node.outputs[0].empty() || has_subgraph(node)) return false;
    const std::string& op = node.op;
    const auto& in = node.inputs;
    static const std::map<std::string, Step, std::less<>> unary{
        {"Relu", Step::relu}, {"Sigmoid", Step::sigmoid}, {"Tanh", Step::tanh}, {"Erf", Step::erf}, {"Exp", Step::exp},
        {"HardSwish", Step::hard_swish}, {"Neg", Step::neg}, {"Abs", Step::abs}, {"Sqrt", Step::sqrt}};
    if (const auto it = unary.find(op); it != unary.end()) {
      if (in.size() != 1 || in[0] != cur) return false;
      push(plan, it->second);
      return true;
    }
    if (op == "LeakyRelu" || op == "HardSigmoid") {
      if (in.size() != 1 || in[0] != cur) return false;
      if (op == "LeakyRelu") push(plan, Step::leaky_relu, node.attr_float("alpha", 0.01f));
      else push(plan, Step::hard_sigmoid, node.attr_float("alpha", 0.2f), node.attr_float("beta", 0.5f));
      return true;
    }
    if (op == "Clip") {
      if (in.empty() || in[0] != cur) return false;
      float lo = -std::numeric_limits<float>::max(), hi = std::numeric_limits<float>::max();
      if (opset_of(g_, node.domain) < 11) {
        lo = node.attr_float("min", lo);
        hi = node.attr_float("max", hi);
      } else {
        lo = std::numeric_limits<float>::lowest();
        for (size_t k = 1; k < in.size(); ++k) {
          if (in[k].empty()) continue;
          const auto v = scalar(constant(in[k]));
          if (!v) return false;
          (k == 1 ? lo : hi) = *v;
        }
      }
      push(plan, Step::clip, lo, hi);
      return true;
    }
    if (op == "QuantizeLinear" || op == "DequantizeLinear") {
      // A per-tensor QuantizeLinear to u8 / i8 followed (only) by its DequantizeLinear: the pair is two steps.
      if (in.size() < 2 || in[0] != cur || node.has_attribute("output_dtype") || node.has_attribute("block_size")) return false;
      const auto scale = scalar(constant(in[1]));
      const Tensor* zero = in.size() > 2 && !in[2].empty() ? constant(in[2]) : nullptr;
      if (!scale || (in.size() > 2 && !in[2].empty() && (!zero || zero->bytes().size() != 1))) return false;
      const DType code = zero ? zero->dtype() : DType::u8;
      if (code != DType::u8 && code != DType::i8) return false;
      const float z = !zero ? 0.0f : code == DType::u8 ? static_cast<float>(std::to_integer<uint8_t>(zero->bytes()[0]))
                                                         : static_cast<float>(static_cast<int8_t>(std::to_integer<uint8_t>(zero->bytes()[0])));
      const bool after_quantize = !plan.ops.empty() && (plan.ops.back() == static_cast<int64_t>(Step::quantize_u8) ||
                                                        plan.ops.back() == static_cast<int64_t>(Step::quantize_i8));
      if (op == "QuantizeLinear") {
        if (after_quantize || consumers(node.outputs[0]).size() != 1) return false;
        push(plan, code == DType::u8 ? Step::quantize_u8 : Step::quantize_i8, *scale, z);
        return true;
      }
      if (!after_quantize || plan.a.back() != *scale || plan.b.back() != z) return false;
      push(plan, Step::dequantize, *scale, z);
      return true;
    }
    static const std::map<std::string, std::pair<Step, Step>, std::less<>> binary{
        {"Add", {Step::add, Step::add}}, {"Mul", {Step::mul, Step::mul}}, {"Sub", {Step::sub, Step::rsub}}, {"Div", {Step::div, Step::rdiv}}};
    const auto it = binary.find(op);
    if (it == binary.end() || in.size() != 2 || (in[0] != cur && in[1] != cur) || in[0] == in[1]) return false;
    const bool cur_first = in[0] == cur;
    const std::string& other = cur_first ? in[1] : in[0];
    const auto earlier = std::find(plan.values.begin(), plan.values.end(), other);
    if (earlier != plan.values.end()) {
      // v op r (or r op v): r is an earlier value of the chain, at most four distinct ones.
      std::set<int64_t> refs;
      for (size_t s = 0; s < plan.ops.size(); ++s)
        if (plan.ops[s] >= 10 && plan.ops[s] <= 15) refs.insert(plan.ref[s]);
      refs.insert(earlier - plan.values.begin());
      if (refs.size() > 4) return false;
      static const std::map<std::string, std::pair<Step, Step>, std::less<>> with_x{
          {"Add", {Step::add_x, Step::add_x}}, {"Mul", {Step::mul_x, Step::mul_x}}, {"Sub", {Step::sub_x, Step::x_sub}},
          {"Div", {Step::div_x, Step::x_div}}};
      const auto& steps = with_x.at(op);
      push(plan, cur_first ? steps.first : steps.second);
      plan.ref.back() = earlier - plan.values.begin();
      return true;
    }
    const Tensor* t = constant(other);
    if (!t || t->dtype() != DType::f32) return false;
    const Step step = cur_first ? it->second.first : it->second.second;
    const auto rank = static_cast<int64_t>(t->dims().size());
    if (const auto v = scalar(t)) {
      push(plan, step, *v, 0, rank);
      return true;
    }
    // A constant running along one axis of the producer's output ([1.., L, 1..], right-aligned).
    if (known.axis == 0 || (known.rank >= 0 && rank > known.rank)) return false;
    int64_t axis = 0, length = 0;
    for (int64_t d = 0; d < rank; ++d)
      if (t->dims()[static_cast<size_t>(d)] != 1) {
        if (axis != 0) return false;
        axis = rank - d;
        length = t->dims()[static_cast<size_t>(d)];
      }
    if (axis != known.axis || length != known.length) return false;
    push(plan, step, 0, 0, rank);
    plan.operand.back() = 0;  // set to the input index when the node is written
    plan.axis.back() = axis;
    plan.operands.push_back(other);
    return true;
  }

  const Graph& g_;
  const std::map<std::string, DType, std::less<>>& types_;
  std::set<std::string, std::less<>> inputs_, outputs_;
  std::map<std::string, std::vector<size_t>, std::less<>> consumers_;
};

void set_chain_attributes(Node& node, const ChainPlan& plan, size_t first_operand_input) {
  std::vector<int64_t> operand = plan.operand;
  size_t next = first_operand_input;
  for (auto& o : operand)
    if (o >= 0) o = static_cast<int64_t>(next++);
  node.attributes["chain_ops"] = plan.ops;
  node.attributes["chain_a"] = plan.a;
  node.attributes["chain_b"] = plan.b;
  node.attributes["chain_operand"] = operand;
  node.attributes["chain_axis"] = plan.axis;
  node.attributes["chain_rank"] = plan.rank;
  node.attributes["chain_ref"] = plan.ref;
  for (const auto& name : plan.operands) node.inputs.push_back(name);
}

// What a producer's output is known to look like, from its constant weight; nullopt when it is not a producer whose
// epilogue runs chains (f32 Conv, MatMul, Gemm of the ONNX domain).
std::optional<Known> producer(const Node& node, const ChainBuilder& b) {
  if (!is_onnx(node) || node.outputs.size() != 1 || node.outputs[0].empty() || node.inputs.size() < 2) return std::nullopt;
  if (node.op != "Conv" && node.op != "MatMul" && node.op != "Gemm") return std::nullopt;
  if (!b.is_f32(node.inputs[0]) && !b.is_f32(node.inputs[1])) return std::nullopt;
  Known known;
  const Tensor* w = b.constant(node.inputs[1]);
  if (node.op == "Conv") {
    if (w && w->dims().size() >= 3) known = {static_cast<int64_t>(w->dims().size()), static_cast<int64_t>(w->dims().size()) - 1, w->dims()[0]};
  } else if (node.op == "MatMul") {
    if (w && w->dims().size() == 2) known = {-1, 1, w->dims()[1]};
  } else if (w && w->dims().size() == 2) {
    known = {2, 1, node.attr_int("transB", 0) ? w->dims()[0] : w->dims()[1]};
  }
  return known;
}

void fuse_chains(Graph& g, OptimizeReport& report) {
  const auto types = infer_dtypes(g);
  const ChainBuilder builder(g, types);
  std::vector<uint8_t> taken(g.nodes.size(), 0);
  std::map<size_t, Node> replace;  // node index -> the fused node written in its place
  for (size_t i = 0; i < g.nodes.size(); ++i) {
    if (taken[i]) continue;
    const Node& node = g.nodes[i];
    if (const auto known = producer(node, builder)) {
      ChainPlan plan = builder.build(node.outputs[0], *known, taken);
      builder.trim(plan, node.outputs[0], true);
      if (plan.nodes.empty()) continue;
      Node fused = node;
      fused.domain = chain::kDomain;
      fused.outputs = {plan.output};
      const size_t fixed = node.op == "MatMul" ? 2 : 3;  // Conv / Gemm: the optional bias slot is kept
      fused.inputs.resize(std::max(fused.inputs.size(), fixed));
      set_chain_attributes(fused, plan, fixed);
      for (const size_t c : plan.nodes) taken[c] = 1;
      taken[i] = 1;
      replace[i] = std::move(fused);
      ++report.chains;
      ++report.epilogues;
      report.chain_nodes += static_cast<int64_t>(plan.nodes.size());
      continue;
    }
    // A standalone chain from an f32 value into its first element-wise consumer.
    for (const auto& in : node.inputs) {
      if (in.empty() || builder.constant(in) || !builder.is_f32(in)) continue;
      ChainPlan plan = builder.build(in, Known{}, taken);
      if (plan.nodes.empty() || plan.nodes.front() != i) continue;
      builder.trim(plan, in, false);
      if (plan.nodes.size() < 2) continue;  // one node alone is as fast as it is
      Node fused;
      fused.op = "Chain";
      fused.domain = chain::kDomain;
      fused.name = g.nodes[plan.nodes.back()].name.empty() ? plan.output : g.nodes[plan.nodes.back()].name;
      fused.inputs = {in};
      fused.outputs = {plan.output};
      set_chain_attributes(fused, plan, 1);
      for (const size_t c : plan.nodes) taken[c] = 1;
      replace[plan.nodes.back()] = std::move(fused);
      ++report.chains;
      report.chain_nodes += static_cast<int64_t>(plan.nodes.size());
      break;
    }
  }
  if (replace.empty()) return;
  std::vector<Node> nodes;
  for (size_t i = 0; i < g.nodes.size(); ++i) {
    if (const auto it = replace.find(i); it != replace.end()) nodes.push_back(std::move(it->second));
    else if (!taken[i]) nodes.push_back(std::move(g.nodes[i]));
  }
  g.nodes = std::move(nodes);
  // The fused kernels run at the default domain's opset.
  g.opset_imports[chain::kDomain] = opset_of(g, "");
}

}  // namespace

Graph optimize_graph(const Graph& graph, const OpRegistry& registry, OptimizeReport* report) {
  OptimizeReport local;
  Graph g = graph;
  local.folded = fold_constants(g, registry);
  fuse_chains(g, local);
  if (report) *report = local;
  return g;
}

}  // namespace edgec::runtime
