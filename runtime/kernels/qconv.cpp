// edgec.QConv (docs/ir-ops.md): a Conv whose weight [M, C/group, k1, ...] is stored as the edgec.QLinear weight
// [M, C/group * k1 * ...] (row-major flattening, so a row is one output map's patch). Each group lowers to
// im2col and one quantized product on the QLinear code paths (qlinear_driver.hpp); depthwise convolutions
// (one channel per group), whose rows are a handful of taps, dequantize their few weights into a scratch and
// run the direct loop Conv uses.
#include <string>
#include <vector>

#include "edgec/core/error.hpp"
#include "kernels/conv_geometry.hpp"
#include "kernels/conv_lowering.hpp"
#include "kernels/kernel_util.hpp"
#include "kernels/qlinear_driver.hpp"
#include "kernels/registration.hpp"

namespace edgec::runtime::detail {
namespace {

std::vector<int64_t> kernel_shape(const Node& node) {
  const auto it = node.attributes.find("kernel_shape");
  if (it == node.attributes.end() || !std::holds_alternative<std::vector<int64_t>>(it->second))
    throw Error(ErrorCategory::input, "attribute 'kernel_shape' (ints) is missing");
  const auto& kernel = std::get<std::vector<int64_t>>(it->second);
  if (kernel.empty()) throw Error(ErrorCategory::input, "kernel_shape must name at least one spatial axis");
  for (const int64_t k : kernel)
    if (k < 1) throw Error(ErrorCategory::input, "kernel_shape " + dims_to_string(kernel) + " must be positive");
  return kernel;
}

void check_qconv(const Node& node, int64_t) {
  if (const std::string problem = qlinear::check_attributes(node); !problem.empty()) throw Error(ErrorCategory::input, problem);
  kernel_shape(node);
  const std::string auto_pad = node.attr_string("auto_pad", "NOTSET");
  if (auto_pad != "NOTSET" && auto_pad != "VALID" && auto_pad != "SAME_UPPER" && auto_pad != "SAME_LOWER")
    throw Error(ErrorCategory::input, "auto_pad='" + auto_pad + "'");
  if (node.attr_int("group", 1) < 1) throw Error(ErrorCategory::input, "group must be at least 1");
}

std::vector<HostTensor> run_qconv(const KernelContext& ctx) {
  const qlinear::Operands op = qlinear::read_operands(ctx);
  const std::vector<int64_t> kernel = kernel_shape(ctx.node());
  const HostTensor& x = ctx.input(0);
  if (x.dtype() != DType::f32 || x.rank() != static_cast<int64_t>(kernel.size()) + 2)
    ctx.fail("x must be f32 [N, C, " + std::to_string(kernel.size()) + " spatial dims] for kernel_shape " + dims_to_string(kernel) +
             ", got " + describe(x));
  const int64_t groups = ctx.node().attr_int("group", 1);
  const int64_t batch = x.dims()[0], channels = x.dims()[1], maps = op.w.n;
  if (channels % groups != 0 || maps % groups != 0)
    ctx.fail("group " + std::to_string(groups) + " does not divide the input's " + std::to_string(channels) + " channels and the " +
             std::to_string(maps) + " output maps");
  const int64_t cg = channels / groups, mg = maps / groups;
  const Window w = forward_window(ctx, spatial_dims(ctx, x.dims()), kernel, false);
  const int64_t patch = cg * w.kernel_size(), in_plane = w.in_size(), out_plane = w.out_size();
  if (patch != op.w.k)
    ctx.fail("in_features=" + std::to_string(op.w.k) + " must be C/group x kernel taps = " + std::to_string(cg) + " x " +
             std::to_string(w.kernel_size()) + " for input " + describe(x));
  if (op.int8_activations && cg == 1 && mg == 1) ctx.fail("int8 activations are not supported on depthwise convolutions");

  std::vector<int64_t> dims{batch, maps};
  dims.insert(dims.end(), w.out.begin(), w.out.end());
  HostTensor out = HostTensor::empty(DType::f32, dims);
  const float* px = x.data<float>();
  float* po = out.mutable_data<float>();
  if (cg == 1 && mg == 1) {
    const std::vector<float> weight = qlinear::dequantize(op.w);
    for (int64_t n = 0; n < batch; ++n)
      depthwise(px + n * channels * in_plane, weight.data(), op.w.bias, channels, w, po + n * maps * out_plane);
    return {out};
  }
  std::vector<float> col(static_cast<size_t>(patch * out_plane)), rows(col.size()), y(static_cast<size_t>(out_plane * mg));
  for (int64_t n = 0; n < batch; ++n)
    for (int64_t g = 0; g < groups; ++g) {
      const float* xg = px + (n * channels + g * cg) * in_plane;
      im2col(xg, cg, w, col.data());  // also for 1x1 kernels: the rows are transposed below anyway
      transpose_into(col.data(), patch, out_plane, rows.data());
      if (ctx.observed() && groups == 1)
        ctx.notify_linear_input(HostTensor::from_values<float>(DType::f32, {out_plane, patch}, rows));
      const qlinear::Weights view = op.w.rows_view(g * mg, mg);
      qlinear::compute(ctx, op, view, rows.data(), out_plane, y.data());
      transpose_into(y.data(), out_plane, mg, po + (n * maps + g * mg) * out_plane);
    }
  return {out};
}

}  // namespace

void register_qconv(OpRegistry& registry) { registry.add("edgec", "QConv", run_qconv, check_qconv); }

}  // namespace edgec::runtime::detail
