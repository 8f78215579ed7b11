// MaxPool / AveragePool (1-D and 2-D, pads, strides, dilations for MaxPool, ceil_mode, count_include_pad)
// and GlobalAveragePool / GlobalMaxPool over any number of spatial axes. Parallel over (n, c) planes.
#include <algorithm>
#include <cmath>
#include <limits>

#include "edgec/core/error.hpp"
#include "kernels/conv_geometry.hpp"
#include "kernels/kernel_util.hpp"
#include "kernels/registration.hpp"

namespace edgec::runtime::detail {
namespace {

template <bool is_max>
std::vector<HostTensor> run_pool(const KernelContext& ctx) {
  const HostTensor& x = ctx.input(0);
  if (ctx.output_wanted(1)) ctx.fail("the Indices output is not supported");
  const std::vector<int64_t> spatial = spatial_dims(ctx, x.dims());
  const auto kernel = ctx.node().attr_ints("kernel_shape");
  const bool ceil_mode = ctx.node().attr_int("ceil_mode", 0) != 0;
  const bool include_pad = ctx.node().attr_int("count_include_pad", 0) != 0;
  if (!is_max && !ctx.node().attr_ints("dilations").empty())
    for (const int64_t d : ctx.node().attr_ints("dilations"))
      if (d != 1) ctx.fail("AveragePool dilations are not supported");
  const Window2d w = forward_window(ctx, spatial, kernel, ceil_mode);
  std::vector<int64_t> out_dims{x.dims()[0], x.dims()[1]};
  if (spatial.size() == 2) out_dims.push_back(w.out_h);
  out_dims.push_back(w.out_w);
  return {dispatch_float(ctx, x.dtype(), [&](auto tag) {
    using T = decltype(tag);
    HostTensor out = HostTensor::empty(x.dtype(), out_dims);
    const T* px = x.data<T>();
    T* po = out.mutable_data<T>();
    const int64_t planes = x.dims()[0] * x.dims()[1];
    parallel_for(planes, w.out_h * w.out_w * w.k_h * w.k_w, [&](int64_t p) {
      const T* plane = px + p * w.in_h * w.in_w;
      T* dst = po + p * w.out_h * w.out_w;
      for (int64_t oy = 0; oy < w.out_h; ++oy)
        for (int64_t ox = 0; ox < w.out_w; ++ox) {
          const int64_t y0 = oy * w.stride_h - w.pad_top, x0 = ox * w.stride_w - w.pad_left;
          T best = -std::numeric_limits<T>::infinity();
          double sum = 0;
          int64_t count = 0;
          for (int64_t ki = 0; ki < w.k_h; ++ki) {
            const int64_t iy = y0 + ki * w.dil_h;
            if (iy < 0 || iy >= w.in_h) continue;
            for (int64_t kj = 0; kj < w.k_w; ++kj) {
              const int64_t ix = x0 + kj * w.dil_w;
              if (ix < 0 || ix >= w.in_w) continue;
              const T v = plane[iy * w.in_w + ix];
              if constexpr (is_max) best = (v > best || std::isnan(v)) ? v : best;
              sum += static_cast<double>(v);
              ++count;
            }
          }
          if constexpr (is_max) {
            dst[oy * w.out_w + ox] = best;
          } else {
            int64_t divisor = count;
            if (include_pad) {
              // The window clipped to the padded input (not to the extra cells ceil_mode may add).
              const int64_t y1 = std::min(y0 + w.k_h, w.in_h + w.pad_bottom);
              const int64_t x1 = std::min(x0 + w.k_w, w.in_w + w.pad_right);
              divisor = (y1 - y0) * (x1 - x0);
            }
            dst[oy * w.out_w + ox] = divisor > 0 ? static_cast<T>(sum / static_cast<double>(divisor)) : T(0);
          }
        }
    });
    return out;
  })};
}

void check_pool(const Node& node, int64_t) {
  if (node.attr_ints("kernel_shape").size() > 2) throw Error(ErrorCategory::input, "only 1-D and 2-D pooling is supported");
  if (node.outputs.size() > 1 && !node.outputs[1].empty()) throw Error(ErrorCategory::input, "the Indices output is not supported");
  if (node.op == "MaxPool" && node.attr_int("storage_order", 0) != 0) throw Error(ErrorCategory::input, "storage_order=1");
}

template <bool is_max>
std::vector<HostTensor> run_global_pool(const KernelContext& ctx) {
  const HostTensor& x = ctx.input(0);
  if (x.rank() < 3) ctx.fail("needs an [N,C,...] input, got " + describe(x));
  std::vector<int64_t> out_dims(x.dims().size(), 1);
  out_dims[0] = x.dims()[0];
  out_dims[1] = x.dims()[1];
  const int64_t planes = x.dims()[0] * x.dims()[1];
  const int64_t size = product(x.dims(), 2, x.dims().size());
  return {dispatch_float(ctx, x.dtype(), [&](auto tag) {
    using T = decltype(tag);
    HostTensor out = HostTensor::empty(x.dtype(), out_dims);
    const T* px = x.data<T>();
    T* po = out.mutable_data<T>();
    parallel_for(planes, size, [&](int64_t p) {
      const T* plane = px + p * size;
      if constexpr (is_max) {
        T best = -std::numeric_limits<T>::infinity();
        for (int64_t i = 0; i < size; ++i) best = (plane[i] > best || std::isnan(plane[i])) ? plane[i] : best;
        po[p] = best;
      } else {
        double sum = 0;
        for (int64_t i = 0; i < size; ++i) sum += static_cast<double>(plane[i]);
        po[p] = static_cast<T>(sum / static_cast<double>(size));
      }
    });
    return out;
  })};
}

}  // namespace

void register_pool(OpRegistry& registry) {
  registry.add("", "MaxPool", run_pool<true>, check_pool);
  registry.add("", "AveragePool", run_pool<false>, check_pool);
  registry.add("", "GlobalMaxPool", run_global_pool<true>);
  registry.add("", "GlobalAveragePool", run_global_pool<false>);
}

}  // namespace edgec::runtime::detail
