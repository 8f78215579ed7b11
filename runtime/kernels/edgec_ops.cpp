// The high-level "edgec"-domain ops the Hugging Face importers emit (docs/ir-ops.md): Linear, Embedding,
// RMSNorm, LayerNorm, activations and the token plumbing of vision towers and LLaVA. Activations are f32;
// weights may be f32, f16, bf16 or f64. Linear and Embedding read f32, bf16 and f16 weights where they are (a mapped
// checkpoint stays mapped: 16-bit weights are widened a block at a time inside the product, an embedding table one
// row per token); other ops widen small weights (norms, biases) per call.
#include <algorithm>
#include <cmath>
#include <cstring>

#include "edgec/core/error.hpp"
#include "kernels/cpu_isa.hpp"
#include "kernels/gemm.hpp"
#include "kernels/kernel_util.hpp"
#include "kernels/registration.hpp"
#include "kernels/sgemm.hpp"
#include "kernels/vector_math.hpp"

namespace edgec::runtime::detail {
namespace {

const HostTensor& f32_activation(const KernelContext& ctx, size_t index) {
  const HostTensor& x = ctx.input(index);
  if (x.dtype() != DType::f32) ctx.fail("input " + std::to_string(index) + " must be f32, got " + describe(x));
  return x;
}

HostTensor f32_weight(const KernelContext& ctx, size_t index) {
  const HostTensor& w = ctx.input(index);
  if (!dtype_is_float(w.dtype())) ctx.fail("weight input " + std::to_string(index) + " must be floating point, got " + describe(w));
  return cast_tensor(ctx, w, DType::f32);
}

bool is_16bit_float(DType dtype) { return dtype == DType::bf16 || dtype == DType::f16; }

// y = x W^T + b with W [out, in]: f32, bf16 and f16 weights are read in place (sgemm.hpp: GEMV kernels for a few
// rows, the product as y^T = W x^T otherwise); f64 weights are widened.
std::vector<HostTensor> run_linear(const KernelContext& ctx) {
  const HostTensor& x = f32_activation(ctx, 0);
  const HostTensor& stored = ctx.input(1);
  if (!dtype_is_float(stored.dtype())) ctx.fail("weight input 1 must be floating point, got " + describe(stored));
  if (stored.rank() != 2 || x.rank() < 1 || x.dims().back() != stored.dims()[1])
    ctx.fail("cannot apply weight " + describe(stored) + " to " + describe(x));
  const int64_t out_features = stored.dims()[0], in_features = stored.dims()[1];
  const int64_t rows = in_features ? x.elements() / in_features : 0;
  HostTensor bias;
  if (ctx.has_input(2)) {
    bias = f32_weight(ctx, 2);
    if (bias.elements() != out_features) ctx.fail("bias " + describe(bias) + " does not have " + std::to_string(out_features) + " elements");
  }
  if (ctx.observed()) ctx.notify_linear_input(x);
  std::vector<int64_t> dims = x.dims();
  dims.back() = out_features;
  HostTensor y = HostTensor::empty(DType::f32, dims);
  float* py = y.mutable_data<float>();
  const float* pb = bias.defined() ? bias.data<float>() : nullptr;
  const Isa isa = isa_limit();
  const bool half = is_16bit_float(stored.dtype());
  const auto* half_bits = half ? reinterpret_cast<const uint16_t*>(stored.raw()) : nullptr;
  if (in_features == 0) {
    for (int64_t r = 0; r < rows; ++r)
      for (int64_t o = 0; o < out_features; ++o) py[r * out_features + o] = pb ? pb[o] : 0.0f;
  } else if ((stored.dtype() == DType::f32 || half) && rows <= sgemm::kGemvRows && sgemm::gemv_supported(isa)) {
    sgemm::gemv(rows, out_features, in_features, x.data<float>(), half ? nullptr : stored.data<float>(), half_bits,
                stored.dtype() == DType::bf16, pb, py, isa);
  } else if (half) {
    sgemm::linear(rows, out_features, in_features, x.data<float>(), sgemm::HalfRows(half_bits, in_features, stored.dtype() == DType::bf16, isa),
                  pb, py, isa);
  } else {
    const HostTensor weight = f32_weight(ctx, 1);
    sgemm::linear(rows, out_features, in_features, x.data<float>(), sgemm::F32Rows(weight.data<float>(), in_features), pb, py, isa);
  }
  if (ctx.observed()) ctx.notify_linear_output(y);
  return {y};
}

// Row `id` of an embedding table as f32: one row is read (and widened), not the table.
void copy_row(const HostTensor& table, int64_t id, int64_t width, float* out) {
  const size_t offset = static_cast<size_t>(id * width);
  switch (table.dtype()) {
    case DType::f32: std::memcpy(out, table.raw() + offset * 4, static_cast<size_t>(width) * 4); return;
    case DType::bf16: case DType::f16: {
      const auto* bits = reinterpret_cast<const uint16_t*>(table.raw()) + offset;
      for (int64_t i = 0; i < width; ++i) out[i] = table.dtype() == DType::bf16 ? bf16_to_f32(bits[i]) : f16_to_f32(bits[i]);
      return;
    }
    default: {
      const auto* values = reinterpret_cast<const double*>(table.raw()) + offset;  // f64 (checked by the caller)
      for (int64_t i = 0; i < width; ++i) out[i] = static_cast<float>(values[i]);
    }
  }
}

std::vector<HostTensor> run_embedding(const KernelContext& ctx) {
  const auto ids = input_i64(ctx, 0);
  const HostTensor& table = ctx.input(1);
  if (table.dtype() != DType::f32 && table.dtype() != DType::f64 && !is_16bit_float(table.dtype()))
    ctx.fail("table must be f32, f16, bf16 or f64, got " + describe(table));
  if (table.rank() != 2) ctx.fail("table must be [V, D], got " + describe(table));
  const int64_t vocab = table.dims()[0], width = table.dims()[1];
  std::vector<int64_t> dims = ctx.input(0).dims();
  dims.push_back(width);
  HostTensor y = HostTensor::empty(DType::f32, dims);
  for (size_t i = 0; i < ids.size(); ++i) {
    if (ids[i] < 0 || ids[i] >= vocab)
      ctx.fail("token id " + std::to_string(ids[i]) + " is outside the vocabulary [0, " + std::to_string(vocab) + ")");
    copy_row(table, ids[i], width, y.mutable_data<float>() + static_cast<int64_t>(i) * width);
  }
  return {y};
}

// RMSNorm and LayerNorm over the last axis; statistics in double (exact enough to be a reference).
template <bool rms>
std::vector<HostTensor> run_norm(const KernelContext& ctx) {
  const HostTensor& x = f32_activation(ctx, 0);
  if (x.rank() < 1) ctx.fail("needs at least one axis");
  const int64_t width = x.dims().back(), rows = width ? x.elements() / width : 0;
  const HostTensor weight = f32_weight(ctx, 1);
  if (weight.elements() != width) ctx.fail("weight " + describe(weight) + " does not have " + std::to_string(width) + " elements");
  HostTensor bias;
  if constexpr (!rms) {
    bias = f32_weight(ctx, 2);
    if (bias.elements() != width) ctx.fail("bias " + describe(bias) + " does not have " + std::to_string(width) + " elements");
  }
  const double eps = ctx.node().attr_float("epsilon", 1e-5f);
  HostTensor y = HostTensor::empty(DType::f32, x.dims());
  const float* px = x.data<float>();
  const float* pw = weight.data<float>();
  const float* pb = rms ? nullptr : bias.data<float>();
  float* py = y.mutable_data<float>();
  parallel_for(rows, width * 4, [&](int64_t r) {
    const float* row = px + r * width;
    float* out = py + r * width;
    if constexpr (rms) {
      double squares = 0;
      for (int64_t i = 0; i < width; ++i) squares += static_cast<double>(row[i]) * row[i];
      const double inv = 1.0 / std::sqrt(squares / static_cast<double>(width) + eps);
      for (int64_t i = 0; i < width; ++i) out[i] = static_cast<float>(row[i] * inv) * pw[i];
    } else {
      double mean = 0, var = 0;
      for (int64_t i = 0; i < width; ++i) mean += row[i];
      mean /= static_cast<double>(width);
      for (int64_t i = 0; i < width; ++i) var += (row[i] - mean) * (row[i] - mean);
      var /= static_cast<double>(width);
      const double inv = 1.0 / std::sqrt(var + eps);
      for (int64_t i = 0; i < width; ++i) out[i] = static_cast<float>((row[i] - mean) * inv * pw[i] + pb[i]);
    }
  });
  return {y};
}

// Gelu (erf or tanh form), QuickGelu and SiLU through libmvec's vector exp / erf / tanh (vector_math.hpp).
template <vmath::Activation kind>
std::vector<HostTensor> run_activation(const KernelContext& ctx) {
  const HostTensor& x = f32_activation(ctx, 0);
  vmath::Activation form = kind;
  if (kind == vmath::Activation::gelu_erf && ctx.node().attr_string("approximate", "none") == "tanh") form = vmath::Activation::gelu_tanh;
  HostTensor y = HostTensor::empty(DType::f32, x.dims());
  const float* px = x.data<float>();
  float* py = y.mutable_data<float>();
  const int64_t n = x.elements();
  constexpr int64_t block = 4096;
  const Isa isa = isa_limit();
  parallel_for((n + block - 1) / block, block * 16, [&](int64_t b) {
    vmath::activation(form, px + b * block, py + b * block, std::min(block, n - b * block), isa);
  });
  return {y};
}

void check_gelu(const Node& node, int64_t) {
  const std::string mode = node.attr_string("approximate", "none");
  if (mode != "none" && mode != "tanh") throw Error(ErrorCategory::input, "approximate='" + mode + "'");
}

// [N, C, h, w] -> [N, h*w, C]
std::vector<HostTensor> run_image_to_tokens(const KernelContext& ctx) {
  const HostTensor& x = ctx.input(0);
  if (x.rank() != 4) ctx.fail("needs [N,C,h,w], got " + describe(x));
  const auto& d = x.dims();
  const std::vector<int64_t> strides{d[1] * d[2] * d[3], 1, d[2] * d[3]};
  return {strided_copy(ctx, x.reshaped({d[0], d[1], d[2] * d[3]}), {d[0], d[2] * d[3], d[1]}, 0, strides)};
}

std::vector<HostTensor> run_prepend_token(const KernelContext& ctx) {
  const HostTensor& x = f32_activation(ctx, 0);
  const HostTensor token = f32_weight(ctx, 1);
  if (x.rank() != 3 || token.elements() != x.dims()[2]) ctx.fail("cannot prepend " + describe(token) + " to " + describe(x));
  const int64_t n = x.dims()[0], t = x.dims()[1], width = x.dims()[2];
  HostTensor y = HostTensor::empty(DType::f32, {n, t + 1, width});
  for (int64_t i = 0; i < n; ++i) {
    float* dst = y.mutable_data<float>() + i * (t + 1) * width;
    std::memcpy(dst, token.data<float>(), static_cast<size_t>(width) * sizeof(float));
    std::memcpy(dst + width, x.data<float>() + i * t * width, static_cast<size_t>(t * width) * sizeof(float));
  }
  return {y};
}

std::vector<HostTensor> run_token_slice(const KernelContext& ctx) {
  const HostTensor& x = ctx.input(0);
  if (x.rank() != 3) ctx.fail("needs [N,T,D], got " + describe(x));
  int64_t start = ctx.node().attr_int("start", 0);
  const int64_t end = ctx.node().attr_int("end", x.dims()[1]);
  if (start < 0) start += x.dims()[1];  // from the end
  if (start < 0 || start > end || end > x.dims()[1]) ctx.fail("start/end outside the " + std::to_string(x.dims()[1]) + " tokens");
  const auto strides = strides_of(x.dims());
  return {strided_copy(ctx, x, {x.dims()[0], end - start, x.dims()[2]}, start * strides[1], strides)};
}

std::vector<HostTensor> run_select_token(const KernelContext& ctx) {
  const HostTensor& x = ctx.input(0);
  if (x.rank() != 3) ctx.fail("needs [N,T,D], got " + describe(x));
  const int64_t index = ctx.node().attr_int("index", 0);
  if (index < 0 || index >= x.dims()[1]) ctx.fail("index outside the " + std::to_string(x.dims()[1]) + " tokens");
  const auto strides = strides_of(x.dims());
  const std::vector<int64_t> out_strides{strides[0], strides[2]};
  return {strided_copy(ctx, x, {x.dims()[0], x.dims()[2]}, index * strides[1], out_strides)};
}

// transformers' masked_scatter: the k-th image-token position takes row k of the image features.
std::vector<HostTensor> run_merge_image_tokens(const KernelContext& ctx) {
  const HostTensor& embeds = f32_activation(ctx, 0);
  const auto ids = input_i64(ctx, 1);
  const HostTensor& features = f32_activation(ctx, 2);
  const int64_t image_token = ctx.node().attr_int("image_token_index", -1);
  if (embeds.rank() != 3 || features.rank() != 3 || features.dims()[2] != embeds.dims()[2] ||
      static_cast<int64_t>(ids.size()) != embeds.dims()[0] * embeds.dims()[1])
    ctx.fail("shapes do not fit: embeds " + describe(embeds) + ", ids " + describe(ctx.input(1)) + ", features " + describe(features));
  const int64_t width = embeds.dims()[2];
  const int64_t available = features.dims()[0] * features.dims()[1];
  const auto positions = std::count(ids.begin(), ids.end(), image_token);
  if (positions != available)
    ctx.fail(std::to_string(positions) + " image-token positions but " + std::to_string(available) + " image feature rows");
  HostTensor y = HostTensor::empty(DType::f32, embeds.dims());
  float* py = y.mutable_data<float>();
  std::memcpy(py, embeds.raw(), embeds.size_bytes());
  int64_t next = 0;
  for (size_t i = 0; i < ids.size(); ++i)
    if (ids[i] == image_token)
      std::memcpy(py + static_cast<int64_t>(i) * width, features.data<float>() + (next++) * width,
                  static_cast<size_t>(width) * sizeof(float));
  return {y};
}

}  // namespace

void register_edgec_ops(OpRegistry& registry) {
  registry.add("edgec", "Linear", run_linear);
  registry.add("edgec", "Embedding", run_embedding);
  registry.add("edgec", "RMSNorm", run_norm<true>);
  registry.add("edgec", "LayerNorm", run_norm<false>);
  registry.add("edgec", "Gelu", run_activation<vmath::Activation::gelu_erf>, check_gelu);
  registry.add("edgec", "QuickGelu", run_activation<vmath::Activation::quick_gelu>);
  registry.add("edgec", "SiLU", run_activation<vmath::Activation::silu>);
  registry.add("edgec", "ImageToTokens", run_image_to_tokens);
  registry.add("edgec", "PrependToken", run_prepend_token);
  registry.add("edgec", "TokenSlice", run_token_slice);
  registry.add("edgec", "SelectToken", run_select_token);
  registry.add("edgec", "MergeImageTokens", run_merge_image_tokens);
}

}  // namespace edgec::runtime::detail
