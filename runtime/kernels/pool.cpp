// MaxPool / AveragePool over any number of spatial axes (pads, auto_pad, strides, dilations, ceil_mode,
// count_include_pad; MaxPool's optional Indices output with storage_order 0 or 1) and GlobalAveragePool /
// GlobalMaxPool. Parallel over (n, c) planes; every window visits only its in-bounds taps, in row-major order.
// f16/bf16 inputs are pooled in f32 and rounded back (exact for the max; the average is computed in double).
#include <cmath>
#include <limits>

#include "edgec/core/error.hpp"
#include "kernels/conv_geometry.hpp"
#include "kernels/kernel_util.hpp"
#include "kernels/registration.hpp"

namespace edgec::runtime::detail {
namespace {

// MaxPool also takes i8 and u8 (ONNX opset 12 on).
template <bool is_max, class F>
decltype(auto) dispatch_pool(const KernelContext& ctx, DType dtype, F&& f) {
  if constexpr (is_max) {
    if (dtype == DType::i8) return f(int8_t{});
    if (dtype == DType::u8) return f(uint8_t{});
  }
  return dispatch_float(ctx, dtype, std::forward<F>(f));
}

template <class T>
T lowest_value() {
  if constexpr (std::is_floating_point_v<T>) return -std::numeric_limits<T>::infinity();
  else return std::numeric_limits<T>::lowest();
}

// v replaces the running maximum: it is larger, or NaN (NaN propagates).
template <class T>
bool beats(T v, T best) {
  if constexpr (std::is_floating_point_v<T>) return v > best || std::isnan(v);
  else return v > best;
}

// The windows along one spatial axis, per output coordinate: where the window starts in the input, its
// in-bounds taps [first, end), and how many of its taps lie inside the padded input (count_include_pad's
// divisor: ceil_mode may let a window run past the end padding, and those cells do not count).
struct AxisWindows {
  std::vector<int64_t> start, first, end, padded;
};

std::vector<AxisWindows> axis_windows(const Window& w) {
  std::vector<AxisWindows> axes(w.axes());
  for (size_t a = 0; a < w.axes(); ++a) {
    AxisWindows& ax = axes[a];
    for (int64_t o = 0; o < w.out[a]; ++o) {
      const int64_t start = o * w.stride[a] - w.pad_begin[a];
      const auto [first, end] = valid_range(start, w.dilation[a], w.in[a], w.kernel[a]);
      const auto [pad_first, pad_end] =
          valid_range(start + w.pad_begin[a], w.dilation[a], w.in[a] + w.pad_begin[a] + w.pad_end[a], w.kernel[a]);
      ax.start.push_back(start);
      ax.first.push_back(first);
      ax.end.push_back(end);
      ax.padded.push_back(pad_end - pad_first);
    }
  }
  return axes;
}

struct PoolOptions {
  bool include_pad = false;     // AveragePool count_include_pad
  bool column_major = false;    // MaxPool storage_order = 1
};

// Pools one [D1, ..., Dk] plane into `dst` (and, for MaxPool with Indices, the argmax as an offset in the
// plane, row-major or column-major, plus `index_base`, into `indices`).
template <class T, bool is_max>
void pool_plane(const T* plane, const Window& w, const std::vector<AxisWindows>& axes, const PoolOptions& options,
                T* dst, int64_t* indices, int64_t index_base) {
  const size_t rank = w.axes(), last = rank - 1;
  const auto in_strides = strides_of(w.in);
  std::vector<int64_t> column_strides(rank, 1);
  for (size_t a = 1; a < rank; ++a) column_strides[a] = column_strides[a - 1] * w.in[a - 1];
  std::vector<int64_t> pos(rank, 0), tap(rank);
  // Steps the taps of the leading axes through the window at `pos`; false after the last.
  auto next_tap = [&] {
    for (size_t a = last; a-- > 0;) {
      if (++tap[a] < axes[a].end[static_cast<size_t>(pos[a])]) return true;
      tap[a] = axes[a].first[static_cast<size_t>(pos[a])];
    }
    return false;
  };
  const int64_t outputs = w.out_size();
  for (int64_t o = 0; o < outputs; ++o, next_index(pos, w.out)) {
    bool empty = false;
    int64_t padded = 1;
    for (size_t a = 0; a < rank; ++a) {
      const auto p = static_cast<size_t>(pos[a]);
      tap[a] = axes[a].first[p];
      empty = empty || axes[a].first[p] >= axes[a].end[p];
      padded *= axes[a].padded[p];
    }
    T best = lowest_value<T>();
    int64_t best_at = -1;
    double sum = 0;
    int64_t count = 0;
    if (!empty) {
      const auto p = static_cast<size_t>(pos[last]);
      const int64_t x_start = axes[last].start[p], x_first = axes[last].first[p], x_end = axes[last].end[p];
      const int64_t x_step = w.dilation[last];
      do {
        int64_t base = x_start;
        for (size_t a = 0; a < last; ++a)
          base += (axes[a].start[static_cast<size_t>(pos[a])] + tap[a] * w.dilation[a]) * in_strides[a];
        for (int64_t k = x_first; k < x_end; ++k) {
          const int64_t at = base + k * x_step;
          const T v = plane[at];
          if constexpr (is_max) {
            if (best_at < 0 || beats(v, best)) {  // the first tap, then any larger one
              best = v;
              best_at = at;
            }
          } else {
            sum += static_cast<double>(v);
            ++count;
          }
        }
      } while (next_tap());
    }
    if constexpr (is_max) {
      dst[o] = best;
      if (indices && best_at < 0) {
        indices[o] = -1;  // a window with no tap inside the input (possible with dilations)
      } else if (indices) {
        int64_t index = best_at;
        if (options.column_major) {
          index = 0;
          for (size_t a = rank, rest = static_cast<size_t>(best_at); a-- > 0;) {
            index += static_cast<int64_t>(rest % static_cast<size_t>(w.in[a])) * column_strides[a];
            rest /= static_cast<size_t>(w.in[a]);
          }
        }
        indices[o] = index + index_base;
      }
    } else {
      const int64_t divisor = options.include_pad ? padded : count;
      dst[o] = divisor > 0 ? static_cast<T>(sum / static_cast<double>(divisor)) : T(0);
    }
  }
}

template <bool is_max>
std::vector<HostTensor> pool(const KernelContext& ctx, const HostTensor& x) {
  const std::vector<int64_t> spatial = spatial_dims(ctx, x.dims());
  const auto kernel = ctx.node().attr_ints("kernel_shape");
  if (kernel.empty()) ctx.fail("kernel_shape is required");
  const Window w = forward_window(ctx, spatial, kernel, ctx.node().attr_int("ceil_mode", 0) != 0);
  const std::vector<AxisWindows> axes = axis_windows(w);
  PoolOptions options;
  options.include_pad = ctx.node().attr_int("count_include_pad", 0) != 0;
  options.column_major = ctx.node().attr_int("storage_order", 0) == 1;
  std::vector<int64_t> out_dims{x.dims()[0], x.dims()[1]};
  out_dims.insert(out_dims.end(), w.out.begin(), w.out.end());
  const bool with_indices = is_max && ctx.output_wanted(1);
  std::vector<HostTensor> outputs(std::max<size_t>(1, ctx.output_count()));
  if (with_indices) outputs[1] = HostTensor::empty(DType::i64, out_dims);
  outputs[0] = dispatch_pool<is_max>(ctx, x.dtype(), [&](auto tag) {
    using T = decltype(tag);
    HostTensor out = HostTensor::empty(x.dtype(), out_dims);
    const T* px = x.data<T>();
    T* po = out.mutable_data<T>();
    int64_t* pi = with_indices ? outputs[1].mutable_data<int64_t>() : nullptr;
    const int64_t in_plane = w.in_size(), out_plane = w.out_size();
    parallel_for(x.dims()[0] * x.dims()[1], out_plane * w.kernel_size(), [&](int64_t p) {
      pool_plane<T, is_max>(px + p * in_plane, w, axes, options, po + p * out_plane, pi ? pi + p * out_plane : nullptr,
                            p * in_plane);
    });
    return out;
  });
  return outputs;
}

template <bool is_max>
std::vector<HostTensor> run_pool(const KernelContext& ctx) {
  const HostTensor& x = ctx.input(0);
  if (!is_half(x.dtype())) return pool<is_max>(ctx, x);
  std::vector<HostTensor> outputs = pool<is_max>(ctx, cast_tensor(ctx, x, DType::f32));
  outputs[0] = cast_tensor(ctx, outputs[0], x.dtype());
  return outputs;
}

void check_pool(const Node& node, int64_t) {
  const std::string auto_pad = node.attr_string("auto_pad", "NOTSET");
  if (auto_pad != "NOTSET" && auto_pad != "VALID" && auto_pad != "SAME_UPPER" && auto_pad != "SAME_LOWER")
    throw Error(ErrorCategory::input, "auto_pad='" + auto_pad + "'");
  const int64_t storage_order = node.attr_int("storage_order", 0);
  if (storage_order != 0 && storage_order != 1)
    throw Error(ErrorCategory::input, "storage_order=" + std::to_string(storage_order));
}

template <bool is_max>
HostTensor global_pool(const KernelContext& ctx, const HostTensor& x) {
  if (x.rank() < 3) ctx.fail("needs an [N,C,...] input, got " + describe(x));
  std::vector<int64_t> out_dims(x.dims().size(), 1);
  out_dims[0] = x.dims()[0];
  out_dims[1] = x.dims()[1];
  const int64_t planes = x.dims()[0] * x.dims()[1];
  const int64_t size = product(x.dims(), 2, x.dims().size());
  return dispatch_float(ctx, x.dtype(), [&](auto tag) {
    using T = decltype(tag);
    HostTensor out = HostTensor::empty(x.dtype(), out_dims);
    const T* px = x.data<T>();
    T* po = out.mutable_data<T>();
    parallel_for(planes, size, [&](int64_t p) {
      const T* plane = px + p * size;
      if constexpr (is_max) {
        T best = lowest_value<T>();
        for (int64_t i = 0; i < size; ++i) best = beats(plane[i], best) ? plane[i] : best;
        po[p] = best;
      } else {
        double sum = 0;
        for (int64_t i = 0; i < size; ++i) sum += static_cast<double>(plane[i]);
        po[p] = static_cast<T>(sum / static_cast<double>(size));
      }
    });
    return out;
  });
}

template <bool is_max>
std::vector<HostTensor> run_global_pool(const KernelContext& ctx) {
  const HostTensor& x = ctx.input(0);
  if (!is_half(x.dtype())) return {global_pool<is_max>(ctx, x)};
  return {cast_tensor(ctx, global_pool<is_max>(ctx, cast_tensor(ctx, x, DType::f32)), x.dtype())};
}

}  // namespace

void register_pool(OpRegistry& registry) {
  registry.add("", "MaxPool", run_pool<true>, check_pool);
  registry.add("", "AveragePool", run_pool<false>, check_pool);
  registry.add("", "GlobalMaxPool", run_global_pool<true>);
  registry.add("", "GlobalAveragePool", run_global_pool<false>);
}

}  // namespace edgec::runtime::detail
