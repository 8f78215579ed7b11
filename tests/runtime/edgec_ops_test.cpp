// edgec-domain ops (docs/ir-ops.md) against reference loops written from the spec.
#include <doctest/doctest.h>

#include <cmath>

#include "edgec/core/error.hpp"
#include "test_helpers.hpp"

using namespace edgec;
using namespace edgec::runtime;
using namespace edgec::runtime::test;

namespace {

constexpr double kStep = 1.3;  // test data: sin(phase + 1.3 i)

// Straight from the spec, in double.
std::vector<float> reference_attention(const std::vector<float>& q, const std::vector<float>& k, const std::vector<float>& v,
                                       const std::vector<int64_t>& pos, int64_t B, int64_t S, int64_t H, int64_t KV,
                                       int64_t d, bool causal, double theta) {
  auto rope = [&](std::vector<double>& x, int64_t heads) {
    if (theta <= 0) return;
    for (int64_t b = 0; b < B; ++b)
      for (int64_t s = 0; s < S; ++s)
        for (int64_t h = 0; h < heads; ++h) {
          double* head = x.data() + ((b * S + s) * heads + h) * d;
          std::vector<double> out(static_cast<size_t>(d));
          for (int64_t i = 0; i < d / 2; ++i) {
            const double angle = static_cast<double>(pos[static_cast<size_t>(b * S + s)]) * std::pow(theta, -2.0 * static_cast<double>(i) / static_cast<double>(d));
            out[static_cast<size_t>(i)] = head[i] * std::cos(angle) - head[i + d / 2] * std::sin(angle);
            out[static_cast<size_t>(i + d / 2)] = head[i + d / 2] * std::cos(angle) + head[i] * std::sin(angle);
          }
          std::copy(out.begin(), out.end(), head);
        }
  };
  std::vector<double> qd(q.begin(), q.end()), kd(k.begin(), k.end());
  rope(qd, H);
  rope(kd, KV);
  std::vector<float> y(static_cast<size_t>(B * S * H * d));
  for (int64_t b = 0; b < B; ++b)
    for (int64_t h = 0; h < H; ++h) {
      const int64_t g = h / (H / KV);
      for (int64_t i = 0; i < S; ++i) {
        std::vector<double> p(static_cast<size_t>(S), 0.0);
        double peak = -1e300;
        for (int64_t j = 0; j < S; ++j) {
          if (causal && j > i) continue;
          double dot = 0;
          for (int64_t c = 0; c < d; ++c)
            dot += qd[static_cast<size_t>((b * S + i) * H * d + h * d + c)] * kd[static_cast<size_t>((b * S + j) * KV * d + g * d + c)];
          p[static_cast<size_t>(j)] = dot / std::sqrt(static_cast<double>(d));
          peak = std::max(peak, p[static_cast<size_t>(j)]);
        }
        double sum = 0;
        for (int64_t j = 0; j < S; ++j) {
          if (causal && j > i) { p[static_cast<size_t>(j)] = 0; continue; }
          p[static_cast<size_t>(j)] = std::exp(p[static_cast<size_t>(j)] - peak);
          sum += p[static_cast<size_t>(j)];
        }
        for (int64_t c = 0; c < d; ++c) {
          double acc = 0;
          for (int64_t j = 0; j < S; ++j) acc += p[static_cast<size_t>(j)] / sum * v[static_cast<size_t>((b * S + j) * KV * d + g * d + c)];
          y[static_cast<size_t>((b * S + i) * H * d + h * d + c)] = static_cast<float>(acc);
        }
      }
    }
  return y;
}

}  // namespace

TEST_CASE("edgec.Attention: GQA + RoPE (rotate_half) + causal, and plain full attention") {
  const int64_t B = 2, S = 5, H = 4, KV = 2, d = 6;
  const auto q = pattern(static_cast<size_t>(B * S * H * d), 0.1, kStep);
  const auto k = pattern(static_cast<size_t>(B * S * KV * d), 0.7, kStep);
  const auto v = pattern(static_cast<size_t>(B * S * KV * d), 1.9, kStep);
  const std::vector<int64_t> positions{0, 1, 2, 3, 4, 3, 4, 5, 6, 7};  // second row starts at 3
  std::map<std::string, Attribute> attrs{{"num_heads", H}, {"num_kv_heads", KV}, {"head_dim", d},
                                         {"causal", int64_t{1}}, {"rope_theta", 10000.0f}};
  const auto y = run1("Attention", {f32({B, S, H * d}, q), f32({B, S, KV * d}, k), f32({B, S, KV * d}, v), i64({B, S}, positions)},
                      attrs, 17, "edgec");
  check_close(y, {B, S, H * d}, reference_attention(q, k, v, positions, B, S, H, KV, d, true, 10000.0), 2e-6);

  // No RoPE, no mask, MHA; position_ids omitted.
  attrs = {{"num_heads", int64_t{2}}, {"num_kv_heads", int64_t{2}}, {"head_dim", int64_t{3}}, {"causal", int64_t{0}}};
  const auto q2 = pattern(static_cast<size_t>(S * 6), 0.3, kStep), k2 = pattern(static_cast<size_t>(S * 6), 0.4, kStep);
  const auto v2 = pattern(static_cast<size_t>(S * 6), 0.5, kStep);
  const std::vector<int64_t> plain{0, 1, 2, 3, 4};
  const auto y2 = run1("Attention", {f32({1, S, 6}, q2), f32({1, S, 6}, k2), f32({1, S, 6}, v2)}, attrs, 17, "edgec");
  check_close(y2, {1, S, 6}, reference_attention(q2, k2, v2, plain, 1, S, 2, 2, 3, false, 0), 2e-6);
}

TEST_CASE("edgec.Linear, RMSNorm, LayerNorm, Embedding and activations") {
  // y = x W^T + b, W [3,2] given as f16 to check widening
  const std::vector<uint16_t> w16{f32_to_f16(1), f32_to_f16(2), f32_to_f16(3), f32_to_f16(4), f32_to_f16(-1), f32_to_f16(0.5f)};
  const auto w = HostTensor::from_values<uint16_t>(DType::f16, {3, 2}, w16);
  check_close(run1("Linear", {f32({2, 1, 2}, {1, 1, 2, -1}), w, f32({3}, {0, 10, 100})}, {}, 17, "edgec"), {2, 1, 3},
              {3, 17, 99.5f, 0, 12, 97.5f});
  const float r = 1 / std::sqrt((9.0f + 16.0f) / 2 + 1e-5f);
  check_close(run1("RMSNorm", {f32({1, 2}, {3, 4}), f32({2}, {1, 2})}, {{"epsilon", 1e-5f}}, 17, "edgec"), {1, 2}, {3 * r, 8 * r});
  check_close(run1("LayerNorm", {f32({1, 2}, {1, 3}), f32({2}, {1, 2}), f32({2}, {0, 1})}, {{"epsilon", 0.0f}}, 17, "edgec"),
              {1, 2}, {-1, 3});
  check_close(run1("Embedding", {i64({2}, {2, 0}), f32({3, 2}, {0, 1, 2, 3, 4, 5})}, {}, 17, "edgec"), {2, 2}, {4, 5, 0, 1});
  CHECK_THROWS_WITH_AS(run1("Embedding", {i64({1}, {3}), f32({3, 2}, {0, 1, 2, 3, 4, 5})}, {}, 17, "edgec"),
                       doctest::Contains("outside the vocabulary"), Error);
  const float x = 0.75f;
  check_close(run1("SiLU", {f32({1}, {x})}, {}, 17, "edgec"), {1}, {x / (1 + std::exp(-x))});
  check_close(run1("QuickGelu", {f32({1}, {x})}, {}, 17, "edgec"), {1}, {x / (1 + std::exp(-1.702f * x))});
  check_close(run1("Gelu", {f32({1}, {x})}, {{"approximate", std::string("tanh")}}, 17, "edgec"), {1},
              {0.5f * x * (1 + std::tanh(std::sqrt(2 / static_cast<float>(M_PI)) * (x + 0.044715f * x * x * x)))});
}

TEST_CASE("edgec token plumbing: ImageToTokens, PrependToken, TokenSlice, SelectToken, MergeImageTokens") {
  // x [1, 2, 2, 2]: c0 = 0..3, c1 = 10..13 -> tokens [1, 4, 2]
  check_close(run1("ImageToTokens", {f32({1, 2, 2, 2}, {0, 1, 2, 3, 10, 11, 12, 13})}, {}, 17, "edgec"), {1, 4, 2},
              {0, 10, 1, 11, 2, 12, 3, 13});
  const auto tokens = f32({1, 2, 2}, {1, 2, 3, 4});
  check_close(run1("PrependToken", {tokens, f32({1, 1, 2}, {9, 8})}, {}, 17, "edgec"), {1, 3, 2}, {9, 8, 1, 2, 3, 4});
  check_close(run1("TokenSlice", {tokens}, {{"start", int64_t{1}}, {"end", int64_t{2}}}, 17, "edgec"), {1, 1, 2}, {3, 4});
  check_close(run1("SelectToken", {tokens}, {{"index", int64_t{0}}}, 17, "edgec"), {1, 2}, {1, 2});
  // Two sequences, image token 3 at positions (0,1) and (1,0); two images of one token each.
  const auto merged = run1("MergeImageTokens",
                           {f32({2, 2, 1}, {0, 0, 0, 0}), i64({2, 2}, {1, 3, 3, 5}), f32({2, 1, 1}, {7, 8})},
                           {{"image_token_index", int64_t{3}}}, 17, "edgec");
  check_close(merged, {2, 2, 1}, {0, 7, 8, 0});
  CHECK_THROWS_WITH_AS(run1("MergeImageTokens", {f32({1, 2, 1}, {0, 0}), i64({1, 2}, {3, 1}), f32({2, 1, 1}, {7, 8})},
                            {{"image_token_index", int64_t{3}}}, 17, "edgec"),
                       doctest::Contains("image-token positions"), Error);
}
