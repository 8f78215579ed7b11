#pragma once
// The edgec.QLinear driver as other quantized ops use it (edgec.QConv lowers to im2col + these products):
// validation of the quantized-weight operands and the product y[rows, N] = x[rows, K] * W^T + b on the best
// code path for the CPU (qlinear.cpp).
#include <string>
#include <vector>

#include "edgec/runtime/op_registry.hpp"
#include "kernels/qlinear_kernels.hpp"

namespace edgec::runtime::detail::qlinear {

// The checked operands of a node laid out as docs/ir-ops.md edgec.QLinear says: attributes bits, group_size,
// in_features, activations; inputs 1-5 qweight, scales, zeros, bias, act_scale.
struct Operands {
  Weights w;
  bool int8_activations = false;       // int8_dynamic or int8_static
  const float* static_scale = nullptr;  // int8_static
};

// "" when the attributes are valid, else what is wrong.
std::string check_attributes(const Node& node);
// Fails through ctx (Error naming the node) on any inconsistent operand.
Operands read_operands(const KernelContext& ctx);
// W [n, k] as f32 (the dequantized weight; for ops too small for the GEMM paths, as depthwise convolutions).
std::vector<float> dequantize(const Weights& w);
// y [rows, w.n] row-major for x [rows, w.k]; `w` is op.w or a rows_view of it.
void compute(const KernelContext& ctx, const Operands& op, const Weights& w, const float* x, int64_t rows, float* y);

}  // namespace edgec::runtime::detail::qlinear
