// Conv and ConvTranspose over any number of spatial axes (1-D, 2-D, 3-D, ...). Conv lowers each group to
// im2col + one Eigen GEMM (a 1x1 stride-1 convolution uses the input as is); depthwise convolutions, where
// im2col would make thousands of tiny products, run as a direct loop over channels. ConvTranspose is the
// adjoint: one GEMM with the transposed weight, then col2im. Spatial planes are walked line by line
// (conv_geometry.hpp): the leading axes by an odometer, the last axis as the inner loop.
#include <algorithm>
#include <type_traits>
#include <vector>

#include "edgec/core/error.hpp"
#include "kernels/chain.hpp"
#include "kernels/conv_geometry.hpp"
#include "kernels/conv_lowering.hpp"
#include "kernels/gemm.hpp"
#include "kernels/kernel_util.hpp"
#include "kernels/registration.hpp"
#include "kernels/sgemm.hpp"

namespace edgec::runtime::detail {
namespace {

// What Conv and ConvTranspose share: the input [N, C, D1, ...], the weight (Conv [M, C/group, k1, ...],
// ConvTranspose [C, M/group, k1, ...]), the optional bias [M] and the typed data, checked alike.
struct ConvOperands {
  const HostTensor& x;
  const HostTensor& weight;
  std::vector<int64_t> spatial, kernel;
  int64_t batch = 0, channels = 0, groups = 1, maps = 0;

  explicit ConvOperands(const KernelContext& ctx, bool transposed)
      : x(ctx.input(0)), weight(ctx.input(1)), spatial(spatial_dims(ctx, x.dims())) {
    if (weight.rank() != x.rank()) ctx.fail("weight " + describe(weight) + " does not match input " + describe(x));
    kernel.assign(weight.dims().begin() + 2, weight.dims().end());
    const auto declared = ctx.node().attr_ints("kernel_shape");
    if (!declared.empty() && declared != kernel) ctx.fail("kernel_shape " + dims_to_string(declared) + " does not match the weight");
    groups = ctx.node().attr_int("group", 1);
    batch = x.dims()[0];
    channels = x.dims()[1];
    maps = transposed ? weight.dims()[1] * groups : weight.dims()[0];
    const int64_t weight_channels = transposed ? weight.dims()[0] : weight.dims()[1] * groups;
    if (groups <= 0 || channels % groups != 0 || maps % groups != 0 || weight_channels != channels)
      ctx.fail("group " + std::to_string(groups) + " does not fit input " + describe(x) + " and weight " + describe(weight));
    if (ctx.has_input(2) && ctx.input(2).elements() != maps) ctx.fail("bias must have " + std::to_string(maps) + " elements");
    if (weight.dtype() != x.dtype()) ctx.fail("weight dtype differs from the input's");
  }

  std::vector<int64_t> output_dims(const Window& w) const {
    std::vector<int64_t> dims{batch, maps};
    dims.insert(dims.end(), w.out.begin(), w.out.end());
    return dims;
  }

  // A fresh output for the window `w`, filled by body(x, weight, bias or nullptr, out) with typed pointers.
  template <class Body>
  HostTensor run(const KernelContext& ctx, const Window& w, Body&& body) const {
    return dispatch_float(ctx, x.dtype(), [&](auto tag) {
      using T = decltype(tag);
      HostTensor out = HostTensor::empty(x.dtype(), output_dims(w));
      body(x.data<T>(), weight.data<T>(), ctx.has_input(2) ? ctx.input(2).data<T>() : nullptr, out.mutable_data<T>());
      return out;
    });
  }
};

// Hands a [features, pixels] plane to the observers as [pixels, features] rows.
template <class T>
void notify_rows(const KernelContext& ctx, const T* plane, int64_t features, int64_t pixels, bool output) {
  if constexpr (std::is_same_v<T, float>) {
    HostTensor rows = HostTensor::empty(DType::f32, {pixels, features});
    transpose_into(plane, features, pixels, rows.mutable_data<float>());
    if (output) ctx.notify_linear_output(rows);
    else ctx.notify_linear_input(rows);
  }
}

// The im2col matrix of a 2-D convolution, never materialised: B[c * taps + t][pixel] gathered straight from the
// input into the product's panels, a contiguous input segment per output row (stride 1) with the padding as zeros.
class Im2colCols final : public sgemm::ColOperand {
 public:
  Im2colCols(const float* x, const Window& w) : x_(x), w_(w) {}
  void pack(int64_t k0, int64_t kc, int64_t c0, int64_t width, float* panel, int64_t panel_ld) const override {
    const int64_t in_h = w_.in[0], in_w = w_.in[1], out_w = w_.out[1], kh = w_.kernel[0], kw = w_.kernel[1];
    const int64_t sy = w_.stride[0], sx = w_.stride[1], taps = kh * kw;
    for (int64_t k = k0; k < k0 + kc; ++k) {
      const int64_t c = k / taps, ky = (k % taps) / kw, kx = k % kw;
      const float* plane = x_ + c * in_h * in_w;
      const int64_t shift = kx * w_.dilation[1] - w_.pad_begin[1];
      const auto [first, end] = valid_range(shift, sx, in_w, out_w);
      float* dst = panel + (k - k0) * panel_ld - c0;  // dst[p] for pixel p
      for (int64_t p = c0; p < c0 + width;) {
        const int64_t oy = p / out_w, ox0 = p % out_w, ox1 = std::min(out_w, ox0 + (c0 + width - p));
        const int64_t iy = oy * sy - w_.pad_begin[0] + ky * w_.dilation[0];
        float* row = dst + oy * out_w;
        if (iy < 0 || iy >= in_h) {
          std::fill(row + ox0, row + ox1, 0.0f);
        } else {
          const float* in_row = plane + iy * in_w;
          const int64_t lo = std::max(ox0, first), hi = std::min(ox1, std::max(lo, end));
          std::fill(row + ox0, row + lo, 0.0f);
          if (sx == 1) std::copy(in_row + lo + shift, in_row + hi + shift, row + lo);
          else
            for (int64_t ox = lo; ox < hi; ++ox) row[ox] = in_row[ox * sx + shift];
          std::fill(row + hi, row + ox1, 0.0f);
        }
        p += ox1 - ox0;
      }
    }
  }

 private:
  const float* x_;
  const Window& w_;
};

// Conv, and edgec_runtime.Conv: the same with an element-wise chain fused into its output (kernels/chain.hpp), run as
// the product's epilogue (f32 on a SIMD path) or over each finished block.
std::vector<HostTensor> run_conv(const KernelContext& ctx) {
  const ConvOperands in(ctx, false);
  const Window w = forward_window(ctx, in.spatial, in.kernel, false);
  const int64_t batch = in.batch, channels = in.channels, groups = in.groups, maps = in.maps;
  std::vector<int64_t> chain_dims;
  const chain::Chain fused = chain::read(ctx, in.output_dims(w), &chain_dims);
  if (!fused.empty() && in.x.dtype() != DType::f32) ctx.fail("a fused chain needs f32, got " + describe(in.x));
  HostTensor result = in.run(ctx, w, [&](const auto* px, const auto* pw, const auto* pb, auto* po) {
    using T = std::remove_pointer_t<decltype(po)>;
    const int64_t cg = channels / groups, mg = maps / groups;
    const int64_t in_plane = w.in_size(), out_plane = w.out_size();
    const int64_t patch = cg * w.kernel_size();
    // The chain over a finished output (depthwise and the Eigen path); the sgemm path runs it per tile row.
    const auto chain_after = [&] {
      if constexpr (std::is_same_v<T, float>) chain::apply_all(fused, po, batch * maps * out_plane);
    };
    if (cg == 1 && mg == 1) {
      for (int64_t n = 0; n < batch; ++n) depthwise(px + n * channels * in_plane, pw, pb, channels, w, po + n * maps * out_plane);
      chain_after();
      return;
    }
    auto is = [](const std::vector<int64_t>& values, int64_t v) {
      return std::all_of(values.begin(), values.end(), [v](int64_t e) { return e == v; });
    };
    // Calibration sees an ungrouped f32 convolution with a constant weight as the linear layer it lowers to:
    // input rows [pixels, C * taps] (im2col transposed) and output rows [pixels, M], one call per image.
    const bool observe = ctx.observed() && groups == 1 && ctx.constant_input(1) && std::is_same_v<T, float>;
    const bool pointwise = is(w.kernel, 1) && is(w.stride, 1) && is(w.pad_begin, 0) && is(w.pad_end, 0);
    const Isa isa = isa_limit();
    // 2-D f32 on a SIMD path gathers its patches inside the product (Im2colCols); observers need them as a matrix.
    const bool gathered = std::is_same_v<T, float> && isa != Isa::portable && w.axes() == 2 && !observe && !pointwise;
    std::vector<T> col(pointwise || gathered ? 0 : static_cast<size_t>(patch * out_plane));
    for (int64_t n = 0; n < batch; ++n)
      for (int64_t g = 0; g < groups; ++g) {
        const T* xg = px + (n * channels + g * cg) * in_plane;
        const T* source = xg;
        if (!pointwise && !gathered) {
          im2col(xg, cg, w, col.data());
          source = col.data();
        }
        if (observe) notify_rows(ctx, source, patch, out_plane, false);
        T* og = po + (n * maps + g * mg) * out_plane;
        if constexpr (std::is_same_v<T, float>) {
          if (isa != Isa::portable) {
            // Bias and chain in the product's epilogue: the output is written once.
            sgemm::Output out;
            out.c = og;
            out.ldc = out_plane;
            out.row_bias = pb ? pb + g * mg : nullptr;
            out.chain = fused.empty() ? nullptr : &fused;
            out.chain_first = (n * maps + g * mg) * out_plane;
            const sgemm::F32Cols direct(source, out_plane);
            const Im2colCols patches(xg, w);
            sgemm::multiply(mg, out_plane, patch, sgemm::F32Rows(pw + g * mg * patch, patch),
                            gathered ? static_cast<const sgemm::ColOperand&>(patches) : direct, out, isa);
            if (observe) notify_rows(ctx, og, maps, out_plane, true);
            continue;
          }
        }
        gemm<T>(mg, out_plane, patch, pw + g * mg * patch, patch, source, out_plane, false, og, out_plane);
        if (pb)
          for (int64_t m = 0; m < mg; ++m)
            for (int64_t i = 0; i < out_plane; ++i) og[m * out_plane + i] += pb[g * mg + m];
        if (observe) notify_rows(ctx, og, maps, out_plane, true);
      }
    if (isa == Isa::portable) chain_after();
  });
  if (chain_dims != result.dims()) result = result.reshaped(chain_dims);
  return {result};
}

void check_conv(const Node& node, int64_t) {
  const std::string auto_pad = node.attr_string("auto_pad", "NOTSET");
  if (auto_pad != "NOTSET" && auto_pad != "VALID" && auto_pad != "SAME_UPPER" && auto_pad != "SAME_LOWER")
    throw Error(ErrorCategory::input, "auto_pad='" + auto_pad + "'");
}

// out[m] = bias[m] + the sum over taps t of col[m * taps + t] scattered to position * stride - pad + t * dilation
// (taps added in order).
template <class T>
void col2im(const T* col, int64_t m, const Window& w, const T* bias, T* plane) {
  const size_t last = w.axes() - 1;
  const int64_t taps = w.kernel_size(), in_plane = w.in_size(), out_plane = w.out_size();
  const int64_t in_w = w.in[last], stride = w.stride[last];
  const auto out_strides = strides_of(w.out);
  const std::span<const int64_t> lines(w.in.data(), last);
  std::fill(plane, plane + out_plane, bias ? bias[m] : T(0));
  std::vector<int64_t> tap(w.axes(), 0), line(last);
  for (int64_t t = 0; t < taps; ++t, next_index(tap, w.kernel)) {
    const T* src = col + (m * taps + t) * in_plane;
    const int64_t shift = tap[last] * w.dilation[last] - w.pad_begin[last];
    const auto [first, end] = valid_range(shift, stride, w.out[last], in_w);
    std::fill(line.begin(), line.end(), 0);
    do {
      const int64_t base = line_offset(w, line, tap, w.out, out_strides);
      if (base >= 0)
        for (int64_t ix = first; ix < end; ++ix) plane[base + ix * stride + shift] += src[ix];
      src += in_w;
    } while (next_index(line, lines));
  }
}

std::vector<HostTensor> run_conv_transpose(const KernelContext& ctx) {
  const ConvOperands in(ctx, true);
  const Window w = transpose_window(ctx, in.spatial, in.kernel);
  const int64_t batch = in.batch, channels = in.channels, groups = in.groups, maps = in.maps, mg = maps / groups;
  return {in.run(ctx, w, [&](const auto* px, const auto* pw, const auto* pb, auto* po) {
    using T = std::remove_pointer_t<decltype(po)>;
    const int64_t cg = channels / groups;
    const int64_t in_plane = w.in_size(), out_plane = w.out_size();
    const int64_t rows = mg * w.kernel_size();
    std::vector<T> col(static_cast<size_t>(rows * in_plane));
    for (int64_t n = 0; n < batch; ++n)
      for (int64_t g = 0; g < groups; ++g) {
        // col [mg*taps, in_plane] = W_g^T [mg*taps, cg] * X_g [cg, in_plane]; W_g is stored [cg, mg*taps].
        gemm<T>(rows, in_plane, cg, pw + g * cg * rows, rows, px + (n * channels + g * cg) * in_plane, in_plane,
                false, col.data(), in_plane, false, true);
        T* og = po + (n * maps + g * mg) * out_plane;
        const T* bg = pb ? pb + g * mg : nullptr;
        parallel_for(mg, rows / mg * in_plane, [&](int64_t m) { col2im(col.data(), m, w, bg, og + m * out_plane); });
      }
  })};
}

}  // namespace

void register_conv(OpRegistry& registry) {
  registry.add("", "Conv", run_conv, check_conv);
  registry.add(chain::kDomain, "Conv", run_conv, check_conv);
  registry.add("", "ConvTranspose", run_conv_transpose, check_conv);
}

}  // namespace edgec::runtime::detail
