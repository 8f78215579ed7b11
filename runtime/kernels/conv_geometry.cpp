#include "kernels/conv_geometry.hpp"

#include "kernels/kernel_util.hpp"

namespace edgec::runtime::detail {

std::vector<int64_t> spatial_dims(const KernelContext& ctx, const std::vector<int64_t>& dims) {
  // "not supported" marks a variant the kernel refuses (3-D), as opposed to a malformed input.
  if (dims.size() > 4)
    ctx.fail("3-D and higher spatial inputs are not supported (1-D and 2-D: [N,C,W] or [N,C,H,W]), got " +
             dims_to_string(dims));
  if (dims.size() < 3) ctx.fail("expected [N,C,W] or [N,C,H,W], got " + dims_to_string(dims));
  return {dims.begin() + 2, dims.end()};
}

namespace {

std::vector<int64_t> per_axis(const KernelContext& ctx, const char* key, size_t axes, int64_t fallback) {
  auto values = ctx.node().attr_ints(key);
  if (values.empty()) values.assign(axes, fallback);
  if (values.size() != axes) ctx.fail(std::string(key) + " has " + std::to_string(values.size()) + " entries, expected " + std::to_string(axes));
  return values;
}

}  // namespace

Window2d forward_window(const KernelContext& ctx, const std::vector<int64_t>& spatial,
                        const std::vector<int64_t>& kernel, bool ceil_mode) {
  const size_t axes = spatial.size();
  if (kernel.size() != axes) ctx.fail("kernel rank does not match the input's spatial rank");
  const auto strides = per_axis(ctx, "strides", axes, 1);
  const auto dilations = per_axis(ctx, "dilations", axes, 1);
  std::vector<int64_t> pads = ctx.node().attr_ints("pads");
  if (pads.empty()) pads.assign(2 * axes, 0);
  if (pads.size() != 2 * axes) ctx.fail("pads must have 2 entries per spatial axis");
  const std::string auto_pad = ctx.node().attr_string("auto_pad", "NOTSET");
  std::vector<int64_t> out(axes);
  for (size_t i = 0; i < axes; ++i) {
    if (strides[i] <= 0 || dilations[i] <= 0 || kernel[i] <= 0) ctx.fail("kernel, strides and dilations must be positive");
    const int64_t extent = (kernel[i] - 1) * dilations[i] + 1;
    if (auto_pad == "SAME_UPPER" || auto_pad == "SAME_LOWER") {
      out[i] = (spatial[i] + strides[i] - 1) / strides[i];
      const int64_t total = std::max<int64_t>(0, (out[i] - 1) * strides[i] + extent - spatial[i]);
      // SAME_UPPER puts the odd padding at the end, SAME_LOWER at the beginning.
      pads[i] = auto_pad == "SAME_UPPER" ? total / 2 : total - total / 2;
      pads[i + axes] = total - pads[i];
    } else {
      if (auto_pad == "VALID") pads[i] = pads[i + axes] = 0;
      else if (auto_pad != "NOTSET") ctx.fail("auto_pad '" + auto_pad + "' is not supported");
      const int64_t span = spatial[i] + pads[i] + pads[i + axes] - extent;
      if (span < 0) ctx.fail("the kernel is larger than the padded input");
      if (ceil_mode) {
        out[i] = (span + strides[i] - 1) / strides[i] + 1;
        // The last window must start inside the input or its leading padding (PyTorch and ORT agree).
        if ((out[i] - 1) * strides[i] >= spatial[i] + pads[i]) --out[i];
      } else {
        out[i] = span / strides[i] + 1;
      }
    }
  }
  Window2d w;
  const size_t h = axes == 2 ? 0 : axes;  // index of the height axis, or none for 1-D
  const size_t x = axes - 1;
  w.in_w = spatial[x];
  w.k_w = kernel[x];
  w.stride_w = strides[x];
  w.dil_w = dilations[x];
  w.pad_left = pads[x];
  w.pad_right = pads[x + axes];
  w.out_w = out[x];
  if (h < axes) {
    w.in_h = spatial[h];
    w.k_h = kernel[h];
    w.stride_h = strides[h];
    w.dil_h = dilations[h];
    w.pad_top = pads[h];
    w.pad_bottom = pads[h + axes];
    w.out_h = out[h];
  }
  return w;
}

}  // namespace edgec::runtime::detail
