// Shape and data-movement ops: everything that moves elements without arithmetic (so works for any dtype
// by element size) plus the int64 shape arithmetic producers (Shape, Size, Range, ConstantOfShape).
// Attribute-vs-input forms are chosen by opset, as ONNX moved axes/splits/pads to inputs over time.
#include <algorithm>
#include <cmath>
#include <cstring>
#include <limits>
#include <numeric>

#include "edgec/core/error.hpp"
#include "kernels/kernel_util.hpp"
#include "kernels/registration.hpp"

namespace edgec::runtime::detail {
namespace {

// Integer types of each element size, so data movement is one template per size, not per dtype.
template <class F>
decltype(auto) dispatch_size(const KernelContext& ctx, size_t size, F&& f) {
  switch (size) {
    case 1: return f(uint8_t{});
    case 2: return f(uint16_t{});
    case 4: return f(uint32_t{});
    case 8: return f(uint64_t{});
    default: ctx.fail("element size " + std::to_string(size) + " is not supported");
  }
}

HostTensor output_i64(std::vector<int64_t> dims, const std::vector<int64_t>& values) {
  return HostTensor::from_values<int64_t>(DType::i64, std::move(dims), values);
}

std::vector<HostTensor> run_shape(const KernelContext& ctx) {
  const auto& dims = ctx.input(0).dims();
  const auto rank = static_cast<int64_t>(dims.size());
  int64_t start = ctx.node().attr_int("start", 0);
  int64_t end = ctx.node().attr_int("end", rank);
  // Opset 15: out-of-range start/end are clamped, negative ones count from the back.
  if (start < 0) start += rank;
  if (end < 0) end += rank;
  start = std::clamp<int64_t>(start, 0, rank);
  end = std::clamp<int64_t>(end, 0, rank);
  std::vector<int64_t> values;
  for (int64_t i = start; i < end; ++i) values.push_back(dims[static_cast<size_t>(i)]);
  return {output_i64({static_cast<int64_t>(values.size())}, values)};
}

std::vector<HostTensor> run_size(const KernelContext& ctx) { return {output_i64({}, {ctx.input(0).elements()})}; }

std::vector<HostTensor> run_reshape(const KernelContext& ctx) {
  const HostTensor& data = ctx.input(0);
  std::vector<int64_t> shape = ctx.opset() < 5 ? ctx.node().attr_ints("shape") : input_i64(ctx, 1);
  const bool allow_zero = ctx.node().attr_int("allowzero", 0) != 0;
  int64_t infer = -1;
  int64_t known = 1;
  for (size_t i = 0; i < shape.size(); ++i) {
    if (shape[i] == 0 && !allow_zero) {
      if (i >= data.dims().size()) ctx.fail("shape " + dims_to_string(shape) + " copies a dim the input lacks");
      shape[i] = data.dims()[i];
    }
    if (shape[i] == -1) {
      if (infer >= 0) ctx.fail("shape " + dims_to_string(shape) + " has more than one -1");
      infer = static_cast<int64_t>(i);
      continue;
    }
    if (shape[i] < 0) ctx.fail("shape " + dims_to_string(shape) + " has a negative dim");
    known *= shape[i];
  }
  if (infer >= 0) {
    if (known == 0 || data.elements() % known != 0)
      ctx.fail("cannot infer the -1 in " + dims_to_string(shape) + " for " + describe(data));
    shape[static_cast<size_t>(infer)] = data.elements() / known;
  }
  if (element_count(shape).value_or(-1) != data.elements())
    ctx.fail("cannot reshape " + describe(data) + " to " + dims_to_string(shape));
  return {data.reshaped(std::move(shape))};
}

std::vector<HostTensor> run_flatten(const KernelContext& ctx) {
  const HostTensor& data = ctx.input(0);
  const int64_t rank = data.rank();
  int64_t axis = ctx.node().attr_int("axis", 1);
  if (axis < 0) axis += rank;
  if (axis < 0 || axis > rank) ctx.fail("axis out of range");
  const auto split = static_cast<size_t>(axis);
  return {data.reshaped({product(data.dims(), 0, split), product(data.dims(), split, data.dims().size())})};
}

std::vector<int64_t> squeeze_axes(const KernelContext& ctx) {
  if (ctx.opset() < 13) return ctx.node().attr_ints("axes");
  return ctx.has_input(1) ? input_i64(ctx, 1) : std::vector<int64_t>{};
}

std::vector<HostTensor> run_squeeze(const KernelContext& ctx) {
  const HostTensor& data = ctx.input(0);
  const auto axes_in = squeeze_axes(ctx);
  std::vector<uint8_t> drop(data.dims().size(), 0);
  if (axes_in.empty()) {
    for (size_t i = 0; i < drop.size(); ++i) drop[i] = data.dims()[i] == 1;
  } else {
    for (const int64_t a : axes_in) {
      const auto axis = static_cast<size_t>(normalize_axis(ctx, a, data.rank()));
      if (data.dims()[axis] != 1) ctx.fail("cannot squeeze axis " + std::to_string(a) + " of " + describe(data));
      drop[axis] = 1;
    }
  }
  std::vector<int64_t> dims;
  for (size_t i = 0; i < drop.size(); ++i)
    if (!drop[i]) dims.push_back(data.dims()[i]);
  return {data.reshaped(std::move(dims))};
}

std::vector<HostTensor> run_unsqueeze(const KernelContext& ctx) {
  const HostTensor& data = ctx.input(0);
  const auto axes_in = ctx.opset() < 13 ? ctx.node().attr_ints("axes") : input_i64(ctx, 1);
  const int64_t rank = data.rank() + static_cast<int64_t>(axes_in.size());
  std::vector<uint8_t> inserted(static_cast<size_t>(rank), 0);
  for (const int64_t a : axes_in) {
    const auto axis = static_cast<size_t>(normalize_axis(ctx, a, rank));
    if (inserted[axis]) ctx.fail("axis " + std::to_string(a) + " is repeated");
    inserted[axis] = 1;
  }
  std::vector<int64_t> dims;
  size_t next = 0;
  for (size_t i = 0; i < inserted.size(); ++i) dims.push_back(inserted[i] ? 1 : data.dims()[next++]);
  return {data.reshaped(std::move(dims))};
}

std::vector<HostTensor> run_transpose(const KernelContext& ctx) {
  const HostTensor& data = ctx.input(0);
  const auto rank = static_cast<size_t>(data.rank());
  std::vector<int64_t> perm = ctx.node().attr_ints("perm");
  if (perm.empty())
    for (size_t i = 0; i < rank; ++i) perm.push_back(static_cast<int64_t>(rank - 1 - i));
  if (perm.size() != rank) ctx.fail("perm " + dims_to_string(perm) + " does not match " + describe(data));
  const auto in_strides = strides_of(data.dims());
  std::vector<int64_t> dims(rank), strides(rank);
  std::vector<uint8_t> seen(rank, 0);
  for (size_t d = 0; d < rank; ++d) {
    const auto p = static_cast<size_t>(normalize_axis(ctx, perm[d], data.rank()));
    if (seen[p]) ctx.fail("perm " + dims_to_string(perm) + " repeats an axis");
    seen[p] = 1;
    dims[d] = data.dims()[p];
    strides[d] = in_strides[p];
  }
  return {strided_copy(ctx, data, std::move(dims), 0, strides)};
}

std::vector<HostTensor> run_expand(const KernelContext& ctx) {
  const HostTensor& data = ctx.input(0);
  const std::vector<int64_t> shape = input_i64(ctx, 1);
  const std::vector<int64_t>* shapes[] = {&data.dims(), &shape};
  const std::vector<int64_t> out_dims = broadcast_shape(ctx, shapes);
  const auto in_strides = strides_of(data.dims());
  std::vector<int64_t> strides(out_dims.size(), 0);
  const size_t offset = out_dims.size() - data.dims().size();
  for (size_t i = 0; i < data.dims().size(); ++i) strides[offset + i] = data.dims()[i] == 1 ? 0 : in_strides[i];
  return {strided_copy(ctx, data, out_dims, 0, strides)};
}

std::vector<HostTensor> run_slice(const KernelContext& ctx) {
  const HostTensor& data = ctx.input(0);
  std::vector<int64_t> starts, ends, axes, steps;
  if (ctx.opset() < 10) {
    starts = ctx.node().attr_ints("starts");
    ends = ctx.node().attr_ints("ends");
    axes = ctx.node().attr_ints("axes");
  } else {
    starts = input_i64(ctx, 1);
    ends = input_i64(ctx, 2);
    if (ctx.has_input(3)) axes = input_i64(ctx, 3);
    if (ctx.has_input(4)) steps = input_i64(ctx, 4);
  }
  if (axes.empty())
    for (size_t i = 0; i < starts.size(); ++i) axes.push_back(static_cast<int64_t>(i));
  if (steps.empty()) steps.assign(starts.size(), 1);
  if (ends.size() != starts.size() || axes.size() != starts.size() || steps.size() != starts.size())
    ctx.fail("starts, ends, axes and steps differ in length");
  const auto in_strides = strides_of(data.dims());
  std::vector<int64_t> dims = data.dims();
  std::vector<int64_t> strides = in_strides;
  std::vector<uint8_t> seen(dims.size(), 0);
  int64_t base = 0;
  for (size_t i = 0; i < starts.size(); ++i) {
    const auto axis = static_cast<size_t>(normalize_axis(ctx, axes[i], data.rank()));
    if (seen[axis]) ctx.fail("axis " + std::to_string(axes[i]) + " is repeated");
    seen[axis] = 1;
    const int64_t dim = data.dims()[axis];
    const int64_t step = steps[i];
    if (step == 0) ctx.fail("step 0");
    int64_t start = starts[i], end = ends[i];
    if (start < 0) start += dim;
    if (end < 0) end += dim;
    // Clamping as the ONNX spec states it: [0, dim] going forward, [-1, dim - 1] going backward.
    if (step > 0) {
      start = std::clamp<int64_t>(start, 0, dim);
      end = std::clamp<int64_t>(end, 0, dim);
    } else {
      start = std::clamp<int64_t>(start, 0, dim - 1);
      end = std::clamp<int64_t>(end, -1, dim - 1);
    }
    const int64_t span = step > 0 ? end - start : start - end;
    const int64_t magnitude = step > 0 ? step : -step;
    const int64_t count = span <= 0 ? 0 : (span + magnitude - 1) / magnitude;
    dims[axis] = count;
    strides[axis] = in_strides[axis] * step;
    if (count > 0) base += start * in_strides[axis];
  }
  return {strided_copy(ctx, data, std::move(dims), base, strides)};
}

std::vector<HostTensor> run_concat(const KernelContext& ctx) {
  const HostTensor& first = ctx.input(0);
  const auto axis = static_cast<size_t>(normalize_axis(ctx, ctx.node().attr_int("axis", 0), first.rank()));
  std::vector<int64_t> dims = first.dims();
  dims[axis] = 0;
  std::vector<const HostTensor*> parts;
  for (size_t i = 0; i < ctx.input_count(); ++i) {
    if (!ctx.has_input(i)) continue;
    const HostTensor& part = ctx.input(i);
    if (part.dtype() != first.dtype() || part.rank() != first.rank()) ctx.fail("inputs differ in dtype or rank");
    for (size_t d = 0; d < dims.size(); ++d)
      if (d != axis && part.dims()[d] != first.dims()[d])
        ctx.fail("cannot concatenate " + describe(first) + " and " + describe(part) + " on axis " + std::to_string(axis));
    dims[axis] += part.dims()[axis];
    parts.push_back(&part);
  }
  HostTensor out = HostTensor::empty(first.dtype(), dims);
  const size_t element = out.element_size();
  if (element == 0) ctx.fail("dtype " + std::string(dtype_name(first.dtype())) + " is not supported");
  const int64_t outer = product(dims, 0, axis);
  const auto out_row = static_cast<size_t>(product(dims, axis, dims.size())) * element;
  size_t offset = 0;
  for (const HostTensor* part : parts) {
    const auto row = static_cast<size_t>(product(part->dims(), axis, dims.size())) * element;
    if (row == 0) continue;
    for (int64_t o = 0; o < outer; ++o)
      std::memcpy(out.mutable_raw() + static_cast<size_t>(o) * out_row + offset,
                  part->raw() + static_cast<size_t>(o) * row, row);
    offset += row;
  }
  return {out};
}

std::vector<HostTensor> run_split(const KernelContext& ctx) {
  const HostTensor& data = ctx.input(0);
  const auto axis = static_cast<size_t>(normalize_axis(ctx, ctx.node().attr_int("axis", 0), data.rank()));
  const int64_t dim = data.dims()[axis];
  const auto outputs = static_cast<int64_t>(ctx.output_count());
  std::vector<int64_t> sizes;
  if (ctx.opset() < 13) sizes = ctx.node().attr_ints("split");
  else if (ctx.has_input(1)) sizes = input_i64(ctx, 1);
  if (sizes.empty()) {
    // Equal parts; from opset 18 (num_outputs) the last part may be smaller.
    const int64_t parts = ctx.node().attr_int("num_outputs", outputs);
    const int64_t chunk = (dim + parts - 1) / parts;
    if (ctx.opset() < 18 && dim % parts != 0) ctx.fail("axis of " + std::to_string(dim) + " does not split evenly");
    for (int64_t i = 0; i < parts; ++i) sizes.push_back(std::max<int64_t>(0, std::min(chunk, dim - i * chunk)));
  }
  if (static_cast<int64_t>(sizes.size()) != outputs) ctx.fail("split sizes do not match the number of outputs");
  if (std::accumulate(sizes.begin(), sizes.end(), int64_t{0}) != dim) ctx.fail("split sizes do not sum to the axis");
  const auto in_strides = strides_of(data.dims());
  std::vector<HostTensor> out;
  int64_t start = 0;
  for (const int64_t size : sizes) {
    std::vector<int64_t> dims = data.dims();
    dims[axis] = size;
    out.push_back(strided_copy(ctx, data, dims, start * in_strides[axis], in_strides));
    start += size;
  }
  return out;
}

std::vector<HostTensor> run_gather(const KernelContext& ctx) {
  const HostTensor& data = ctx.input(0);
  const auto indices = input_i64(ctx, 1);
  const auto& index_dims = ctx.input(1).dims();
  const auto axis = static_cast<size_t>(normalize_axis(ctx, ctx.node().attr_int("axis", 0), data.rank()));
  const int64_t dim = data.dims()[axis];
  std::vector<int64_t> dims(data.dims().begin(), data.dims().begin() + static_cast<std::ptrdiff_t>(axis));
  dims.insert(dims.end(), index_dims.begin(), index_dims.end());
  dims.insert(dims.end(), data.dims().begin() + static_cast<std::ptrdiff_t>(axis) + 1, data.dims().end());
  HostTensor out = HostTensor::empty(data.dtype(), dims);
  const size_t element = data.element_size();
  if (element == 0) ctx.fail("dtype " + std::string(dtype_name(data.dtype())) + " is not supported");
  const int64_t outer = product(data.dims(), 0, axis);
  const auto inner = static_cast<size_t>(product(data.dims(), axis + 1, data.dims().size())) * element;
  std::vector<int64_t> resolved(indices.size());
  for (size_t i = 0; i < indices.size(); ++i) {
    const int64_t index = indices[i] < 0 ? indices[i] + dim : indices[i];
    if (index < 0 || index >= dim)
      ctx.fail("index " + std::to_string(indices[i]) + " is out of range for axis of " + std::to_string(dim));
    resolved[i] = index;
  }
  const auto count = static_cast<int64_t>(resolved.size());
  parallel_for(outer, count * static_cast<int64_t>(inner), [&](int64_t o) {
    for (int64_t i = 0; i < count; ++i)
      std::memcpy(out.mutable_raw() + (static_cast<size_t>(o * count + i)) * inner,
                  data.raw() + (static_cast<size_t>(o * dim + resolved[static_cast<size_t>(i)])) * inner, inner);
  });
  return {out};
}

std::vector<HostTensor> run_gather_elements(const KernelContext& ctx) {
  const HostTensor& data = ctx.input(0);
  const auto indices = input_i64(ctx, 1);
  const auto& index_dims = ctx.input(1).dims();
  if (index_dims.size() != data.dims().size()) ctx.fail("indices and data differ in rank");
  const auto axis = static_cast<size_t>(normalize_axis(ctx, ctx.node().attr_int("axis", 0), data.rank()));
  const auto data_strides = strides_of(data.dims());
  HostTensor out = HostTensor::empty(data.dtype(), index_dims);
  const size_t element = data.element_size();
  std::vector<int64_t> coord(index_dims.size(), 0);
  for (size_t i = 0; i < indices.size(); ++i) {
    int64_t offset = 0;
    for (size_t d = 0; d < coord.size(); ++d) {
      int64_t c = coord[d];
      if (d == axis) {
        c = indices[i] < 0 ? indices[i] + data.dims()[d] : indices[i];
        if (c < 0 || c >= data.dims()[d]) ctx.fail("index " + std::to_string(indices[i]) + " is out of range");
      } else if (c >= data.dims()[d]) {
        ctx.fail("indices are larger than data");
      }
      offset += c * data_strides[d];
    }
    std::memcpy(out.mutable_raw() + i * element, data.raw() + static_cast<size_t>(offset) * element, element);
    for (size_t d = coord.size(); d-- > 0;) {
      if (++coord[d] < index_dims[d]) break;
      coord[d] = 0;
    }
  }
  return {out};
}

std::vector<HostTensor> run_tile(const KernelContext& ctx) {
  const HostTensor& data = ctx.input(0);
  const auto repeats = input_i64(ctx, 1);
  if (repeats.size() != data.dims().size()) ctx.fail("repeats must have one entry per axis");
  std::vector<int64_t> dims = data.dims();
  for (size_t d = 0; d < dims.size(); ++d) {
    if (repeats[d] < 0) ctx.fail("negative repeat");
    dims[d] *= repeats[d];
  }
  HostTensor out = HostTensor::empty(data.dtype(), dims);
  const size_t element = data.element_size();
  const auto in_strides = strides_of(data.dims());
  std::vector<int64_t> coord(dims.size(), 0);
  for (int64_t i = 0; i < out.elements(); ++i) {
    int64_t offset = 0;
    for (size_t d = 0; d < dims.size(); ++d) offset += (coord[d] % data.dims()[d]) * in_strides[d];
    std::memcpy(out.mutable_raw() + static_cast<size_t>(i) * element, data.raw() + static_cast<size_t>(offset) * element,
                element);
    for (size_t d = dims.size(); d-- > 0;) {
      if (++coord[d] < dims[d]) break;
      coord[d] = 0;
    }
  }
  return {out};
}

// Pad: pads/value are attributes before opset 11, inputs after (axes input from 18).
std::vector<HostTensor> run_pad(const KernelContext& ctx) {
  const HostTensor& data = ctx.input(0);
  const auto rank = static_cast<size_t>(data.rank());
  const std::string mode = ctx.node().attr_string("mode", "constant");
  std::vector<int64_t> pads_in;
  HostTensor fill = HostTensor::zeros(data.dtype(), {});
  std::vector<int64_t> axes;
  if (ctx.opset() < 11) {
    pads_in = ctx.node().attr_ints("pads");
    const float value = ctx.node().attr_float("value", 0.0f);
    fill = cast_tensor(ctx, HostTensor::from_values<float>(DType::f32, {}, std::vector<float>{value}), data.dtype());
  } else {
    pads_in = input_i64(ctx, 1);
    if (ctx.has_input(2) && ctx.input(2).elements() > 0) fill = cast_tensor(ctx, ctx.input(2), data.dtype());
    if (ctx.has_input(3)) axes = input_i64(ctx, 3);
  }
  if (axes.empty())
    for (size_t i = 0; i < rank; ++i) axes.push_back(static_cast<int64_t>(i));
  if (pads_in.size() != 2 * axes.size()) ctx.fail("pads must have 2 entries per padded axis");
  std::vector<int64_t> begin(rank, 0), end(rank, 0);
  for (size_t i = 0; i < axes.size(); ++i) {
    const auto axis = static_cast<size_t>(normalize_axis(ctx, axes[i], data.rank()));
    begin[axis] = pads_in[i];
    end[axis] = pads_in[i + axes.size()];
  }
  std::vector<int64_t> dims(rank);
  for (size_t d = 0; d < rank; ++d) {
    dims[d] = data.dims()[d] + begin[d] + end[d];
    if (dims[d] < 0) ctx.fail("pads remove more than the axis holds");
    if (mode != "constant" && data.dims()[d] == 0 && dims[d] > 0) ctx.fail("cannot " + mode + "-pad an empty axis");
  }
  HostTensor out = HostTensor::empty(data.dtype(), dims);
  const size_t element = data.element_size();
  const auto in_strides = strides_of(data.dims());
  std::vector<int64_t> coord(rank, 0);
  for (int64_t i = 0; i < out.elements(); ++i) {
    int64_t offset = 0;
    bool inside = true;
    for (size_t d = 0; d < rank && inside; ++d) {
      const int64_t n = data.dims()[d];
      int64_t c = coord[d] - begin[d];
      if (c < 0 || c >= n) {
        if (mode == "constant") {
          inside = false;
        } else if (mode == "edge") {
          c = std::clamp<int64_t>(c, 0, n - 1);
        } else if (mode == "reflect") {
          const int64_t period = 2 * (n - 1);
          if (period == 0) c = 0;
          else {
            c = ((c % period) + period) % period;
            if (c >= n) c = period - c;
          }
        } else {  // wrap
          c = ((c % n) + n) % n;
        }
      }
      offset += c * in_strides[d];
    }
    std::memcpy(out.mutable_raw() + static_cast<size_t>(i) * element,
                inside ? data.raw() + static_cast<size_t>(offset) * element : fill.raw(), element);
    for (size_t d = rank; d-- > 0;) {
      if (++coord[d] < dims[d]) break;
      coord[d] = 0;
    }
  }
  return {out};
}

void check_pad(const Node& node, int64_t) {
  const std::string mode = node.attr_string("mode", "constant");
  if (mode != "constant" && mode != "reflect" && mode != "edge" && mode != "wrap")
    throw Error(ErrorCategory::input, "mode='" + mode + "'");
}

std::vector<HostTensor> run_constant(const KernelContext& ctx) {
  const Node& node = ctx.node();
  if (const Tensor* value = attr_tensor(node, "value")) return {HostTensor::from_ir(*value)};
  if (node.has_attribute("value_float"))
    return {HostTensor::from_values<float>(DType::f32, {}, std::vector<float>{node.attr_float("value_float", 0)})};
  if (node.has_attribute("value_floats")) {
    const auto values = attr_floats(node, "value_floats");
    return {HostTensor::from_values<float>(DType::f32, {static_cast<int64_t>(values.size())}, values)};
  }
  if (node.has_attribute("value_int")) return {output_i64({}, {node.attr_int("value_int", 0)})};
  if (node.has_attribute("value_ints")) {
    const auto values = node.attr_ints("value_ints");
    return {output_i64({static_cast<int64_t>(values.size())}, values)};
  }
  ctx.fail("has no supported value attribute (value, value_float(s), value_int(s))");
}

void check_constant(const Node& node, int64_t) {
  for (const char* key : {"value", "value_float", "value_floats", "value_int", "value_ints"})
    if (node.has_attribute(key)) return;
  throw Error(ErrorCategory::input, "only value, value_float(s) and value_int(s) are supported");
}

std::vector<HostTensor> run_constant_of_shape(const KernelContext& ctx) {
  const auto dims = input_i64(ctx, 0);
  HostTensor value = HostTensor::zeros(DType::f32, {});
  if (const Tensor* attr = attr_tensor(ctx.node(), "value")) {
    if (attr->elements() != 1) ctx.fail("value must hold one element");
    value = HostTensor::from_ir(*attr);
  }
  HostTensor out = HostTensor::empty(value.dtype(), dims);
  const size_t element = value.element_size();
  for (int64_t i = 0; i < out.elements(); ++i)
    std::memcpy(out.mutable_raw() + static_cast<size_t>(i) * element, value.raw(), element);
  return {out};
}

std::vector<HostTensor> run_range(const KernelContext& ctx) {
  const HostTensor& start = ctx.input(0);
  return {dispatch_signed(ctx, start.dtype(), [&](auto tag) {
    using T = decltype(tag);
    const T first = start.data<T>()[0];
    const T limit = ctx.input(1).data<T>()[0];
    const T delta = ctx.input(2).data<T>()[0];
    if (delta == T(0)) ctx.fail("delta is 0");
    const double steps = std::ceil((static_cast<double>(limit) - static_cast<double>(first)) / static_cast<double>(delta));
    const int64_t count = std::max<int64_t>(0, static_cast<int64_t>(steps));
    HostTensor out = HostTensor::empty(start.dtype(), {count});
    T* o = out.mutable_data<T>();
    for (int64_t i = 0; i < count; ++i) o[i] = static_cast<T>(first + static_cast<T>(i) * delta);
    return out;
  })};
}

std::vector<HostTensor> run_trilu(const KernelContext& ctx) {
  const HostTensor& data = ctx.input(0);
  if (data.rank() < 2) ctx.fail("needs rank >= 2");
  const bool upper = ctx.node().attr_int("upper", 1) != 0;
  const int64_t k = ctx.has_input(1) ? input_i64(ctx, 1).at(0) : 0;
  const int64_t rows = data.dims()[data.dims().size() - 2], cols = data.dims().back();
  HostTensor out = HostTensor::empty(data.dtype(), data.dims());
  const size_t element = data.element_size();
  const int64_t matrices = rows * cols == 0 ? 0 : data.elements() / (rows * cols);
  for (int64_t m = 0; m < matrices; ++m)
    for (int64_t i = 0; i < rows; ++i)
      for (int64_t j = 0; j < cols; ++j) {
        const auto offset = static_cast<size_t>((m * rows + i) * cols + j) * element;
        const bool keep = upper ? (j - i >= k) : (j - i <= k);
        if (keep) std::memcpy(out.mutable_raw() + offset, data.raw() + offset, element);
        else std::memset(out.mutable_raw() + offset, 0, element);  // zero has all bits 0 in every dtype
      }
  return {out};
}

}  // namespace

HostTensor strided_copy(const KernelContext& ctx, const HostTensor& input, std::vector<int64_t> out_dims,
                        int64_t base, std::span<const int64_t> strides) {
  HostTensor out = HostTensor::empty(input.dtype(), out_dims);
  const size_t element = input.element_size();
  if (element == 0) ctx.fail("dtype " + std::string(dtype_name(input.dtype())) + " is not supported");
  if (out.elements() == 0) return out;
  const size_t rank = out_dims.size();
  if (rank == 0) {
    std::memcpy(out.mutable_raw(), input.raw() + static_cast<size_t>(base) * element, element);
    return out;
  }
  const int64_t inner = out_dims.back();
  const int64_t inner_stride = strides[rank - 1];
  const int64_t rows = out.elements() / inner;
  dispatch_size(ctx, element, [&](auto tag) {
    using T = decltype(tag);
    // memcpy through T keeps this free of aliasing and alignment assumptions about `input`.
    const std::byte* in = input.raw();
    std::byte* o = out.mutable_raw();
    parallel_for(rows, inner, [&](int64_t row) {
      int64_t offset = base;
      int64_t rest = row;
      for (size_t d = rank - 1; d-- > 0;) {
        offset += (rest % out_dims[d]) * strides[d];
        rest /= out_dims[d];
      }
      std::byte* dst = o + static_cast<size_t>(row * inner) * sizeof(T);
      if (inner_stride == 1) {
        std::memcpy(dst, in + static_cast<size_t>(offset) * sizeof(T), static_cast<size_t>(inner) * sizeof(T));
        return;
      }
      for (int64_t i = 0; i < inner; ++i) {
        T value;
        std::memcpy(&value, in + static_cast<size_t>(offset + i * inner_stride) * sizeof(T), sizeof(T));
        std::memcpy(dst + static_cast<size_t>(i) * sizeof(T), &value, sizeof(T));
      }
    });
    return 0;
  });
  return out;
}

void register_shape_ops(OpRegistry& registry) {
  registry.add("", "Shape", run_shape);
  registry.add("", "Size", run_size);
  registry.add("", "Reshape", run_reshape);
  registry.add("", "Flatten", run_flatten);
  registry.add("", "Squeeze", run_squeeze);
  registry.add("", "Unsqueeze", run_unsqueeze);
  registry.add("", "Transpose", run_transpose);
  registry.add("", "Expand", run_expand);
  registry.add("", "Slice", run_slice);
  registry.add("", "Concat", run_concat);
  registry.add("", "Split", run_split);
  registry.add("", "Gather", run_gather);
  registry.add("", "GatherElements", run_gather_elements);
  registry.add("", "Tile", run_tile);
  registry.add("", "Pad", run_pad, check_pad);
  registry.add("", "Constant", run_constant, check_constant);
  registry.add("", "ConstantOfShape", run_constant_of_shape);
  registry.add("", "Range", run_range);
  registry.add("", "Trilu", run_trilu);
}

}  // namespace edgec::runtime::detail
