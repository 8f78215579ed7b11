// edgec.Attention (docs/ir-ops.md): multi-head scaled dot-product attention with grouped-query heads,
// RoPE in the rotate_half convention and an optional causal mask. Each (batch, head) pair is one
// independent task: two GEMMs and a row softmax, in parallel over tasks. With a KvCache in the run, causal
// nodes append their rotated keys and values to the cache and attend over past + new tokens.
#include <algorithm>
#include <cmath>
#include <cstring>
#include <limits>

#include "edgec/core/error.hpp"
#include "edgec/runtime/kv_cache.hpp"
#include "kernels/gemm.hpp"
#include "kernels/kernel_util.hpp"
#include "kernels/registration.hpp"

namespace edgec::runtime::detail {
namespace {

// Rotates every head of x [B, S, heads*d] in place: element i pairs with element i + d/2.
void apply_rope(float* x, int64_t batch, int64_t seq, int64_t heads, int64_t d, const std::vector<int64_t>& positions,
                double theta, double scaling) {
  const int64_t half = d / 2;
  std::vector<double> inv_freq(static_cast<size_t>(half));
  for (int64_t i = 0; i < half; ++i)
    inv_freq[static_cast<size_t>(i)] = std::pow(theta, -static_cast<double>(2 * i) / static_cast<double>(d));
  parallel_for(batch * seq, heads * d * 4, [&](int64_t bs) {
    const double position = static_cast<double>(positions[static_cast<size_t>(bs)]) / scaling;
    for (int64_t i = 0; i < half; ++i) {
      const double angle = position * inv_freq[static_cast<size_t>(i)];
      const auto c = static_cast<float>(std::cos(angle)), s = static_cast<float>(std::sin(angle));
      for (int64_t h = 0; h < heads; ++h) {
        float* head = x + (bs * heads + h) * d;
        const float a = head[i], b = head[i + half];
        head[i] = a * c - b * s;
        head[i + half] = b * c + a * s;
      }
    }
  });
}

// Keys and values one batch row at a time: `keys + b * row_stride` is row b's first token, tokens `kv_row`
// floats apart. Fresh (uncached) k/v have row_stride = S * kv_row; a cache entry has capacity * kv_row.
struct KeyValues {
  const float* keys;
  const float* values;
  int64_t row_stride;
  int64_t total;  // tokens per row visible to the last query
  int64_t past;   // tokens before the first query (query i sits at absolute index past + i)
};

// y[b, i, h*d:] for every query: scores against every visible key, f32 softmax, weighted sum of values.
void attend(const float* pq, const KeyValues& kv, float* py, int64_t batch, int64_t seq, int64_t heads,
            int64_t kv_heads, int64_t d, bool causal, float scale) {
  const int64_t group = heads / kv_heads;
  const int64_t q_row = heads * d, kv_row = kv_heads * d, total = kv.total;
  parallel_for(batch * heads, seq * total * d * 2, [&](int64_t task) {
    const int64_t b = task / heads, h = task % heads, g = h / group;
    std::vector<float> scores(static_cast<size_t>(seq * total));
    const float* qh = pq + b * seq * q_row + h * d;
    const float* kh = kv.keys + b * kv.row_stride + g * d;
    const float* vh = kv.values + b * kv.row_stride + g * d;
    gemm<float>(seq, total, d, qh, q_row, kh, kv_row, true, scores.data(), total);
    for (int64_t i = 0; i < seq; ++i) {
      float* row = scores.data() + i * total;
      const int64_t visible = causal ? std::min(total, kv.past + i + 1) : total;
      float peak = -std::numeric_limits<float>::infinity();
      for (int64_t j = 0; j < visible; ++j) {
        row[j] *= scale;
        peak = std::max(peak, row[j]);
      }
      float sum = 0;
      for (int64_t j = 0; j < visible; ++j) {
        row[j] = std::exp(row[j] - peak);
        sum += row[j];
      }
      const float inv = 1.0f / sum;
      for (int64_t j = 0; j < visible; ++j) row[j] *= inv;
      for (int64_t j = visible; j < total; ++j) row[j] = 0.0f;  // exp(-inf) of the masked keys
    }
    gemm<float>(seq, d, total, scores.data(), total, vh, kv_row, false, py + b * seq * q_row + h * d, q_row);
  });
}

std::vector<HostTensor> run_attention(const KernelContext& ctx) {
  const HostTensor& q = ctx.input(0);
  const HostTensor& k = ctx.input(1);
  const HostTensor& v = ctx.input(2);
  for (const HostTensor* t : {&q, &k, &v})
    if (t->dtype() != DType::f32 || t->rank() != 3) ctx.fail("q, k and v must be f32 [B,S,features], got " + describe(*t));
  const Node& node = ctx.node();
  const int64_t heads = node.attr_int("num_heads", 0), kv_heads = node.attr_int("num_kv_heads", heads);
  const int64_t d = node.attr_int("head_dim", 0);
  const bool causal = node.attr_int("causal", 0) != 0;
  const double theta = node.attr_float("rope_theta", 0.0f);
  const double scaling = node.attr_float("rope_scaling_factor", 1.0f);
  const float scale = node.has_attribute("scale") ? node.attr_float("scale", 1.0f)
                                                  : static_cast<float>(1.0 / std::sqrt(static_cast<double>(d)));
  const int64_t batch = q.dims()[0], seq = q.dims()[1];
  if (heads <= 0 || kv_heads <= 0 || d <= 0 || heads % kv_heads != 0) ctx.fail("num_heads, num_kv_heads and head_dim must be positive, H % KV == 0");
  if (q.dims()[2] != heads * d || k.dims() != std::vector<int64_t>{batch, seq, kv_heads * d} || v.dims() != k.dims())
    ctx.fail("q " + describe(q) + ", k " + describe(k) + ", v " + describe(v) + " do not match the head attributes");
  if (theta > 0 && d % 2 != 0) ctx.fail("RoPE needs an even head_dim");

  // Only causal (language-model) attention is cached: a vision tower in the same graph reruns in full.
  const int64_t kv_row = kv_heads * d;
  KvCache::Entry* cached = causal && ctx.kv_cache() ? &ctx.kv_cache()->entry(node.name, batch, kv_row) : nullptr;
  const int64_t past = cached ? cached->length : 0;

  HostTensor q_rot = q, k_rot = k;
  if (theta > 0) {
    std::vector<int64_t> positions;
    if (ctx.has_input(3)) {
      positions = input_i64(ctx, 3);
      if (ctx.input(3).dims() != std::vector<int64_t>{batch, seq}) ctx.fail("position_ids must be [B,S], got " + describe(ctx.input(3)));
    } else {
      for (int64_t b = 0; b < batch; ++b)
        for (int64_t s = 0; s < seq; ++s) positions.push_back(past + s);
    }
    q_rot = HostTensor::empty(DType::f32, q.dims());
    k_rot = HostTensor::empty(DType::f32, k.dims());
    std::memcpy(q_rot.mutable_raw(), q.raw(), q.size_bytes());
    std::memcpy(k_rot.mutable_raw(), k.raw(), k.size_bytes());
    apply_rope(q_rot.mutable_data<float>(), batch, seq, heads, d, positions, theta, scaling);
    apply_rope(k_rot.mutable_data<float>(), batch, seq, kv_heads, d, positions, theta, scaling);
  }
  HostTensor y = HostTensor::empty(DType::f32, q.dims());
  KeyValues kv{k_rot.data<float>(), v.data<float>(), seq * kv_row, seq, 0};
  if (cached) {
    // Append this run's rotated keys and values after the cached tokens, then attend over all of them.
    cached->reserve(seq);
    for (int64_t b = 0; b < batch; ++b) {
      const auto bytes = static_cast<size_t>(seq * kv_row) * sizeof(float);
      std::memcpy(cached->key_row(b, past), k_rot.data<float>() + b * seq * kv_row, bytes);
      std::memcpy(cached->value_row(b, past), v.data<float>() + b * seq * kv_row, bytes);
    }
    cached->length = past + seq;
    kv = KeyValues{cached->keys.data(), cached->values.data(), cached->capacity * kv_row, past + seq, past};
  }
  attend(q_rot.data<float>(), kv, y.mutable_data<float>(), batch, seq, heads, kv_heads, d, causal, scale);
  return {y};
}

}  // namespace

void register_attention(OpRegistry& registry) { registry.add("edgec", "Attention", run_attention); }

}  // namespace edgec::runtime::detail
