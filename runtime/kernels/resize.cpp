// Resize (opsets 10-19; Upsample is its opset-9 form): nearest, linear and cubic modes with every
// coordinate_transformation_mode. The resampling is separable, so it runs one axis at a time, each
// output coordinate taking a short list of (input index, weight) taps computed once per axis.
#include <algorithm>
#include <cmath>

#include "edgec/core/error.hpp"
#include "kernels/kernel_util.hpp"
#include "kernels/registration.hpp"

namespace edgec::runtime::detail {
namespace {

struct Taps {
  std::vector<std::vector<std::pair<int64_t, double>>> taps;  // per output coordinate
  std::vector<uint8_t> outside;                               // tf_crop_and_resize: use extrapolation_value
};

struct ResizeParams {
  std::string mode, transform, nearest;
  double cubic_a = -0.75;
  bool exclude_outside = false;
  double extrapolation = 0;
};

double original_coordinate(const ResizeParams& p, int64_t x, double scale, int64_t in, int64_t out, double roi_start,
                           double roi_end) {
  const double xr = static_cast<double>(x);
  const auto fin = static_cast<double>(in), fout = static_cast<double>(out);
  if (p.transform == "half_pixel") return (xr + 0.5) / scale - 0.5;
  if (p.transform == "half_pixel_symmetric") {
    const double adjustment = fout / (scale * fin);
    const double center = fin / 2;
    return center * (1 - adjustment) + (xr + 0.5) / scale - 0.5;
  }
  // TensorFlow's legacy nearest-neighbour mapping (half_pixel_centers without the -0.5).
  if (p.transform == "tf_half_pixel_for_nn") return (xr + 0.5) / scale;
  if (p.transform == "pytorch_half_pixel") return out > 1 ? (xr + 0.5) / scale - 0.5 : 0.0;
  // The resized length is in * scale before flooring (ONNX's reference: with scales 0.6 on 4 elements the
  // corners are 0 and 3 / 1.4, not 3); with sizes, in * scale is the output length.
  if (p.transform == "align_corners") return out == 1 ? 0.0 : xr * (fin - 1) / (fin * scale - 1);
  if (p.transform == "asymmetric") return xr / scale;
  // tf_crop_and_resize
  return out > 1 ? roi_start * (fin - 1) + xr * (roi_end - roi_start) * (fin - 1) / (fout - 1)
                 : 0.5 * (roi_start + roi_end) * (fin - 1);
}

double cubic_weight(double distance, double a) {
  const double d = std::abs(distance);
  if (d <= 1) return ((a + 2) * d - (a + 3)) * d * d + 1;
  if (d < 2) return ((a * d - 5 * a) * d + 8 * a) * d - 4 * a;
  return 0;
}

Taps make_taps(const ResizeParams& p, int64_t in, int64_t out, double scale, double roi_start, double roi_end) {
  Taps t;
  t.taps.resize(static_cast<size_t>(out));
  t.outside.assign(static_cast<size_t>(out), 0);
  for (int64_t x = 0; x < out; ++x) {
    const double xo = original_coordinate(p, x, scale, in, out, roi_start, roi_end);
    auto& taps = t.taps[static_cast<size_t>(x)];
    if (p.transform == "tf_crop_and_resize" && (xo < 0 || xo > static_cast<double>(in - 1))) {
      t.outside[static_cast<size_t>(x)] = 1;
      continue;
    }
    if (p.mode == "nearest") {
      double r;
      const double frac = xo - std::floor(xo);
      if (p.nearest == "floor") r = std::floor(xo);
      else if (p.nearest == "ceil") r = std::ceil(xo);
      else if (frac == 0.5) r = p.nearest == "round_prefer_ceil" ? std::ceil(xo) : std::floor(xo);
      else r = std::round(xo);
      taps.emplace_back(std::clamp<int64_t>(static_cast<int64_t>(r), 0, in - 1), 1.0);
    } else if (p.mode == "linear") {
      const double c = std::clamp(xo, 0.0, static_cast<double>(in - 1));
      const auto x0 = static_cast<int64_t>(std::floor(c));
      const int64_t x1 = std::min(x0 + 1, in - 1);
      const double w1 = c - static_cast<double>(x0);
      taps.emplace_back(x0, 1 - w1);
      if (w1 != 0) taps.emplace_back(x1, w1);
    } else {  // cubic: 4 taps around floor(xo), edge-clamped, or dropped and renormalised (exclude_outside)
      const auto base = static_cast<int64_t>(std::floor(xo));
      const double frac = xo - static_cast<double>(base);
      double total = 0;
      for (int64_t k = -1; k <= 2; ++k) {
        const int64_t index = base + k;
        double w = cubic_weight(static_cast<double>(k) - frac, p.cubic_a);
        if (index < 0 || index >= in) {
          if (p.exclude_outside) w = 0;
        }
        taps.emplace_back(std::clamp<int64_t>(index, 0, in - 1), w);
        total += w;
      }
      if (p.exclude_outside && total != 0)
        for (auto& tap : taps) tap.second /= total;
    }
  }
  return t;
}

template <class T>
HostTensor resample_axis(const HostTensor& input, size_t axis, int64_t out_size, const Taps& taps, double extrapolation) {
  std::vector<int64_t> dims = input.dims();
  const int64_t in_size = dims[axis];
  dims[axis] = out_size;
  HostTensor out = HostTensor::empty(input.dtype(), dims);
  const int64_t outer = product(input.dims(), 0, axis), inner = product(input.dims(), axis + 1, input.dims().size());
  const T* src = input.data<T>();
  T* dst = out.mutable_data<T>();
  // Nearest (every position one tap of weight 1, none outside): a copy, which is what the sum gives exactly.
  const bool copies = std::all_of(taps.taps.begin(), taps.taps.end(), [](const auto& list) { return list.size() == 1 && list[0].second == 1.0; }) &&
                      std::none_of(taps.outside.begin(), taps.outside.end(), [](auto o) { return o != 0; });
  if (copies) {
    std::vector<int64_t> from(static_cast<size_t>(out_size));
    for (int64_t x = 0; x < out_size; ++x) from[static_cast<size_t>(x)] = taps.taps[static_cast<size_t>(x)][0].first;
    parallel_for(outer, out_size * inner, [&](int64_t o) {
      const T* plane = src + o * in_size * inner;
      T* target = dst + o * out_size * inner;
      if (inner == 1)
        for (int64_t x = 0; x < out_size; ++x) target[x] = plane[from[static_cast<size_t>(x)]];
      else
        for (int64_t x = 0; x < out_size; ++x) std::copy(plane + from[static_cast<size_t>(x)] * inner, plane + (from[static_cast<size_t>(x)] + 1) * inner, target + x * inner);
    });
    return out;
  }
  parallel_for(outer, out_size * inner * 2, [&](int64_t o) {
    const T* plane = src + o * in_size * inner;
    T* target = dst + o * out_size * inner;
    for (int64_t x = 0; x < out_size; ++x) {
      const auto& list = taps.taps[static_cast<size_t>(x)];
      const bool outside = taps.outside[static_cast<size_t>(x)] != 0;
      for (int64_t i = 0; i < inner; ++i) {
        double acc = 0;
        if (outside) {
          acc = extrapolation;
        } else {
          for (const auto& [index, weight] : list) acc += weight * static_cast<double>(plane[index * inner + i]);
        }
        if constexpr (std::is_integral_v<T>) acc = std::nearbyint(acc);
        target[x * inner + i] = static_cast<T>(acc);
      }
    }
  });
  return out;
}

std::vector<HostTensor> run_resize(const KernelContext& ctx) {
  const HostTensor& x = ctx.input(0);
  const auto rank = static_cast<size_t>(x.rank());
  const Node& node = ctx.node();
  ResizeParams p;
  p.mode = node.attr_string("mode", "nearest");
  const bool legacy = ctx.opset() < 11 || node.op == "Upsample";
  // Opset 10 Resize and Upsample map coordinates asymmetrically and round nearest down.
  p.transform = legacy ? "asymmetric" : node.attr_string("coordinate_transformation_mode", "half_pixel");
  p.nearest = legacy ? "floor" : node.attr_string("nearest_mode", "round_prefer_floor");
  p.cubic_a = node.attr_float("cubic_coeff_a", -0.75f);
  p.exclude_outside = node.attr_int("exclude_outside", 0) != 0;
  p.extrapolation = node.attr_float("extrapolation_value", 0.0f);
  const size_t scales_index = legacy ? 1 : 2;
  std::vector<double> scales, roi;
  std::vector<int64_t> sizes;
  if (node.op == "Upsample" && ctx.opset() < 9) {
    for (const float s : attr_floats(node, "scales")) scales.push_back(s);
  } else if (ctx.has_input(scales_index) && ctx.input(scales_index).elements() > 0) {
    scales = ctx.input(scales_index).to_f64();
  }
  if (!legacy && ctx.has_input(3) && ctx.input(3).elements() > 0) sizes = input_i64(ctx, 3);
  if (!legacy && ctx.has_input(1) && ctx.input(1).elements() > 0) roi = ctx.input(1).to_f64();
  std::vector<int64_t> axes = node.attr_ints("axes");
  if (axes.empty())
    for (size_t i = 0; i < rank; ++i) axes.push_back(static_cast<int64_t>(i));
  if (scales.empty() == sizes.empty()) ctx.fail("exactly one of scales and sizes must be given");
  if (!scales.empty() && scales.size() != axes.size()) ctx.fail("scales must have one entry per axis");
  if (!sizes.empty() && sizes.size() != axes.size()) ctx.fail("sizes must have one entry per axis");
  if (!roi.empty() && roi.size() != 2 * axes.size()) ctx.fail("roi must have 2 entries per axis");
  std::vector<double> scale(rank, 1.0), roi_start(rank, 0.0), roi_end(rank, 1.0);
  std::vector<int64_t> out_dims = x.dims();
  for (size_t i = 0; i < axes.size(); ++i) {
    const auto axis = static_cast<size_t>(normalize_axis(ctx, axes[i], x.rank()));
    if (!roi.empty()) {
      roi_start[axis] = roi[i];
      roi_end[axis] = roi[i + axes.size()];
    }
    if (!scales.empty()) {
      if (scales[i] <= 0) ctx.fail("scales must be positive");
      scale[axis] = scales[i];
      double length = static_cast<double>(x.dims()[axis]) * scales[i];
      if (p.transform == "tf_crop_and_resize") length *= roi_end[axis] - roi_start[axis];
      out_dims[axis] = static_cast<int64_t>(std::floor(length));
    } else {
      out_dims[axis] = sizes[i];
      scale[axis] = x.dims()[axis] ? static_cast<double>(sizes[i]) / static_cast<double>(x.dims()[axis]) : 1.0;
    }
  }
  HostTensor current = x;
  for (size_t axis = 0; axis < rank; ++axis) {
    const bool identity = scale[axis] == 1.0 && out_dims[axis] == x.dims()[axis] && p.transform != "tf_crop_and_resize";
    if (identity) continue;
    if (x.dims()[axis] == 0) ctx.fail("cannot resize an empty axis");
    const Taps taps = make_taps(p, x.dims()[axis], out_dims[axis], scale[axis], roi_start[axis], roi_end[axis]);
    current = dispatch_numeric(ctx, x.dtype(), [&](auto tag) {
      using T = decltype(tag);
      return resample_axis<T>(current, axis, out_dims[axis], taps, p.extrapolation);
    });
  }
  return {current};
}

void check_resize(const Node& node, int64_t) {
  const std::string mode = node.attr_string("mode", "nearest");
  if (mode != "nearest" && mode != "linear" && mode != "cubic") throw Error(ErrorCategory::input, "mode='" + mode + "'");
  const std::string transform = node.attr_string("coordinate_transformation_mode", "half_pixel");
  const std::vector<std::string> transforms{"half_pixel",    "half_pixel_symmetric", "pytorch_half_pixel",
                                            "align_corners", "asymmetric",           "tf_crop_and_resize",
                                            "tf_half_pixel_for_nn"};
  if (std::find(transforms.begin(), transforms.end(), transform) == transforms.end())
    throw Error(ErrorCategory::input, "coordinate_transformation_mode='" + transform + "'");
  const std::string nearest = node.attr_string("nearest_mode", "round_prefer_floor");
  if (nearest != "round_prefer_floor" && nearest != "round_prefer_ceil" && nearest != "floor" && nearest != "ceil")
    throw Error(ErrorCategory::input, "nearest_mode='" + nearest + "'");
  if (node.attr_int("antialias", 0) != 0) throw Error(ErrorCategory::input, "antialias=1");
  if (node.attr_string("keep_aspect_ratio_policy", "stretch") != "stretch")
    throw Error(ErrorCategory::input, "keep_aspect_ratio_policy other than stretch");
}

}  // namespace

void register_resize(OpRegistry& registry) {
  registry.add("", "Resize", run_resize, check_resize);
  registry.add("", "Upsample", run_resize, check_resize);
}

}  // namespace edgec::runtime::detail
