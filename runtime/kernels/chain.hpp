#pragma once
// A chain of element-wise f32 steps applied in one pass: what the executor's optimizer (runtime/src/optimize.cpp)
// fuses a run of element-wise nodes into, standalone (edgec_runtime.Chain) or as the epilogue of the Conv, MatMul or
// Gemm that produces its input (edgec_runtime.Conv / MatMul / Gemm). Every step computes exactly what its node's
// kernel computes, with the same float operations in the same order (vector_math.hpp for exp / erf / tanh, as the
// unfused kernels), so a fused graph gives the same bits as the original one.
//
// On a node, a chain is five attributes of one entry per step: chain_ops (ints, Step values), chain_a / chain_b
// (floats, the steps' constants), chain_operand (ints: the node input holding a step's constant tensor operand, or
// -1), chain_axis (ints: the output axis, counted from the end, 1 = last, along which that operand of L elements
// runs; it broadcasts as [1.., L, 1..]) and chain_rank (ints: the rank of the step's constant as the graph had it;
// a 1-element constant of higher rank than the output adds leading 1s to the output's shape, as ONNX broadcasting
// does). chain_ref (ints, optional) names the earlier value a *_x step reads. Output element `index` reads the operand at (index / inner) % L, inner the product of the output's dims
// after that axis (a bias along the last axis: inner 1; a per-channel constant of an NCHW tensor: inner H*W).
#include <cstdint>
#include <string>
#include <vector>

#include "edgec/runtime/op_registry.hpp"
#include "kernels/cpu_isa.hpp"

namespace edgec::runtime::detail::chain {

enum class Step : int64_t {
  // v = v op w, where w is the constant `a`, or the operand tensor when the step has one; r* = w op v.
  add = 0, sub = 1, rsub = 2, mul = 3, div = 4, rdiv = 5,
  // v = v op r, r an earlier value of the chain (chain_ref: the value before step k; 0 is the chain's input), as
  // in hard swish's x * clip(x + 3, 0, 6) / 6 or Gelu's x * 0.5 * (1 + erf(x / sqrt 2)); x_sub = r - v, x_div = r / v.
  add_x = 10, mul_x = 11, sub_x = 12, x_sub = 13, div_x = 14, x_div = 15,
  // unary; clip [a, b], hard_sigmoid max(0, min(1, a v + b)), leaky_relu (a the slope)
  relu = 20, clip = 21, sigmoid = 22, tanh = 23, erf = 24, exp = 25, hard_swish = 26, hard_sigmoid = 27, leaky_relu = 28,
  neg = 29, abs = 30, sqrt = 31,
  // QuantizeLinear to u8 / i8 with a per-tensor scale a and zero point b (round half to even, saturate, NaN -> 0; the
  // code stays a float, exactly), then DequantizeLinear's (v - b) * a: an activation's fake quantization in a QDQ graph.
  quantize_u8 = 32, quantize_i8 = 33, dequantize = 34,
};

struct Operand {
  const float* values = nullptr;
  int64_t length = 0;  // L
  int64_t inner = 1;
};

struct Chain {
  std::vector<Step> steps;
  std::vector<float> a, b;
  std::vector<Operand> operands;  // one per step (values null: no tensor)
  std::vector<int64_t> refs;      // per step: the value before step refs[s] that a *_x step reads (0: the input)
  std::vector<int64_t> saved;     // the distinct referenced steps, ascending (a saved copy each)
  Isa isa = Isa::portable;        // the vector math's path, chosen when the chain is read
  bool empty() const { return steps.empty(); }
};

// The chain of a fused node for an output of `out_dims` (empty without chain_ops); fails through ctx on inconsistent
// attributes or operands. `result_dims` are the dims the chain's output has (out_dims, with leading 1s when a
// constant had a higher rank).
Chain read(const KernelContext& ctx, const std::vector<int64_t>& out_dims, std::vector<int64_t>* result_dims = nullptr);

// Applies the steps to values[0, n), output elements first_index .. first_index + n (for the operands' indexing).
void apply(const Chain& chain, float* values, int64_t n, int64_t first_index);
// The same over a whole output of n elements, blocks in parallel; `source` (when not null) holds the input and
// `values` receives the output (each block is copied in L1, so the input is read once).
void apply_all(const Chain& chain, float* values, int64_t n, const float* source = nullptr);

// The domain of the executor's fused nodes; they exist only in an optimized executor's plan, never in a file.
inline constexpr const char* kDomain = "edgec_runtime";

std::string step_name(Step step);

}  // namespace edgec::runtime::detail::chain
