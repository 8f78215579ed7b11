// Inference-mode normalisations: BatchNormalization (running statistics), InstanceNormalization and
// LayerNormalization (opset 17). Statistics are accumulated in double, one row per thread.
#include <cmath>

#include "edgec/core/error.hpp"
#include "kernels/kernel_util.hpp"
#include "kernels/registration.hpp"

namespace edgec::runtime::detail {
namespace {

std::vector<HostTensor> run_batch_norm(const KernelContext& ctx) {
  const HostTensor& x = ctx.input(0);
  if (x.rank() < 2) ctx.fail("needs an [N,C,...] input, got " + describe(x));
  const int64_t channels = x.dims()[1];
  for (size_t i = 1; i <= 4; ++i)
    if (ctx.input(i).elements() != channels) ctx.fail("scale, B, mean and var must have C elements");
  const double eps = ctx.node().attr_float("epsilon", 1e-5f);
  const int64_t batch = x.dims()[0], plane = product(x.dims(), 2, x.dims().size());
  std::vector<HostTensor> outputs(ctx.output_count());
  outputs[0] = dispatch_float(ctx, x.dtype(), [&](auto tag) {
    using T = decltype(tag);
    // y = (x - mean) / sqrt(var + eps) * scale + B, folded into y = x * a + b per channel.
    const auto scale = ctx.input(1).to_f64(), bias = ctx.input(2).to_f64();
    const auto mean = ctx.input(3).to_f64(), var = ctx.input(4).to_f64();
    std::vector<T> a(static_cast<size_t>(channels)), b(static_cast<size_t>(channels));
    for (size_t c = 0; c < a.size(); ++c) {
      const double inv = 1.0 / std::sqrt(var[c] + eps);
      a[c] = static_cast<T>(scale[c] * inv);
      b[c] = static_cast<T>(bias[c] - mean[c] * scale[c] * inv);
    }
    HostTensor out = HostTensor::empty(x.dtype(), x.dims());
    const T* px = x.data<T>();
    T* po = out.mutable_data<T>();
    parallel_for(batch * channels, plane, [&](int64_t p) {
      const auto c = static_cast<size_t>(p % channels);
      for (int64_t i = 0; i < plane; ++i) po[p * plane + i] = px[p * plane + i] * a[c] + b[c];
    });
    return out;
  });
  for (size_t i = 1; i < outputs.size(); ++i)
    if (ctx.output_wanted(i)) ctx.fail("training outputs (running mean/var) are not supported");
  return outputs;
}

void check_batch_norm(const Node& node, int64_t) {
  if (node.attr_int("training_mode", 0) != 0) throw Error(ErrorCategory::input, "training_mode=1");
  for (size_t i = 1; i < node.outputs.size(); ++i)
    if (!node.outputs[i].empty()) throw Error(ErrorCategory::input, "training outputs are not supported");
}

std::vector<HostTensor> run_instance_norm(const KernelContext& ctx) {
  const HostTensor& x = ctx.input(0);
  if (x.rank() < 3) ctx.fail("needs an [N,C,...] input, got " + describe(x));
  const int64_t channels = x.dims()[1];
  const double eps = ctx.node().attr_float("epsilon", 1e-5f);
  const int64_t planes = x.dims()[0] * channels, size = product(x.dims(), 2, x.dims().size());
  const auto scale = ctx.input(1).to_f64(), bias = ctx.input(2).to_f64();
  if (static_cast<int64_t>(scale.size()) != channels || static_cast<int64_t>(bias.size()) != channels)
    ctx.fail("scale and B must have C elements");
  return {dispatch_float(ctx, x.dtype(), [&](auto tag) {
    using T = decltype(tag);
    HostTensor out = HostTensor::empty(x.dtype(), x.dims());
    const T* px = x.data<T>();
    T* po = out.mutable_data<T>();
    parallel_for(planes, size * 3, [&](int64_t p) {
      const T* row = px + p * size;
      double mean = 0, var = 0;
      for (int64_t i = 0; i < size; ++i) mean += static_cast<double>(row[i]);
      mean /= static_cast<double>(size);
      for (int64_t i = 0; i < size; ++i) var += (row[i] - mean) * (row[i] - mean);
      var /= static_cast<double>(size);
      const auto c = static_cast<size_t>(p % channels);
      const double a = scale[c] / std::sqrt(var + eps);
      for (int64_t i = 0; i < size; ++i) po[p * size + i] = static_cast<T>((row[i] - mean) * a + bias[c]);
    });
    return out;
  })};
}

// LayerNormalization: normalise over axes [axis, rank) then y = x_hat * scale + B (scale and B broadcast
// over the normalised axes). Optional outputs Mean and InvStdDev have the input's leading dims and 1s.
std::vector<HostTensor> run_layer_norm(const KernelContext& ctx) {
  const HostTensor& x = ctx.input(0);
  const auto axis = static_cast<size_t>(normalize_axis(ctx, ctx.node().attr_int("axis", -1), x.rank()));
  const double eps = ctx.node().attr_float("epsilon", 1e-5f);
  const int64_t rows = product(x.dims(), 0, axis), size = product(x.dims(), axis, x.dims().size());
  const std::vector<int64_t> norm_dims(x.dims().begin() + static_cast<std::ptrdiff_t>(axis), x.dims().end());
  const HostTensor& scale_in = ctx.input(1);
  // Scale and B broadcast to the normalised shape (usually they have exactly that shape).
  const std::vector<int64_t>* shapes[] = {&norm_dims, &scale_in.dims()};
  if (broadcast_shape(ctx, shapes) != norm_dims) ctx.fail("scale " + describe(scale_in) + " does not fit " + dims_to_string(norm_dims));
  std::vector<int64_t> stat_dims(x.dims().begin(), x.dims().begin() + static_cast<std::ptrdiff_t>(axis));
  stat_dims.resize(x.dims().size(), 1);
  std::vector<HostTensor> outputs(ctx.output_count());
  dispatch_float(ctx, x.dtype(), [&](auto tag) {
    using T = decltype(tag);
    auto expand = [&](const HostTensor& t) {
      std::vector<int64_t> strides(norm_dims.size(), 0);
      const auto own = strides_of(t.dims());
      const size_t offset = norm_dims.size() - t.dims().size();
      for (size_t i = 0; i < t.dims().size(); ++i) strides[offset + i] = t.dims()[i] == 1 ? 0 : own[i];
      return strided_copy(ctx, t, norm_dims, 0, strides);
    };
    const HostTensor scale = expand(cast_tensor(ctx, scale_in, x.dtype()));
    const HostTensor bias = ctx.has_input(2) ? expand(cast_tensor(ctx, ctx.input(2), x.dtype())) : HostTensor{};
    HostTensor out = HostTensor::empty(x.dtype(), x.dims());
    HostTensor mean_out = HostTensor::empty(DType::f32, stat_dims), inv_out = HostTensor::empty(DType::f32, stat_dims);
    const T* px = x.data<T>();
    const T* ps = scale.data<T>();
    const T* pb = bias.defined() ? bias.data<T>() : nullptr;
    T* po = out.mutable_data<T>();
    float* pm = mean_out.mutable_data<float>();
    float* pi = inv_out.mutable_data<float>();
    parallel_for(rows, size * 4, [&](int64_t r) {
      const T* row = px + r * size;
      double mean = 0, var = 0;
      for (int64_t i = 0; i < size; ++i) mean += static_cast<double>(row[i]);
      mean /= static_cast<double>(size);
      for (int64_t i = 0; i < size; ++i) var += (row[i] - mean) * (row[i] - mean);
      var /= static_cast<double>(size);
      const double inv = 1.0 / std::sqrt(var + eps);
      for (int64_t i = 0; i < size; ++i)
        po[r * size + i] = static_cast<T>((row[i] - mean) * inv * ps[i] + (pb ? pb[i] : T(0)));
      pm[r] = static_cast<float>(mean);
      pi[r] = static_cast<float>(inv);
    });
    outputs[0] = out;
    if (ctx.output_wanted(1)) outputs[1] = mean_out;
    if (ctx.output_wanted(2)) outputs[2] = inv_out;
    return 0;
  });
  return outputs;
}

}  // namespace

void register_normalization(OpRegistry& registry) {
  registry.add("", "BatchNormalization", run_batch_norm, check_batch_norm);
  registry.add("", "InstanceNormalization", run_instance_norm);
  registry.add("", "LayerNormalization", run_layer_norm);
}

}  // namespace edgec::runtime::detail
