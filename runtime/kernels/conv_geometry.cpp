#include "kernels/conv_geometry.hpp"

#include "kernels/kernel_util.hpp"

namespace edgec::runtime::detail {

int64_t Window::in_size() const { return product(in, 0, in.size()); }
int64_t Window::out_size() const { return product(out, 0, out.size()); }
int64_t Window::kernel_size() const { return product(kernel, 0, kernel.size()); }

std::vector<int64_t> spatial_dims(const KernelContext& ctx, const std::vector<int64_t>& dims) {
  if (dims.size() < 3) ctx.fail("expected [N,C,D1,...] with at least one spatial axis, got " + dims_to_string(dims));
  return {dims.begin() + 2, dims.end()};
}

std::vector<int64_t> per_axis(const KernelContext& ctx, const char* key, size_t axes, int64_t fallback) {
  auto values = ctx.node().attr_ints(key);
  if (values.empty()) values.assign(axes, fallback);
  if (values.size() != axes) ctx.fail(std::string(key) + " has " + std::to_string(values.size()) + " entries, expected " + std::to_string(axes));
  return values;
}

namespace {

// Kernel, strides, dilations and explicit pads of a window over `spatial` (auto_pad not applied yet).
Window window_attributes(const KernelContext& ctx, const std::vector<int64_t>& spatial, const std::vector<int64_t>& kernel) {
  const size_t axes = spatial.size();
  if (kernel.size() != axes) ctx.fail("kernel rank does not match the input's spatial rank");
  Window w;
  w.in = spatial;
  w.kernel = kernel;
  w.stride = per_axis(ctx, "strides", axes, 1);
  w.dilation = per_axis(ctx, "dilations", axes, 1);
  std::vector<int64_t> pads = ctx.node().attr_ints("pads");
  if (pads.empty()) pads.assign(2 * axes, 0);
  if (pads.size() != 2 * axes) ctx.fail("pads must have 2 entries per spatial axis");
  w.pad_begin.assign(pads.begin(), pads.begin() + static_cast<std::ptrdiff_t>(axes));
  w.pad_end.assign(pads.begin() + static_cast<std::ptrdiff_t>(axes), pads.end());
  w.out.assign(axes, 1);
  for (size_t i = 0; i < axes; ++i)
    if (w.stride[i] <= 0 || w.dilation[i] <= 0 || kernel[i] <= 0) ctx.fail("kernel, strides and dilations must be positive");
  return w;
}

}  // namespace

Window forward_window(const KernelContext& ctx, const std::vector<int64_t>& spatial, const std::vector<int64_t>& kernel,
                      bool ceil_mode) {
  Window w = window_attributes(ctx, spatial, kernel);
  const std::string auto_pad = ctx.node().attr_string("auto_pad", "NOTSET");
  for (size_t i = 0; i < w.axes(); ++i) {
    const int64_t extent = (kernel[i] - 1) * w.dilation[i] + 1, stride = w.stride[i];
    if (auto_pad == "SAME_UPPER" || auto_pad == "SAME_LOWER") {
      w.out[i] = (spatial[i] + stride - 1) / stride;
      const int64_t total = std::max<int64_t>(0, (w.out[i] - 1) * stride + extent - spatial[i]);
      // SAME_UPPER puts the odd padding at the end, SAME_LOWER at the beginning.
      w.pad_begin[i] = auto_pad == "SAME_UPPER" ? total / 2 : total - total / 2;
      w.pad_end[i] = total - w.pad_begin[i];
      continue;
    }
    if (auto_pad == "VALID") w.pad_begin[i] = w.pad_end[i] = 0;
    else if (auto_pad != "NOTSET") ctx.fail("auto_pad '" + auto_pad + "' is not supported");
    const int64_t span = spatial[i] + w.pad_begin[i] + w.pad_end[i] - extent;
    if (span < 0) ctx.fail("the kernel is larger than the padded input");
    if (ceil_mode) {
      w.out[i] = (span + stride - 1) / stride + 1;
      // The last window must start inside the input or its leading padding (PyTorch and ORT agree).
      if ((w.out[i] - 1) * stride >= spatial[i] + w.pad_begin[i]) --w.out[i];
    } else {
      w.out[i] = span / stride + 1;
    }
  }
  return w;
}

Window transpose_window(const KernelContext& ctx, const std::vector<int64_t>& spatial, const std::vector<int64_t>& kernel) {
  Window w = window_attributes(ctx, spatial, kernel);
  const size_t axes = w.axes();
  const auto output_padding = per_axis(ctx, "output_padding", axes, 0);
  std::vector<int64_t> output_shape = ctx.node().attr_ints("output_shape");
  if (output_shape.size() == axes + 2) output_shape.erase(output_shape.begin(), output_shape.begin() + 2);
  if (!output_shape.empty() && output_shape.size() != axes) ctx.fail("output_shape must have one entry per spatial axis");
  const std::string auto_pad = ctx.node().attr_string("auto_pad", "NOTSET");
  for (size_t i = 0; i < axes; ++i) {
    const int64_t full = w.stride[i] * (spatial[i] - 1) + output_padding[i] + (kernel[i] - 1) * w.dilation[i] + 1;
    int64_t target = -1;
    if (!output_shape.empty()) target = output_shape[i];
    else if (auto_pad == "SAME_UPPER" || auto_pad == "SAME_LOWER") target = spatial[i] * w.stride[i];
    if (target >= 0) {
      // The ONNX spec: the odd unit of padding goes to the end for SAME_UPPER, else to the beginning. The
      // total is negative when output_shape asks for more than the full output (zeros are appended): the
      // spec's halving is Python's floor division, so -1 becomes pads (0, -1), not (-1, 0).
      const int64_t total = full - target;
      const int64_t half = total >= 0 ? total / 2 : -((-total + 1) / 2);
      w.pad_begin[i] = auto_pad == "SAME_UPPER" ? half : total - half;
      w.pad_end[i] = total - w.pad_begin[i];
      w.out[i] = target;
    } else {
      if (auto_pad == "VALID") w.pad_begin[i] = w.pad_end[i] = 0;
      w.out[i] = full - w.pad_begin[i] - w.pad_end[i];
    }
    if (w.out[i] <= 0) ctx.fail("output size is not positive");
  }
  return w;
}

}  // namespace edgec::runtime::detail
