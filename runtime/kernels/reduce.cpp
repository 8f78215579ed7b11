// Reductions over axes: Reduce*, ArgMax/ArgMin, Softmax/LogSoftmax. Every reduction is laid out as
// [outer, reduced, inner] (non-adjacent reduced axes are first moved together by a transpose) and each
// output element is accumulated by one thread in index order, in double for floating point, so results
// do not depend on the thread count.
#include <algorithm>
#include <cmath>
#include <limits>
#include <numeric>

#include "edgec/core/error.hpp"
#include "kernels/kernel_util.hpp"
#include "kernels/registration.hpp"
#include "kernels/vector_math.hpp"

namespace edgec::runtime::detail {
namespace {

enum class Reduce { sum, mean, max, min, prod, sum_square, l1, l2, log_sum, log_sum_exp };

// A tensor viewed as [outer, reduced, inner] with the reduced axes contiguous.
struct Layout {
  HostTensor data;  // possibly transposed copy of the input
  int64_t outer = 1, reduced = 1, inner = 1;
  std::vector<int64_t> out_dims;  // with keepdims applied
};

Layout reduction_layout(const KernelContext& ctx, const HostTensor& input, std::vector<int64_t> axes, bool keepdims) {
  const auto rank = static_cast<size_t>(input.rank());
  std::vector<uint8_t> reduce(rank, 0);
  for (const int64_t a : axes) reduce[static_cast<size_t>(normalize_axis(ctx, a, input.rank()))] = 1;
  Layout layout;
  for (size_t d = 0; d < rank; ++d) {
    if (!reduce[d]) layout.out_dims.push_back(input.dims()[d]);
    else if (keepdims) layout.out_dims.push_back(1);
  }
  size_t first = rank, last = 0;
  for (size_t d = 0; d < rank; ++d)
    if (reduce[d]) {
      first = std::min(first, d);
      last = d;
    }
  if (first == rank) {  // nothing reduced
    layout.data = input;
    layout.outer = input.elements();
    return layout;
  }
  bool contiguous = true;
  for (size_t d = first; d <= last; ++d) contiguous = contiguous && reduce[d];
  if (contiguous) {
    layout.data = input;
    layout.outer = product(input.dims(), 0, first);
    layout.reduced = product(input.dims(), first, last + 1);
    layout.inner = product(input.dims(), last + 1, rank);
    return layout;
  }
  // Move kept axes first, reduced axes last.
  const auto strides = strides_of(input.dims());
  std::vector<int64_t> dims, perm_strides;
  for (int pass = 0; pass < 2; ++pass)
    for (size_t d = 0; d < rank; ++d)
      if ((reduce[d] != 0) == (pass == 1)) {
        dims.push_back(input.dims()[d]);
        perm_strides.push_back(strides[d]);
        (pass == 0 ? layout.outer : layout.reduced) *= input.dims()[d];
      }
  layout.data = strided_copy(ctx, input, dims, 0, perm_strides);
  return layout;
}

std::vector<int64_t> reduce_axes(const KernelContext& ctx, bool& noop) {
  const std::string& op = ctx.node().op;
  // ReduceSum moved axes to an input in opset 13, the other Reduce* ops in opset 18.
  const int64_t input_since = op == "ReduceSum" ? 13 : 18;
  std::vector<int64_t> axes;
  if (ctx.opset() < input_since) axes = ctx.node().attr_ints("axes");
  else if (ctx.has_input(1)) axes = input_i64(ctx, 1);
  noop = axes.empty() && ctx.node().attr_int("noop_with_empty_axes", 0) != 0;
  if (axes.empty())
    for (int64_t d = 0; d < ctx.input(0).rank(); ++d) axes.push_back(d);
  return axes;
}

template <Reduce kind>
std::vector<HostTensor> run_reduce(const KernelContext& ctx) {
  const HostTensor& input = ctx.input(0);
  bool noop = false;
  const auto axes = reduce_axes(ctx, noop);
  if (noop) return {input};
  const bool keepdims = ctx.node().attr_int("keepdims", 1) != 0;
  const Layout layout = reduction_layout(ctx, input, axes, keepdims);
  if ((kind == Reduce::max || kind == Reduce::min) && layout.reduced == 0 && layout.outer * layout.inner > 0)
    ctx.fail("cannot take the max/min of an empty axis");
  return {dispatch_numeric(ctx, input.dtype(), [&](auto tag) {
    using T = decltype(tag);
    using Acc = std::conditional_t<std::is_floating_point_v<T>, double, T>;
    HostTensor out = HostTensor::empty(input.dtype(), layout.out_dims);
    const T* in = layout.data.template data<T>();
    T* o = out.template mutable_data<T>();
    const int64_t reduced = layout.reduced, inner = layout.inner;
    parallel_for(layout.outer, reduced * inner, [&](int64_t outer) {
      for (int64_t i = 0; i < inner; ++i) {
        const T* p = in + outer * reduced * inner + i;
        Acc acc{};
        if constexpr (kind == Reduce::prod) acc = Acc(1);
        if constexpr (kind == Reduce::max) acc = static_cast<Acc>(std::numeric_limits<T>::lowest());
        if constexpr (kind == Reduce::min) acc = static_cast<Acc>(std::numeric_limits<T>::max());
        Acc peak{};
        if constexpr (kind == Reduce::log_sum_exp) {
          peak = static_cast<Acc>(std::numeric_limits<T>::lowest());
          for (int64_t r = 0; r < reduced; ++r) peak = std::max(peak, static_cast<Acc>(p[r * inner]));
        }
        for (int64_t r = 0; r < reduced; ++r) {
          const auto v = static_cast<Acc>(p[r * inner]);
          if constexpr (kind == Reduce::sum || kind == Reduce::mean || kind == Reduce::log_sum) acc += v;
          else if constexpr (kind == Reduce::prod) acc *= v;
          else if constexpr (kind == Reduce::max) acc = (v > acc || v != v) ? v : acc;
          else if constexpr (kind == Reduce::min) acc = (v < acc || v != v) ? v : acc;
          else if constexpr (kind == Reduce::sum_square || kind == Reduce::l2) acc += v * v;
          else if constexpr (kind == Reduce::l1) acc += v < Acc(0) ? -v : v;
          else acc += std::exp(v - peak);
        }
        if constexpr (kind == Reduce::mean) acc = reduced ? acc / static_cast<Acc>(reduced) : Acc(0);
        if constexpr (kind == Reduce::l2) acc = static_cast<Acc>(std::sqrt(static_cast<double>(acc)));
        if constexpr (kind == Reduce::log_sum) acc = static_cast<Acc>(std::log(static_cast<double>(acc)));
        if constexpr (kind == Reduce::log_sum_exp) acc = static_cast<Acc>(std::log(static_cast<double>(acc))) + peak;
        o[outer * inner + i] = static_cast<T>(acc);
      }
    });
    return out;
  })};
}

template <bool is_max>
std::vector<HostTensor> run_arg(const KernelContext& ctx) {
  const HostTensor& input = ctx.input(0);
  const int64_t axis = normalize_axis(ctx, ctx.node().attr_int("axis", 0), input.rank());
  const bool keepdims = ctx.node().attr_int("keepdims", 1) != 0;
  const bool last = ctx.node().attr_int("select_last_index", 0) != 0;
  const Layout layout = reduction_layout(ctx, input, {axis}, keepdims);
  if (layout.reduced == 0) ctx.fail("cannot take the arg max/min of an empty axis");
  return {dispatch_numeric(ctx, input.dtype(), [&](auto tag) {
    using T = decltype(tag);
    HostTensor out = HostTensor::empty(DType::i64, layout.out_dims);
    const T* in = layout.data.template data<T>();
    int64_t* o = out.template mutable_data<int64_t>();
    for (int64_t outer = 0; outer < layout.outer; ++outer)
      for (int64_t i = 0; i < layout.inner; ++i) {
        const T* p = in + outer * layout.reduced * layout.inner + i;
        int64_t best = 0;
        for (int64_t r = 1; r < layout.reduced; ++r) {
          const T v = p[r * layout.inner], b = p[best * layout.inner];
          const bool better = is_max ? (last ? v >= b : v > b) : (last ? v <= b : v < b);
          if (better) best = r;
        }
        o[outer * layout.inner + i] = best;
      }
    return out;
  })};
}

// Softmax before opset 13 flattens the input to 2-D at `axis` (default 1) and normalises each row;
// from opset 13 it normalises along the one axis (default -1).
template <bool log_form>
std::vector<HostTensor> run_softmax(const KernelContext& ctx) {
  const HostTensor& input = ctx.input(0);
  const bool legacy = ctx.opset() < 13;
  const int64_t axis = normalize_axis(ctx, ctx.node().attr_int("axis", legacy ? 1 : -1), std::max<int64_t>(1, input.rank()));
  const auto a = static_cast<size_t>(axis);
  const int64_t outer = product(input.dims(), 0, a);
  const int64_t reduced = legacy ? product(input.dims(), a, input.dims().size()) : (input.rank() ? input.dims()[a] : 1);
  const int64_t inner = legacy ? 1 : product(input.dims(), a + 1, input.dims().size());
  return {dispatch_float(ctx, input.dtype(), [&](auto tag) {
    using T = decltype(tag);
    HostTensor out = HostTensor::empty(input.dtype(), input.dims());
    const T* in = input.data<T>();
    T* o = out.mutable_data<T>();
    if constexpr (std::is_same_v<T, float>) {
      if (inner == 1) {  // rows along the last axis: vector exp (vector_math.hpp)
        const Isa isa = isa_limit();
        parallel_for(outer, reduced * 8, [&](int64_t b) { vmath::softmax_row(in + b * reduced, o + b * reduced, reduced, log_form, isa); });
        return out;
      }
    }
    parallel_for(outer, reduced * inner * 8, [&](int64_t b) {
      for (int64_t i = 0; i < inner; ++i) {
        const T* p = in + b * reduced * inner + i;
        T* q = o + b * reduced * inner + i;
        T peak = -std::numeric_limits<T>::infinity();
        for (int64_t r = 0; r < reduced; ++r) peak = std::max(peak, p[r * inner]);
        double sum = 0;
        for (int64_t r = 0; r < reduced; ++r) {
          const T e = std::exp(p[r * inner] - peak);
          if constexpr (!log_form) q[r * inner] = e;
          sum += static_cast<double>(e);
        }
        if constexpr (log_form) {
          const T log_sum = static_cast<T>(std::log(sum));
          for (int64_t r = 0; r < reduced; ++r) q[r * inner] = p[r * inner] - peak - log_sum;
        } else {
          const T scale = static_cast<T>(1.0 / sum);
          for (int64_t r = 0; r < reduced; ++r) q[r * inner] *= scale;
        }
      }
    });
    return out;
  })};
}

}  // namespace

void register_reduce(OpRegistry& registry) {
  registry.add("", "ReduceSum", run_reduce<Reduce::sum>);
  registry.add("", "ReduceMean", run_reduce<Reduce::mean>);
  registry.add("", "ReduceMax", run_reduce<Reduce::max>);
  registry.add("", "ReduceMin", run_reduce<Reduce::min>);
  registry.add("", "ReduceProd", run_reduce<Reduce::prod>);
  registry.add("", "ReduceSumSquare", run_reduce<Reduce::sum_square>);
  registry.add("", "ReduceL1", run_reduce<Reduce::l1>);
  registry.add("", "ReduceL2", run_reduce<Reduce::l2>);
  registry.add("", "ReduceLogSum", run_reduce<Reduce::log_sum>);
  registry.add("", "ReduceLogSumExp", run_reduce<Reduce::log_sum_exp>);
  registry.add("", "ArgMax", run_arg<true>);
  registry.add("", "ArgMin", run_arg<false>);
  registry.add("", "Softmax", run_softmax<false>);
  registry.add("", "LogSoftmax", run_softmax<true>);
}

}  // namespace edgec::runtime::detail
