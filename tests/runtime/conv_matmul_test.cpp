// Conv, ConvTranspose, pools, MatMul and Gemm against straightforward reference loops written here.
#include <doctest/doctest.h>

#include <cmath>

#include "test_helpers.hpp"

using namespace edgec;
using namespace edgec::runtime;
using namespace edgec::runtime::test;

namespace {

struct ConvCase {
  int64_t n, c, h, w, m, kh, kw, group, sh, sw, dh, dw, pt, pl, pb, pr;
};

std::vector<float> naive_conv(const ConvCase& p, const std::vector<float>& x, const std::vector<float>& wt,
                              const std::vector<float>& bias, int64_t oh, int64_t ow) {
  std::vector<float> y(static_cast<size_t>(p.n * p.m * oh * ow));
  const int64_t cg = p.c / p.group, mg = p.m / p.group;
  for (int64_t n = 0; n < p.n; ++n)
    for (int64_t m = 0; m < p.m; ++m)
      for (int64_t oy = 0; oy < oh; ++oy)
        for (int64_t ox = 0; ox < ow; ++ox) {
          double acc = bias[static_cast<size_t>(m)];
          const int64_t g = m / mg;
          for (int64_t c = 0; c < cg; ++c)
            for (int64_t i = 0; i < p.kh; ++i)
              for (int64_t j = 0; j < p.kw; ++j) {
                const int64_t iy = oy * p.sh - p.pt + i * p.dh, ix = ox * p.sw - p.pl + j * p.dw;
                if (iy < 0 || iy >= p.h || ix < 0 || ix >= p.w) continue;
                acc += static_cast<double>(x[static_cast<size_t>(((n * p.c + g * cg + c) * p.h + iy) * p.w + ix)]) *
                       wt[static_cast<size_t>(((m * cg + c) * p.kh + i) * p.kw + j)];
              }
          y[static_cast<size_t>(((n * p.m + m) * oh + oy) * ow + ox)] = static_cast<float>(acc);
        }
  return y;
}

}  // namespace

TEST_CASE("Conv matches a direct loop: groups, depthwise, strides, dilations, pads, 1x1") {
  const std::vector<ConvCase> cases{
      {2, 3, 7, 6, 4, 3, 3, 1, 1, 1, 1, 1, 1, 1, 1, 1},  // plain 3x3 same
      {1, 4, 9, 8, 6, 3, 2, 2, 2, 1, 1, 2, 0, 1, 2, 0},  // grouped, strided, dilated, asymmetric pads
      {1, 5, 8, 8, 5, 3, 3, 5, 2, 2, 1, 1, 1, 1, 1, 1},  // depthwise
      {2, 6, 4, 5, 3, 1, 1, 1, 1, 1, 1, 1, 0, 0, 0, 0},  // pointwise
      {1, 1, 28, 28, 8, 4, 4, 1, 4, 4, 1, 1, 0, 0, 0, 0}, // patch embedding
  };
  for (const auto& p : cases) {
    const int64_t oh = (p.h + p.pt + p.pb - ((p.kh - 1) * p.dh + 1)) / p.sh + 1;
    const int64_t ow = (p.w + p.pl + p.pr - ((p.kw - 1) * p.dw + 1)) / p.sw + 1;
    const auto x = pattern(static_cast<size_t>(p.n * p.c * p.h * p.w), 0.1);
    const auto wt = pattern(static_cast<size_t>(p.m * (p.c / p.group) * p.kh * p.kw), 0.5);
    const auto bias = pattern(static_cast<size_t>(p.m), 0.9);
    const auto y = run1("Conv", {f32({p.n, p.c, p.h, p.w}, x), f32({p.m, p.c / p.group, p.kh, p.kw}, wt), f32({p.m}, bias)},
                        {{"group", p.group},
                         {"strides", std::vector<int64_t>{p.sh, p.sw}},
                         {"dilations", std::vector<int64_t>{p.dh, p.dw}},
                         {"pads", std::vector<int64_t>{p.pt, p.pl, p.pb, p.pr}}});
    check_close(y, {p.n, p.m, oh, ow}, naive_conv(p, x, wt, bias, oh, ow), 1e-5);
  }
}

TEST_CASE("Conv auto_pad SAME_UPPER / SAME_LOWER and 1-D") {
  const auto x = f32({1, 1, 1, 4}, {1, 2, 3, 4});
  const auto w = f32({1, 1, 1, 2}, {1, 10});
  // SAME_UPPER, kernel 2: total pad 1, at the end -> windows (1,2)(2,3)(3,4)(4,0)
  check_close(run1("Conv", {x, w}, {{"auto_pad", std::string("SAME_UPPER")}}), {1, 1, 1, 4}, {21, 32, 43, 4});
  check_close(run1("Conv", {x, w}, {{"auto_pad", std::string("SAME_LOWER")}}), {1, 1, 1, 4}, {10, 21, 32, 43});
  check_close(run1("Conv", {f32({1, 1, 4}, {1, 2, 3, 4}), f32({1, 1, 2}, {1, 10})}, {{"strides", std::vector<int64_t>{2}}}),
              {1, 1, 2}, {21, 43});
}

TEST_CASE("ConvTranspose scatters each input through the kernel") {
  // 1 channel, 2x2 input, 2x2 kernel, stride 2: each input pixel becomes a scaled copy of the kernel.
  const auto y = run1("ConvTranspose", {f32({1, 1, 2, 2}, {1, 2, 3, 4}), f32({1, 1, 2, 2}, {1, 10, 100, 1000})},
                      {{"strides", std::vector<int64_t>{2, 2}}});
  check_close(y, {1, 1, 4, 4}, {1, 10, 2, 20, 100, 1000, 200, 2000, 3, 30, 4, 40, 300, 3000, 400, 4000});
  // stride 1 overlap with pads 1: full output [3,3] cropped to its centre.
  const auto z = run1("ConvTranspose", {f32({1, 1, 2, 2}, {1, 2, 3, 4}), f32({1, 1, 2, 2}, {1, 1, 1, 1}), f32({1}, {0.5f})},
                      {{"pads", std::vector<int64_t>{1, 1, 0, 0}}});
  check_close(z, {1, 1, 2, 2}, {10.5f, 6.5f, 7.5f, 4.5f});
  // two groups, two output channels per group
  const auto g = run1("ConvTranspose", {f32({1, 2, 1, 1}, {1, 2}), f32({2, 2, 1, 1}, {1, 2, 3, 4})}, {{"group", int64_t{2}}});
  check_close(g, {1, 4, 1, 1}, {1, 2, 6, 8});
}

TEST_CASE("MaxPool, AveragePool (pads, ceil_mode, count_include_pad) and global pools") {
  const auto x = f32({1, 1, 3, 3}, {1, 2, 3, 4, 5, 6, 7, 8, 9});
  check_close(run1("MaxPool", {x}, {{"kernel_shape", std::vector<int64_t>{2, 2}}}), {1, 1, 2, 2}, {5, 6, 8, 9});
  check_close(run1("MaxPool", {x}, {{"kernel_shape", std::vector<int64_t>{2, 2}}, {"strides", std::vector<int64_t>{2, 2}},
                                    {"ceil_mode", int64_t{1}}}),
              {1, 1, 2, 2}, {5, 6, 8, 9});
  check_close(run1("AveragePool", {x}, {{"kernel_shape", std::vector<int64_t>{2, 2}}, {"pads", std::vector<int64_t>{1, 1, 1, 1}},
                                        {"strides", std::vector<int64_t>{2, 2}}}),
              {1, 1, 2, 2}, {1, 2.5f, 5.5f, 7});
  check_close(run1("AveragePool", {x}, {{"kernel_shape", std::vector<int64_t>{2, 2}}, {"pads", std::vector<int64_t>{1, 1, 1, 1}},
                                        {"strides", std::vector<int64_t>{2, 2}}, {"count_include_pad", int64_t{1}}}),
              {1, 1, 2, 2}, {0.25f, 1.25f, 2.75f, 7});
  check_close(run1("GlobalAveragePool", {x}), {1, 1, 1, 1}, {5});
  check_close(run1("GlobalMaxPool", {x}), {1, 1, 1, 1}, {9});
}

TEST_CASE("MatMul: batched broadcasting, 1-D promotion, integer, Gemm with transposes and bias") {
  const auto a = pattern(2 * 3 * 4, 0.2), b = pattern(4 * 5, 1.1);
  std::vector<float> expected;
  for (int64_t n = 0; n < 2; ++n)
    for (int64_t i = 0; i < 3; ++i)
      for (int64_t j = 0; j < 5; ++j) {
        double acc = 0;
        for (int64_t k = 0; k < 4; ++k) acc += static_cast<double>(a[static_cast<size_t>((n * 3 + i) * 4 + k)]) * b[static_cast<size_t>(k * 5 + j)];
        expected.push_back(static_cast<float>(acc));
      }
  check_close(run1("MatMul", {f32({2, 3, 4}, a), f32({4, 5}, b)}), {2, 3, 5}, expected);
  // [2,1,3,4] x [3,4,5] broadcasts to [2,3,3,5]
  const auto big_a = pattern(2 * 3 * 4, 0.4), big_b = pattern(3 * 4 * 5, 0.8);
  const auto y = run1("MatMul", {f32({2, 1, 3, 4}, big_a), f32({3, 4, 5}, big_b)});
  REQUIRE(y.dims() == std::vector<int64_t>{2, 3, 3, 5});
  const auto yv = y.to_f32();
  for (int64_t n = 0; n < 2; ++n)
    for (int64_t m = 0; m < 3; ++m)
      for (int64_t i = 0; i < 3; ++i)
        for (int64_t j = 0; j < 5; ++j) {
          double acc = 0;
          for (int64_t k = 0; k < 4; ++k)
            acc += static_cast<double>(big_a[static_cast<size_t>((n * 3 + i) * 4 + k)]) * big_b[static_cast<size_t>((m * 4 + k) * 5 + j)];
          CHECK(std::abs(yv[static_cast<size_t>(((n * 3 + m) * 3 + i) * 5 + j)] - acc) < 1e-5);
        }
  check_close(run1("MatMul", {f32({2}, {1, 2}), f32({2, 2}, {1, 2, 3, 4})}), {2}, {7, 10});
  check_close(run1("MatMul", {f32({2, 2}, {1, 2, 3, 4}), f32({2}, {1, 1})}), {2}, {3, 7});
  CHECK(run1("MatMul", {i64({1, 2}, {2, 3}), i64({2, 1}, {4, 5})}).to_i64() == std::vector<int64_t>{23});
  // Gemm: alpha * A^T B^T + beta * C, C broadcast per column
  check_close(run1("Gemm", {f32({2, 1}, {1, 2}), f32({2, 2}, {1, 3, 2, 4}), f32({1, 1}, {10})},
                   {{"transA", int64_t{1}}, {"transB", int64_t{1}}, {"alpha", 2.0f}, {"beta", 0.5f}}),
              {1, 2}, {2 * 7 + 5, 2 * 10 + 5});
}
