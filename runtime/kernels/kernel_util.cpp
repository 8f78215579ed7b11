#include "kernels/kernel_util.hpp"

namespace edgec::runtime::detail {

std::optional<std::vector<int64_t>> attr_ints_opt(const Node& node, std::string_view key) {
  const auto it = node.attributes.find(std::string(key));
  if (it == node.attributes.end()) return std::nullopt;
  if (const auto* ints = std::get_if<std::vector<int64_t>>(&it->second)) return *ints;
  if (const auto* one = std::get_if<int64_t>(&it->second)) return std::vector<int64_t>{*one};
  return std::nullopt;
}

std::vector<float> attr_floats(const Node& node, std::string_view key) {
  const auto it = node.attributes.find(std::string(key));
  if (it == node.attributes.end()) return {};
  if (const auto* floats = std::get_if<std::vector<float>>(&it->second)) return *floats;
  if (const auto* one = std::get_if<float>(&it->second)) return {*one};
  return {};
}

const Tensor* attr_tensor(const Node& node, std::string_view key) {
  const auto it = node.attributes.find(std::string(key));
  if (it == node.attributes.end()) return nullptr;
  return std::get_if<Tensor>(&it->second);
}

std::optional<DType> dtype_from_onnx(int64_t data_type) {
  switch (data_type) {
    case 1: return DType::f32;
    case 2: return DType::u8;
    case 3: return DType::i8;
    case 4: return DType::u16;
    case 5: return DType::i16;
    case 6: return DType::i32;
    case 7: return DType::i64;
    case 9: return DType::boolean;
    case 10: return DType::f16;
    case 11: return DType::f64;
    case 12: return DType::u32;
    case 13: return DType::u64;
    case 16: return DType::bf16;
    default: return std::nullopt;
  }
}

int64_t normalize_axis(const KernelContext& ctx, int64_t axis, int64_t rank) {
  if (axis < -rank || axis >= rank)
    ctx.fail("axis " + std::to_string(axis) + " is out of range for rank " + std::to_string(rank));
  return axis < 0 ? axis + rank : axis;
}

std::vector<int64_t> strides_of(std::span<const int64_t> dims) {
  std::vector<int64_t> strides(dims.size(), 1);
  for (size_t i = dims.size(); i-- > 1;) strides[i - 1] = strides[i] * dims[i];
  return strides;
}

int64_t product(std::span<const int64_t> dims, size_t begin, size_t end) {
  int64_t out = 1;
  for (size_t i = begin; i < end && i < dims.size(); ++i) out *= dims[i];
  return out;
}

std::vector<int64_t> broadcast_shape(const KernelContext& ctx, std::span<const std::vector<int64_t>* const> shapes) {
  size_t rank = 0;
  for (const auto* shape : shapes) rank = std::max(rank, shape->size());
  std::vector<int64_t> out(rank, 1);
  for (const auto* shape : shapes) {
    const size_t offset = rank - shape->size();
    for (size_t i = 0; i < shape->size(); ++i) {
      const int64_t dim = (*shape)[i];
      int64_t& target = out[offset + i];
      if (dim == target || dim == 1) continue;
      if (target == 1) {
        target = dim;
        continue;
      }
      std::string message = "shapes cannot be broadcast:";
      for (const auto* s : shapes) message += " " + dims_to_string(*s);
      ctx.fail(message);
    }
  }
  return out;
}

Broadcast plan_broadcast(const KernelContext& ctx, std::span<const std::vector<int64_t>* const> shapes) {
  Broadcast plan;
  plan.out_dims = broadcast_shape(ctx, shapes);
  const size_t rank = plan.out_dims.size();
  const size_t n = shapes.size();
  // Full-rank strides per input, 0 where the input is broadcast.
  std::vector<std::vector<int64_t>> full(n, std::vector<int64_t>(rank, 0));
  for (size_t k = 0; k < n; ++k) {
    const auto& shape = *shapes[k];
    const size_t offset = rank - shape.size();
    int64_t stride = 1;
    for (size_t i = shape.size(); i-- > 0;) {
      full[k][offset + i] = shape[i] == 1 ? 0 : stride;
      stride *= shape[i];
    }
  }
  // Coalesce neighbouring dims when every input walks them as one (fewer, longer rows). Dims of size 1
  // are dropped.
  for (size_t i = 0; i < rank; ++i) {
    const int64_t dim = plan.out_dims[i];
    if (dim == 1) continue;
    if (!plan.dims.empty()) {
      bool merge = true;
      for (size_t k = 0; k < n; ++k)
        if (plan.strides[k].back() != full[k][i] * dim) merge = false;
      if (merge) {
        plan.dims.back() *= dim;
        for (size_t k = 0; k < n; ++k) plan.strides[k].back() = full[k][i];
        continue;
      }
    } else {
      plan.strides.assign(n, {});
    }
    plan.dims.push_back(dim);
    for (size_t k = 0; k < n; ++k) plan.strides[k].push_back(full[k][i]);
  }
  if (plan.dims.empty()) {
    plan.dims.push_back(1);
    plan.strides.assign(n, std::vector<int64_t>{0});
  }
  plan.inner = plan.dims.back();
  plan.rows = product(plan.out_dims, 0, rank) / std::max<int64_t>(1, plan.inner);
  if (product(plan.out_dims, 0, rank) == 0) plan.rows = 0;
  plan.inner_stride.resize(n);
  for (size_t k = 0; k < n; ++k) plan.inner_stride[k] = plan.strides[k].back();
  return plan;
}

void Broadcast::row_offsets(int64_t row, std::span<int64_t> offsets) const {
  for (auto& offset : offsets) offset = 0;
  for (size_t d = dims.size() - 1; d-- > 0;) {
    const int64_t index = row % dims[d];
    row /= dims[d];
    for (size_t k = 0; k < offsets.size(); ++k) offsets[k] += index * strides[k][d];
  }
}

std::vector<int64_t> input_i64(const KernelContext& ctx, size_t index) {
  const HostTensor& tensor = ctx.input(index);
  if (!dtype_is_integer(tensor.dtype()) && tensor.dtype() != DType::boolean)
    ctx.fail("input " + std::to_string(index) + " must be an integer tensor, got " + describe(tensor));
  return tensor.to_i64();
}

void require_inputs(const KernelContext& ctx, size_t min_count) {
  for (size_t i = 0; i < min_count; ++i) (void)ctx.input(i);
}

}  // namespace edgec::runtime::detail
