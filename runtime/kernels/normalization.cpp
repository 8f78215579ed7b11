// Normalisations: BatchNormalization (inference with running statistics, or training mode with batch
// statistics), InstanceNormalization and LayerNormalization (opset 17). Statistics are accumulated in
// double, one row (or channel) per thread.
#include <algorithm>
#include <cmath>

#include "edgec/core/error.hpp"
#include "kernels/kernel_util.hpp"
#include "kernels/registration.hpp"

namespace edgec::runtime::detail {
namespace {

struct Moments {
  double mean = 0, variance = 0;  // the population (biased) variance
};

// sum over i < n of f(p[i]) in double, in four interleaved partial sums (a fixed order, so the same bits at any
// thread count; four independent additions in flight instead of one).
template <class T, class F>
double sum4(const T* p, int64_t n, F f) {
  double s[4] = {0, 0, 0, 0};
  int64_t i = 0;
  for (; i + 4 <= n; i += 4)
    for (int l = 0; l < 4; ++l) s[l] += f(static_cast<double>(p[i + l]));
  for (; i < n; ++i) s[0] += f(static_cast<double>(p[i]));
  return (s[0] + s[1]) + (s[2] + s[3]);
}

// Mean and variance of `rows` runs of `size` elements, `stride` apart, in double: the sum first, then the
// squared deviations from the mean.
template <class T>
Moments moments(const T* first, int64_t rows, int64_t stride, int64_t size) {
  Moments m;
  for (int64_t r = 0; r < rows; ++r) m.mean += sum4(first + r * stride, size, [](double v) { return v; });
  const auto count = static_cast<double>(rows * size);
  m.mean /= count;
  const double mean = m.mean;
  for (int64_t r = 0; r < rows; ++r)
    m.variance += sum4(first + r * stride, size, [mean](double v) { return (v - mean) * (v - mean); });
  m.variance /= count;
  return m;
}

// Training mode before opset 14 is asked for by the outputs (mean, var); from opset 14 by training_mode.
bool batch_norm_training(const Node& node, int64_t opset) {
  if (opset >= 14) return node.attr_int("training_mode", 0) != 0;
  for (size_t i = 1; i < std::min<size_t>(3, node.outputs.size()); ++i)
    if (!node.outputs[i].empty()) return true;
  return false;
}

// BatchNormalization: y = (x - mean) / sqrt(var + eps) * scale + B per channel. Inference uses the given
// running statistics. Training mode (opset 15's spec) uses the batch's: the mean and the population variance
// over N and the spatial axes, and returns the updated running statistics
// running = input * momentum + batch * (1 - momentum), in the dtype of the input mean / var.
std::vector<HostTensor> run_batch_norm(const KernelContext& ctx) {
  const HostTensor& x = ctx.input(0);
  if (x.rank() < 2) ctx.fail("needs an [N,C,...] input, got " + describe(x));
  const int64_t channels = x.dims()[1];
  for (size_t i = 1; i <= 4; ++i)
    if (ctx.input(i).elements() != channels) ctx.fail("scale, B, mean and var must have C elements");
  const double eps = ctx.node().attr_float("epsilon", 1e-5f);
  const bool training = batch_norm_training(ctx.node(), ctx.opset());
  const int64_t batch = x.dims()[0], plane = product(x.dims(), 2, x.dims().size());
  const auto scale = ctx.input(1).to_f64(), bias = ctx.input(2).to_f64();
  auto mean = ctx.input(3).to_f64(), var = ctx.input(4).to_f64();
  std::vector<HostTensor> outputs(ctx.output_count());
  outputs[0] = dispatch_float(ctx, x.dtype(), [&](auto tag) {
    using T = decltype(tag);
    const T* px = x.data<T>();
    if (training) {
      const double momentum = ctx.node().attr_float("momentum", 0.9f);
      std::vector<double> running_mean(mean.size()), running_var(var.size());
      parallel_for(channels, batch * plane * 2, [&](int64_t c) {
        const auto i = static_cast<size_t>(c);
        const Moments m = moments(px + c * plane, batch, channels * plane, plane);
        running_mean[i] = mean[i] * momentum + m.mean * (1 - momentum);
        running_var[i] = var[i] * momentum + m.variance * (1 - momentum);
        mean[i] = m.mean;
        var[i] = m.variance;
      });
      for (size_t k = 1; k <= 2 && k < outputs.size(); ++k)
        if (ctx.output_wanted(k))
          outputs[k] = cast_tensor(ctx, HostTensor::from_values<double>(DType::f64, {channels}, k == 1 ? running_mean : running_var),
                                   ctx.input(k + 2).dtype());
    }
    // Folded into y = x * a + b per channel.
    std::vector<T> a(static_cast<size_t>(channels)), b(static_cast<size_t>(channels));
    for (size_t c = 0; c < a.size(); ++c) {
      const double inv = 1.0 / std::sqrt(var[c] + eps);
      a[c] = static_cast<T>(scale[c] * inv);
      b[c] = static_cast<T>(bias[c] - mean[c] * scale[c] * inv);
    }
    HostTensor out = HostTensor::empty(x.dtype(), x.dims());
    T* po = out.mutable_data<T>();
    parallel_for(batch * channels, plane, [&](int64_t p) {
      const auto c = static_cast<size_t>(p % channels);
      for (int64_t i = 0; i < plane; ++i) po[p * plane + i] = px[p * plane + i] * a[c] + b[c];
    });
    return out;
  });
  return outputs;
}

void check_batch_norm(const Node& node, int64_t opset) {
  for (size_t i = 3; i < node.outputs.size(); ++i)
    if (!node.outputs[i].empty()) throw Error(ErrorCategory::input, "the saved_mean / saved_var outputs are not supported");
  if (batch_norm_training(node, opset)) return;
  for (size_t i = 1; i < node.outputs.size(); ++i)
    if (!node.outputs[i].empty()) throw Error(ErrorCategory::input, "running mean/var outputs without training_mode=1");
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
      const Moments m = moments(row, 1, size, size);
      const auto c = static_cast<size_t>(p % channels);
      const double a = scale[c] / std::sqrt(m.variance + eps);
      for (int64_t i = 0; i < size; ++i) po[p * size + i] = static_cast<T>((row[i] - m.mean) * a + bias[c]);
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
      const Moments m = moments(row, 1, size, size);
      const double inv = 1.0 / std::sqrt(m.variance + eps);
      for (int64_t i = 0; i < size; ++i)
        po[r * size + i] = static_cast<T>((row[i] - m.mean) * inv * ps[i] + (pb ? pb[i] : T(0)));
      pm[r] = static_cast<float>(m.mean);
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
