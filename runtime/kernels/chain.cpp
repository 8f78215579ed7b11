// Element-wise chains (chain.hpp): reading one off a fused node, applying it a block at a time, and the standalone
// edgec_runtime.Chain kernel.
#include "kernels/chain.hpp"

#include <algorithm>
#include <cmath>
#include <cstring>

#include "edgec/core/error.hpp"
#include "kernels/kernel_util.hpp"
#include "kernels/registration.hpp"
#include "kernels/vector_math.hpp"

namespace edgec::runtime::detail::chain {
namespace {

constexpr int64_t kBlock = 1024;

bool known_step(int64_t value) {
  return (value >= 0 && value <= 5) || (value >= 10 && value <= 15) || (value >= 20 && value <= 34);
}

// w[i] = the operand's value for output element first + i.
void gather(const Operand& op, int64_t first, int64_t n, float* w) {
  int64_t i = 0;
  if (op.inner == 1) {
    int64_t q = first % op.length;
    while (i < n) {
      const int64_t run = std::min(n - i, op.length - q);
      std::copy(op.values + q, op.values + q + run, w + i);
      i += run;
      q = 0;
    }
    return;
  }
  while (i < n) {
    const int64_t index = first + i;
    const int64_t run = std::min(n - i, op.inner - index % op.inner);
    std::fill(w + i, w + i + run, op.values[(index / op.inner) % op.length]);
    i += run;
  }
}

template <class F>
void binary(float* v, int64_t n, const float* w, float constant, F f) {
  if (w)
    for (int64_t i = 0; i < n; ++i) v[i] = f(v[i], w[i]);
  else
    for (int64_t i = 0; i < n; ++i) v[i] = f(v[i], constant);
}

constexpr size_t kMaxSaved = 4;

// Compiled for AVX-512, AVX2 and the baseline, chosen when the program loads (the loops are exact element-wise
// float operations, so every version gives the same bits).
__attribute__((target_clones("arch=x86-64-v4", "arch=x86-64-v3", "default")))
void apply_block(const Chain& chain, float* v, int64_t n, int64_t first) {
  float saved[kMaxSaved][kBlock], w[kBlock];
  size_t next_save = 0;
  for (size_t s = 0; s < chain.steps.size(); ++s) {
    // The value before this step, when a later step reads it.
    if (next_save < chain.saved.size() && chain.saved[next_save] == static_cast<int64_t>(s)) std::copy(v, v + n, saved[next_save++]);
    const float* x = nullptr;
    for (size_t k = 0; k < chain.saved.size(); ++k)
      if (chain.saved[k] == chain.refs[s]) x = saved[k];
    const float a = chain.a[s], b = chain.b[s];
    const Operand& op = chain.operands[s];
    const float* wp = nullptr;
    if (op.values) {
      gather(op, first, n, w);
      wp = w;
    }
    switch (chain.steps[s]) {
      case Step::add: binary(v, n, wp, a, [](float p, float q) { return p + q; }); break;
      case Step::sub: binary(v, n, wp, a, [](float p, float q) { return p - q; }); break;
      case Step::rsub: binary(v, n, wp, a, [](float p, float q) { return q - p; }); break;
      case Step::mul: binary(v, n, wp, a, [](float p, float q) { return p * q; }); break;
      case Step::div: binary(v, n, wp, a, [](float p, float q) { return p / q; }); break;
      case Step::rdiv: binary(v, n, wp, a, [](float p, float q) { return q / p; }); break;
      case Step::add_x: for (int64_t i = 0; i < n; ++i) v[i] = v[i] + x[i]; break;
      case Step::mul_x: for (int64_t i = 0; i < n; ++i) v[i] = v[i] * x[i]; break;
      case Step::sub_x: for (int64_t i = 0; i < n; ++i) v[i] = v[i] - x[i]; break;
      case Step::x_sub: for (int64_t i = 0; i < n; ++i) v[i] = x[i] - v[i]; break;
      case Step::div_x: for (int64_t i = 0; i < n; ++i) v[i] = v[i] / x[i]; break;
      case Step::x_div: for (int64_t i = 0; i < n; ++i) v[i] = x[i] / v[i]; break;
      case Step::relu: for (int64_t i = 0; i < n; ++i) v[i] = v[i] > 0.0f ? v[i] : 0.0f; break;
      case Step::clip: for (int64_t i = 0; i < n; ++i) v[i] = v[i] < a ? a : (b < v[i] ? b : v[i]); break;
      case Step::sigmoid: vmath::activation(vmath::Activation::sigmoid, v, v, n, chain.isa); break;
      case Step::tanh: vmath::apply(vmath::Fn::tanh, v, v, n, chain.isa); break;
      case Step::erf: vmath::apply(vmath::Fn::erf, v, v, n, chain.isa); break;
      case Step::exp: vmath::apply(vmath::Fn::exp, v, v, n, chain.isa); break;
      case Step::hard_swish:
        for (int64_t i = 0; i < n; ++i) v[i] = v[i] * std::max(0.0f, std::min(1.0f, v[i] / 6.0f + 0.5f));
        break;
      case Step::hard_sigmoid: for (int64_t i = 0; i < n; ++i) v[i] = std::max(0.0f, std::min(1.0f, a * v[i] + b)); break;
      case Step::leaky_relu: for (int64_t i = 0; i < n; ++i) v[i] = v[i] >= 0.0f ? v[i] : a * v[i]; break;
      case Step::neg: for (int64_t i = 0; i < n; ++i) v[i] = -v[i]; break;
      case Step::abs: for (int64_t i = 0; i < n; ++i) v[i] = v[i] < 0.0f ? -v[i] : v[i]; break;
      case Step::sqrt: for (int64_t i = 0; i < n; ++i) v[i] = std::sqrt(v[i]); break;
      case Step::quantize_u8:
      case Step::quantize_i8: {
        // quantize.cpp's formula: nearbyint(x / s) + z, NaN -> 0, clamped to the code's range.
        const float lo = chain.steps[s] == Step::quantize_u8 ? 0.0f : -128.0f, hi = chain.steps[s] == Step::quantize_u8 ? 255.0f : 127.0f;
        for (int64_t i = 0; i < n; ++i) {
          const float q = std::nearbyint(v[i] / a) + b;
          v[i] = std::isnan(q) ? 0.0f : std::clamp(q, lo, hi);
        }
        break;
      }
      case Step::dequantize: for (int64_t i = 0; i < n; ++i) v[i] = (v[i] - b) * a; break;
    }
  }
}

// edgec_runtime.Chain: y = chain(x) for an f32 x; inputs 1.. are the steps' operands.
std::vector<HostTensor> run_chain(const KernelContext& ctx) {
  const HostTensor& x = ctx.input(0);
  if (x.dtype() != DType::f32) ctx.fail("a fused element-wise chain takes f32, got " + describe(x));
  std::vector<int64_t> dims;
  const Chain chain = read(ctx, x.dims(), &dims);
  HostTensor y = HostTensor::empty(DType::f32, dims);
  apply_all(chain, y.mutable_data<float>(), y.elements(), x.data<float>());
  return {y};
}

}  // namespace

Chain read(const KernelContext& ctx, const std::vector<int64_t>& out_dims, std::vector<int64_t>* result_dims) {
  const Node& node = ctx.node();
  Chain chain;
  if (result_dims) *result_dims = out_dims;
  const auto ops = attr_ints_opt(node, "chain_ops");
  if (!ops) return chain;
  chain.isa = isa_limit();
  const auto a = attr_floats(node, "chain_a"), b = attr_floats(node, "chain_b");
  const auto operand = attr_ints_opt(node, "chain_operand").value_or(std::vector<int64_t>{});
  const auto axis = attr_ints_opt(node, "chain_axis").value_or(std::vector<int64_t>{});
  const auto rank = attr_ints_opt(node, "chain_rank").value_or(std::vector<int64_t>{});
  const auto refs = attr_ints_opt(node, "chain_ref").value_or(std::vector<int64_t>(ops->size(), 0));
  const size_t steps = ops->size();
  if (a.size() != steps || b.size() != steps || operand.size() != steps || axis.size() != steps || rank.size() != steps ||
      refs.size() != steps)
    ctx.fail("chain attributes of different lengths");
  const auto out_rank = static_cast<int64_t>(out_dims.size());
  int64_t max_rank = out_rank;
  for (size_t s = 0; s < steps; ++s) {
    if (!known_step((*ops)[s])) ctx.fail("unknown chain step " + std::to_string((*ops)[s]));
    chain.steps.push_back(static_cast<Step>((*ops)[s]));
    const bool reads_ref = (*ops)[s] >= 10 && (*ops)[s] <= 15;
    if (refs[s] < 0 || refs[s] > static_cast<int64_t>(s) || (reads_ref && refs[s] == static_cast<int64_t>(s)))
      ctx.fail("chain step " + std::to_string(s) + " reads value " + std::to_string(refs[s]) + ", not an earlier one");
    chain.refs.push_back(refs[s]);
    if (reads_ref && std::find(chain.saved.begin(), chain.saved.end(), refs[s]) == chain.saved.end()) chain.saved.push_back(refs[s]);
    chain.a.push_back(a[s]);
    chain.b.push_back(b[s]);
    max_rank = std::max(max_rank, rank[s]);
    Operand op;
    if (operand[s] >= 0) {
      const HostTensor& t = ctx.input(static_cast<size_t>(operand[s]));
      if (t.dtype() != DType::f32 || axis[s] < 1 || axis[s] > out_rank ||
          out_dims[static_cast<size_t>(out_rank - axis[s])] != t.elements())
        ctx.fail("chain operand " + describe(t) + " does not run along axis -" + std::to_string(axis[s]) + " of the output " +
                 dims_to_string(out_dims));
      op = {t.data<float>(), t.elements(), product(out_dims, static_cast<size_t>(out_rank - axis[s] + 1), out_dims.size())};
    }
    chain.operands.push_back(op);
  }
  std::sort(chain.saved.begin(), chain.saved.end());
  if (chain.saved.size() > kMaxSaved) ctx.fail("a chain reads more than " + std::to_string(kMaxSaved) + " earlier values");
  if (result_dims && max_rank > out_rank) result_dims->insert(result_dims->begin(), static_cast<size_t>(max_rank - out_rank), 1);
  return chain;
}

void apply(const Chain& chain, float* values, int64_t n, int64_t first_index) {
  if (chain.empty()) return;
  for (int64_t i = 0; i < n; i += kBlock) apply_block(chain, values + i, std::min(kBlock, n - i), first_index + i);
}

void apply_all(const Chain& chain, float* values, int64_t n, const float* source) {
  if (chain.empty() && !source) return;
  constexpr int64_t kItem = 8 * kBlock;
  parallel_for((n + kItem - 1) / kItem, kItem * 4, [&](int64_t item) {
    for (int64_t b = item * kItem; b < std::min(n, (item + 1) * kItem); b += kBlock) {
      const int64_t m = std::min(kBlock, n - b);
      if (source) std::copy(source + b, source + b + m, values + b);
      if (!chain.empty()) apply_block(chain, values + b, m, b);
    }
  });
}

std::string step_name(Step step) {
  switch (step) {
    case Step::add: return "add"; case Step::sub: return "sub"; case Step::rsub: return "rsub";
    case Step::mul: return "mul"; case Step::div: return "div"; case Step::rdiv: return "rdiv";
    case Step::add_x: return "add_x"; case Step::mul_x: return "mul_x"; case Step::sub_x: return "sub_x";
    case Step::x_sub: return "x_sub"; case Step::div_x: return "div_x"; case Step::x_div: return "x_div";
    case Step::relu: return "relu"; case Step::clip: return "clip"; case Step::sigmoid: return "sigmoid";
    case Step::tanh: return "tanh"; case Step::erf: return "erf"; case Step::exp: return "exp";
    case Step::hard_swish: return "hard_swish"; case Step::hard_sigmoid: return "hard_sigmoid";
    case Step::leaky_relu: return "leaky_relu"; case Step::neg: return "neg"; case Step::abs: return "abs";
    case Step::sqrt: return "sqrt";
    case Step::quantize_u8: return "quantize_u8";
    case Step::quantize_i8: return "quantize_i8";
    case Step::dequantize: return "dequantize";
  }
  return "?";
}

}  // namespace edgec::runtime::detail::chain

namespace edgec::runtime::detail {
void register_chain(OpRegistry& registry) { registry.add(chain::kDomain, "Chain", chain::run_chain); }
}  // namespace edgec::runtime::detail
