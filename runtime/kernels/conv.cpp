// Conv and ConvTranspose for 1-D and 2-D inputs (1-D runs as 2-D with height 1). Conv lowers each group
// to im2col + one Eigen GEMM (a 1x1 stride-1 convolution uses the input as is); depthwise convolutions,
// where im2col would make thousands of tiny products, run as a direct loop over channels. ConvTranspose
// is the adjoint: one GEMM with the transposed weight, then col2im.
#include <vector>

#include "edgec/core/error.hpp"
#include "kernels/conv_geometry.hpp"
#include "kernels/gemm.hpp"
#include "kernels/kernel_util.hpp"
#include "kernels/registration.hpp"

namespace edgec::runtime::detail {
namespace {

// col[(c * k_h + ki) * k_w + kj][oy * out_w + ox] = x[c][oy * s - pad + ki * d][...], 0 outside the input.
template <class T>
void im2col(const T* x, int64_t channels, const Window2d& w, T* col) {
  const int64_t rows = channels * w.k_h * w.k_w;
  const int64_t cols = w.out_h * w.out_w;
  parallel_for(rows, cols, [&](int64_t r) {
    const int64_t c = r / (w.k_h * w.k_w);
    const int64_t ki = (r / w.k_w) % w.k_h;
    const int64_t kj = r % w.k_w;
    T* dst = col + r * cols;
    const T* plane = x + c * w.in_h * w.in_w;
    for (int64_t oy = 0; oy < w.out_h; ++oy) {
      const int64_t iy = oy * w.stride_h - w.pad_top + ki * w.dil_h;
      T* row = dst + oy * w.out_w;
      if (iy < 0 || iy >= w.in_h) {
        for (int64_t ox = 0; ox < w.out_w; ++ox) row[ox] = T(0);
        continue;
      }
      for (int64_t ox = 0; ox < w.out_w; ++ox) {
        const int64_t ix = ox * w.stride_w - w.pad_left + kj * w.dil_w;
        row[ox] = (ix >= 0 && ix < w.in_w) ? plane[iy * w.in_w + ix] : T(0);
      }
    }
  });
}

template <class T>
void depthwise(const T* x, const T* weight, const T* bias, int64_t channels, const Window2d& w, T* out) {
  parallel_for(channels, w.out_h * w.out_w * w.k_h * w.k_w, [&](int64_t c) {
    const T* plane = x + c * w.in_h * w.in_w;
    const T* kernel = weight + c * w.k_h * w.k_w;
    T* dst = out + c * w.out_h * w.out_w;
    for (int64_t oy = 0; oy < w.out_h; ++oy)
      for (int64_t ox = 0; ox < w.out_w; ++ox) {
        T acc = bias ? bias[c] : T(0);
        for (int64_t ki = 0; ki < w.k_h; ++ki) {
          const int64_t iy = oy * w.stride_h - w.pad_top + ki * w.dil_h;
          if (iy < 0 || iy >= w.in_h) continue;
          for (int64_t kj = 0; kj < w.k_w; ++kj) {
            const int64_t ix = ox * w.stride_w - w.pad_left + kj * w.dil_w;
            if (ix >= 0 && ix < w.in_w) acc += plane[iy * w.in_w + ix] * kernel[ki * w.k_w + kj];
          }
        }
        dst[oy * w.out_w + ox] = acc;
      }
  });
}

std::vector<HostTensor> run_conv(const KernelContext& ctx) {
  const HostTensor& x = ctx.input(0);
  const HostTensor& weight = ctx.input(1);
  const std::vector<int64_t> spatial = spatial_dims(ctx, x.dims());
  if (weight.rank() != x.rank()) ctx.fail("weight " + describe(weight) + " does not match input " + describe(x));
  const std::vector<int64_t> kernel(weight.dims().begin() + 2, weight.dims().end());
  const auto declared = ctx.node().attr_ints("kernel_shape");
  if (!declared.empty() && declared != kernel) ctx.fail("kernel_shape " + dims_to_string(declared) + " does not match the weight");
  const int64_t groups = ctx.node().attr_int("group", 1);
  const int64_t batch = x.dims()[0], channels = x.dims()[1], maps = weight.dims()[0];
  if (groups <= 0 || channels % groups != 0 || maps % groups != 0 || weight.dims()[1] != channels / groups)
    ctx.fail("group " + std::to_string(groups) + " does not fit input " + describe(x) + " and weight " + describe(weight));
  if (ctx.has_input(2) && ctx.input(2).elements() != maps) ctx.fail("bias must have " + std::to_string(maps) + " elements");
  const Window2d w = forward_window(ctx, spatial, kernel, false);
  std::vector<int64_t> out_dims{batch, maps};
  if (spatial.size() == 2) out_dims.push_back(w.out_h);
  out_dims.push_back(w.out_w);
  return {dispatch_float(ctx, x.dtype(), [&](auto tag) {
    using T = decltype(tag);
    if (weight.dtype() != x.dtype()) ctx.fail("weight dtype differs from the input's");
    HostTensor out = HostTensor::empty(x.dtype(), out_dims);
    const T* px = x.data<T>();
    const T* pw = weight.data<T>();
    const T* pb = ctx.has_input(2) ? ctx.input(2).data<T>() : nullptr;
    T* po = out.mutable_data<T>();
    const int64_t cg = channels / groups, mg = maps / groups;
    const int64_t in_plane = w.in_h * w.in_w, out_plane = w.out_h * w.out_w;
    const int64_t patch = cg * w.k_h * w.k_w;
    if (cg == 1 && mg == 1) {
      for (int64_t n = 0; n < batch; ++n) depthwise(px + n * channels * in_plane, pw, pb, channels, w, po + n * maps * out_plane);
      return out;
    }
    const bool pointwise = w.k_h == 1 && w.k_w == 1 && w.stride_h == 1 && w.stride_w == 1 && w.pad_top == 0 &&
                           w.pad_left == 0 && w.pad_bottom == 0 && w.pad_right == 0;
    std::vector<T> col(pointwise ? 0 : static_cast<size_t>(patch * out_plane));
    for (int64_t n = 0; n < batch; ++n)
      for (int64_t g = 0; g < groups; ++g) {
        const T* xg = px + (n * channels + g * cg) * in_plane;
        const T* source = xg;
        if (!pointwise) {
          im2col(xg, cg, w, col.data());
          source = col.data();
        }
        T* og = po + (n * maps + g * mg) * out_plane;
        gemm<T>(mg, out_plane, patch, pw + g * mg * patch, patch, source, out_plane, false, og, out_plane);
        if (pb)
          for (int64_t m = 0; m < mg; ++m)
            for (int64_t i = 0; i < out_plane; ++i) og[m * out_plane + i] += pb[g * mg + m];
      }
    return out;
  })};
}

void check_conv(const Node& node, int64_t) {
  const std::string auto_pad = node.attr_string("auto_pad", "NOTSET");
  if (auto_pad != "NOTSET" && auto_pad != "VALID" && auto_pad != "SAME_UPPER" && auto_pad != "SAME_LOWER")
    throw Error(ErrorCategory::input, "auto_pad='" + auto_pad + "'");
  const auto kernel = node.attr_ints("kernel_shape");
  if (kernel.size() > 2) throw Error(ErrorCategory::input, "only 1-D and 2-D kernels are supported");
}

std::vector<HostTensor> run_conv_transpose(const KernelContext& ctx) {
  const HostTensor& x = ctx.input(0);
  const HostTensor& weight = ctx.input(1);
  const std::vector<int64_t> spatial = spatial_dims(ctx, x.dims());
  const size_t axes = spatial.size();
  if (weight.rank() != x.rank()) ctx.fail("weight " + describe(weight) + " does not match input " + describe(x));
  const int64_t groups = ctx.node().attr_int("group", 1);
  const int64_t batch = x.dims()[0], channels = x.dims()[1];
  if (groups <= 0 || channels % groups != 0 || weight.dims()[0] != channels) ctx.fail("weight does not fit the input");
  const int64_t mg = weight.dims()[1], maps = mg * groups;
  const std::vector<int64_t> kernel(weight.dims().begin() + 2, weight.dims().end());
  auto per_axis = [&](const char* key, int64_t fallback) {
    auto values = ctx.node().attr_ints(key);
    if (values.empty()) values.assign(axes, fallback);
    if (values.size() != axes) ctx.fail(std::string(key) + " has the wrong number of entries");
    return values;
  };
  const auto strides = per_axis("strides", 1), dilations = per_axis("dilations", 1);
  const auto output_padding = per_axis("output_padding", 0);
  std::vector<int64_t> pads = ctx.node().attr_ints("pads");
  if (pads.empty()) pads.assign(2 * axes, 0);
  if (pads.size() != 2 * axes) ctx.fail("pads must have 2 entries per spatial axis");
  std::vector<int64_t> output_shape = ctx.node().attr_ints("output_shape");
  if (output_shape.size() == axes + 2) output_shape.erase(output_shape.begin(), output_shape.begin() + 2);
  const std::string auto_pad = ctx.node().attr_string("auto_pad", "NOTSET");
  std::vector<int64_t> out(axes);
  for (size_t i = 0; i < axes; ++i) {
    const int64_t full = strides[i] * (spatial[i] - 1) + output_padding[i] + (kernel[i] - 1) * dilations[i] + 1;
    int64_t target = -1;
    if (!output_shape.empty()) target = output_shape.at(i);
    else if (auto_pad == "SAME_UPPER" || auto_pad == "SAME_LOWER") target = spatial[i] * strides[i];
    if (target >= 0) {
      // The ONNX spec: the odd unit of padding goes to the end for SAME_UPPER, else to the beginning. The
      // total is negative when output_shape asks for more than the full output (zeros are appended): the
      // spec's halving is Python's floor division, so -1 becomes pads (0, -1), not (-1, 0).
      const int64_t total = full - target;
      const int64_t half = total >= 0 ? total / 2 : -((-total + 1) / 2);
      pads[i] = auto_pad == "SAME_UPPER" ? half : total - half;
      pads[i + axes] = total - pads[i];
      out[i] = target;
    } else {
      if (auto_pad == "VALID") pads[i] = pads[i + axes] = 0;
      out[i] = full - pads[i] - pads[i + axes];
    }
    if (out[i] <= 0) ctx.fail("output size is not positive");
  }
  Window2d w;
  const size_t xa = axes - 1;
  w.in_w = spatial[xa]; w.k_w = kernel[xa]; w.stride_w = strides[xa]; w.dil_w = dilations[xa];
  w.pad_left = pads[xa]; w.out_w = out[xa];
  if (axes == 2) {
    w.in_h = spatial[0]; w.k_h = kernel[0]; w.stride_h = strides[0]; w.dil_h = dilations[0];
    w.pad_top = pads[0]; w.out_h = out[0];
  }
  std::vector<int64_t> out_dims{batch, maps};
  if (axes == 2) out_dims.push_back(w.out_h);
  out_dims.push_back(w.out_w);
  if (ctx.has_input(2) && ctx.input(2).elements() != maps) ctx.fail("bias must have " + std::to_string(maps) + " elements");
  return {dispatch_float(ctx, x.dtype(), [&](auto tag) {
    using T = decltype(tag);
    HostTensor result = HostTensor::empty(x.dtype(), out_dims);
    const T* px = x.data<T>();
    const T* pw = weight.data<T>();
    const T* pb = ctx.has_input(2) ? ctx.input(2).data<T>() : nullptr;
    T* po = result.mutable_data<T>();
    const int64_t cg = channels / groups;
    const int64_t in_plane = w.in_h * w.in_w, out_plane = w.out_h * w.out_w;
    const int64_t rows = mg * w.k_h * w.k_w;
    std::vector<T> col(static_cast<size_t>(rows * in_plane));
    for (int64_t n = 0; n < batch; ++n)
      for (int64_t g = 0; g < groups; ++g) {
        // col [mg*kh*kw, H*W] = W_g^T [mg*kh*kw, cg] * X_g [cg, H*W]; W_g is stored [cg, mg*kh*kw].
        gemm<T>(rows, in_plane, cg, pw + g * cg * rows, rows, px + (n * channels + g * cg) * in_plane, in_plane,
                false, col.data(), in_plane, false, true);
        T* og = po + (n * maps + g * mg) * out_plane;
        parallel_for(mg, w.k_h * w.k_w * in_plane, [&](int64_t m) {
          T* plane = og + m * out_plane;
          const T init = pb ? pb[g * mg + m] : T(0);
          for (int64_t i = 0; i < out_plane; ++i) plane[i] = init;
          for (int64_t ki = 0; ki < w.k_h; ++ki)
            for (int64_t kj = 0; kj < w.k_w; ++kj) {
              const T* src = col.data() + ((m * w.k_h + ki) * w.k_w + kj) * in_plane;
              for (int64_t iy = 0; iy < w.in_h; ++iy) {
                const int64_t oy = iy * w.stride_h - w.pad_top + ki * w.dil_h;
                if (oy < 0 || oy >= w.out_h) continue;
                for (int64_t ix = 0; ix < w.in_w; ++ix) {
                  const int64_t ox = ix * w.stride_w - w.pad_left + kj * w.dil_w;
                  if (ox >= 0 && ox < w.out_w) plane[oy * w.out_w + ox] += src[iy * w.in_w + ix];
                }
              }
            }
        });
      }
    return result;
  })};
}

}  // namespace

void register_conv(OpRegistry& registry) {
  registry.add("", "Conv", run_conv, check_conv);
  registry.add("", "ConvTranspose", run_conv_transpose, check_conv);
}

}  // namespace edgec::runtime::detail
