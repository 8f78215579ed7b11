// QuantizeLinear / DequantizeLinear (opsets 10-21): per-tensor, per-axis and blocked (opset 21
// block_size) scales and zero points; 8- and 16-bit integer codes (and i32 for DequantizeLinear).
// Rounding is half to even and results saturate, as the spec says.
#include <algorithm>
#include <cmath>
#include <limits>

#include "edgec/core/error.hpp"
#include "kernels/kernel_util.hpp"
#include "kernels/registration.hpp"

namespace edgec::runtime::detail {
namespace {

// Index into the scale / zero-point tensor for element i of x: per-tensor (one value), per-axis (1-D of
// dims[axis]) or blocked (x's rank, dims[axis] / block_size along the axis).
struct ParamIndex {
  enum class Kind { tensor, axis, block } kind = Kind::tensor;
  int64_t inner = 1, dim = 1, block = 0;  // x viewed as [outer, dim, inner]
  int64_t operator()(int64_t i) const {
    if (kind == Kind::tensor) return 0;
    const int64_t outer = i / (dim * inner), along = (i / inner) % dim, in = i % inner;
    if (kind == Kind::axis) return along;
    const int64_t blocks = (dim + block - 1) / block;
    return (outer * blocks + along / block) * inner + in;
  }
};

ParamIndex param_index(const KernelContext& ctx, const HostTensor& x, const HostTensor& scale) {
  ParamIndex index;
  if (scale.elements() == 1 && scale.rank() <= 1) return index;
  const auto axis = static_cast<size_t>(normalize_axis(ctx, ctx.node().attr_int("axis", 1), x.rank()));
  index.dim = x.dims()[axis];
  index.inner = product(x.dims(), axis + 1, x.dims().size());
  index.block = ctx.node().attr_int("block_size", 0);
  if (index.block > 0) {
    index.kind = ParamIndex::Kind::block;
    std::vector<int64_t> expected = x.dims();
    expected[axis] = (index.dim + index.block - 1) / index.block;
    if (scale.dims() != expected) ctx.fail("blocked scale " + describe(scale) + " should be " + dims_to_string(expected));
  } else {
    index.kind = ParamIndex::Kind::axis;
    if (scale.rank() != 1 || scale.elements() != index.dim)
      ctx.fail("per-axis scale " + describe(scale) + " should have " + std::to_string(index.dim) + " elements");
  }
  return index;
}

template <class F>
decltype(auto) dispatch_code(const KernelContext& ctx, DType dtype, bool allow_i32, F&& f) {
  switch (dtype) {
    case DType::u8: return f(uint8_t{});
    case DType::i8: return f(int8_t{});
    case DType::u16: return f(uint16_t{});
    case DType::i16: return f(int16_t{});
    case DType::i32:
      if (allow_i32) return f(int32_t{});
      [[fallthrough]];
    default: ctx.fail("quantized type " + std::string(dtype_name(dtype)) + " is not supported");
  }
}

std::vector<HostTensor> run_quantize(const KernelContext& ctx) {
  const HostTensor& x = ctx.input(0);
  const HostTensor& scale_in = ctx.input(1);
  DType out_type = DType::u8;
  if (ctx.has_input(2)) out_type = ctx.input(2).dtype();
  else if (const int64_t declared = ctx.node().attr_int("output_dtype", 0); declared != 0) {
    const auto type = dtype_from_onnx(declared);
    if (!type) ctx.fail("unsupported output_dtype");
    out_type = *type;
  }
  const ParamIndex index = param_index(ctx, x, scale_in);
  const auto xs = x.to_f32();
  const auto scales = scale_in.to_f32();
  const std::vector<int64_t> zeros = ctx.has_input(2) ? ctx.input(2).to_i64() : std::vector<int64_t>(scales.size(), 0);
  if (zeros.size() != scales.size()) ctx.fail("zero point and scale differ in size");
  return {dispatch_code(ctx, out_type, false, [&](auto tag) {
    using Q = decltype(tag);
    HostTensor out = HostTensor::empty(out_type, x.dims());
    Q* o = out.mutable_data<Q>();
    constexpr auto lo = static_cast<float>(std::numeric_limits<Q>::lowest());
    constexpr auto hi = static_cast<float>(std::numeric_limits<Q>::max());
    for (int64_t i = 0; i < x.elements(); ++i) {
      const auto p = static_cast<size_t>(index(i));
      // nearbyint rounds half to even under the default rounding mode.
      const float q = std::nearbyint(xs[static_cast<size_t>(i)] / scales[p]) + static_cast<float>(zeros[p]);
      o[i] = static_cast<Q>(std::isnan(q) ? 0.0f : std::clamp(q, lo, hi));
    }
    return out;
  })};
}

std::vector<HostTensor> run_dequantize(const KernelContext& ctx) {
  const HostTensor& x = ctx.input(0);
  const HostTensor& scale_in = ctx.input(1);
  const ParamIndex index = param_index(ctx, x, scale_in);
  const auto scales = scale_in.to_f32();
  const std::vector<int64_t> zeros = ctx.has_input(2) ? ctx.input(2).to_i64() : std::vector<int64_t>(scales.size(), 0);
  if (zeros.size() != scales.size()) ctx.fail("zero point and scale differ in size");
  if (ctx.has_input(2) && ctx.input(2).dtype() != x.dtype()) ctx.fail("zero point and input differ in dtype");
  HostTensor out = dispatch_code(ctx, x.dtype(), true, [&](auto tag) {
    using Q = decltype(tag);
    HostTensor y = HostTensor::empty(DType::f32, x.dims());
    const Q* q = x.data<Q>();
    float* o = y.mutable_data<float>();
    for (int64_t i = 0; i < x.elements(); ++i) {
      const auto p = static_cast<size_t>(index(i));
      o[i] = static_cast<float>(static_cast<int64_t>(q[i]) - zeros[p]) * scales[p];
    }
    return y;
  });
  // The output has the scale's floating-point type (f32, or f16/bf16 from opset 19).
  return {cast_tensor(ctx, out, scale_in.dtype())};
}

}  // namespace

void register_quantize(OpRegistry& registry) {
  registry.add("", "QuantizeLinear", run_quantize);
  registry.add("", "DequantizeLinear", run_dequantize);
}

}  // namespace edgec::runtime::detail
