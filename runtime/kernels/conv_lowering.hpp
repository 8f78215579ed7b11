#pragma once
// The lowering Conv and edgec.QConv share: im2col (each group's patches as the columns of one matrix, so a
// convolution is one GEMM) and the direct depthwise loop (one channel per group, where im2col would make
// thousands of tiny products). Spatial planes are walked line by line (conv_geometry.hpp).
#include <algorithm>
#include <type_traits>
#include <vector>

#include "kernels/conv_geometry.hpp"
#include "kernels/cpu_isa.hpp"
#include "kernels/depthwise.hpp"
#include "kernels/kernel_util.hpp"

namespace edgec::runtime::detail {

// The kernel multi-index of tap number `flat` (row-major over w.kernel).
inline std::vector<int64_t> tap_index(const Window& w, int64_t flat) {
  std::vector<int64_t> tap(w.axes());
  for (size_t a = w.axes(); a-- > 0;) {
    tap[a] = flat % w.kernel[a];
    flat /= w.kernel[a];
  }
  return tap;
}

// col[c * taps + t][output position] = x[c][position * stride - pad + tap t * dilation], 0 outside the input.
template <class T>
void im2col(const T* x, int64_t channels, const Window& w, T* col) {
  const size_t last = w.axes() - 1;
  const int64_t taps = w.kernel_size(), cols = w.out_size(), in_plane = w.in_size();
  const int64_t out_w = w.out[last], stride = w.stride[last];
  const auto in_strides = strides_of(w.in);
  const std::span<const int64_t> lines(w.out.data(), last);
  parallel_for(channels * taps, cols, [&](int64_t r) {
    const T* plane = x + (r / taps) * in_plane;
    const std::vector<int64_t> tap = tap_index(w, r % taps);
    const int64_t shift = tap[last] * w.dilation[last] - w.pad_begin[last];
    const auto [first, end] = valid_range(shift, stride, w.in[last], out_w);
    std::vector<int64_t> line(last, 0);
    T* dst = col + r * cols;
    do {
      const int64_t base = line_offset(w, line, tap, w.in, in_strides);
      if (base < 0) {
        std::fill(dst, dst + out_w, T(0));
      } else {
        std::fill(dst, dst + first, T(0));
        for (int64_t ox = first; ox < end; ++ox) dst[ox] = plane[base + ox * stride + shift];
        std::fill(dst + end, dst + out_w, T(0));
      }
      dst += out_w;
    } while (next_index(line, lines));
  });
}

// 2-D depthwise, one output row at a time: the row is summed in a buffer that stays in L1 (taps in the same order
// as the N-D loop below, so the same bits), reading each tap's input row with unit stride when the stride is 1
// (the loop the compiler vectorises).
template <class T>
void depthwise_2d(const T* x, const T* weight, const T* bias, int64_t channels, const Window& w, T* out) {
  const int64_t in_h = w.in[0], in_w = w.in[1], out_h = w.out[0], out_w = w.out[1];
  const int64_t kh = w.kernel[0], kw = w.kernel[1], sy = w.stride[0], sx = w.stride[1];
  const int64_t dy = w.dilation[0], dx = w.dilation[1], py = w.pad_begin[0], px = w.pad_begin[1];
  if constexpr (std::is_same_v<T, float>) {
    if (sy == 1 && sx == 1 && isa_limit() == Isa::avx512) {
      parallel_for(channels, out_h * out_w * kh * kw, [&](int64_t c) {
        depthwise_plane_avx512({x + c * in_h * in_w, out + c * out_h * out_w, weight + c * kh * kw, bias ? bias[c] : 0.0f, in_h, in_w,
                                out_h, out_w, kh, kw, py, px, dy, dx});
      });
      return;
    }
  }
  parallel_for(channels, out_h * out_w * kh * kw, [&](int64_t c) {
    const T* plane = x + c * in_h * in_w;
    const T* k = weight + c * kh * kw;
    std::vector<T> row(static_cast<size_t>(out_w));
    for (int64_t oy = 0; oy < out_h; ++oy) {
      std::fill(row.begin(), row.end(), bias ? bias[c] : T(0));
      for (int64_t ky = 0; ky < kh; ++ky) {
        const int64_t iy = oy * sy - py + ky * dy;
        if (iy < 0 || iy >= in_h) continue;
        const T* in_row = plane + iy * in_w;
        for (int64_t kx = 0; kx < kw; ++kx) {
          const T tap = k[ky * kw + kx];
          const int64_t shift = kx * dx - px;
          const auto [first, end] = valid_range(shift, sx, in_w, out_w);
          T* acc = row.data();
          if (sx == 1) {
            const T* src = in_row + shift;
            for (int64_t ox = first; ox < end; ++ox) acc[ox] += src[ox] * tap;
          } else {
            for (int64_t ox = first; ox < end; ++ox) acc[ox] += in_row[ox * sx + shift] * tap;
          }
        }
      }
      std::copy(row.begin(), row.end(), out + c * out_h * out_w + oy * out_w);
    }
  });
}

// One channel per group and map: out[c] = bias[c] + sum over taps of x[c] (shifted) * weight[c][tap], taps
// added in order.
template <class T>
void depthwise(const T* x, const T* weight, const T* bias, int64_t channels, const Window& w, T* out) {
  if (w.axes() == 2) return depthwise_2d(x, weight, bias, channels, w, out);
  const size_t last = w.axes() - 1;
  const int64_t taps = w.kernel_size(), in_plane = w.in_size(), out_plane = w.out_size();
  const int64_t out_w = w.out[last], stride = w.stride[last];
  const auto in_strides = strides_of(w.in);
  const std::span<const int64_t> lines(w.out.data(), last);
  parallel_for(channels, out_plane * taps, [&](int64_t c) {
    const T* plane = x + c * in_plane;
    T* dst = out + c * out_plane;
    std::fill(dst, dst + out_plane, bias ? bias[c] : T(0));
    std::vector<int64_t> tap(w.axes(), 0), line(last);
    for (int64_t t = 0; t < taps; ++t, next_index(tap, w.kernel)) {
      const T k = weight[c * taps + t];
      const int64_t shift = tap[last] * w.dilation[last] - w.pad_begin[last];
      const auto [first, end] = valid_range(shift, stride, w.in[last], out_w);
      std::fill(line.begin(), line.end(), 0);
      T* row = dst;
      do {
        const int64_t base = line_offset(w, line, tap, w.in, in_strides);
        if (base >= 0)
          for (int64_t ox = first; ox < end; ++ox) row[ox] += plane[base + ox * stride + shift] * k;
        row += out_w;
      } while (next_index(line, lines));
    }
  });
}

// col [rows, cols] -> out [cols, rows]: the im2col matrix as the [pixels, patch] rows a linear layer reads.
template <class T>
void transpose_into(const T* col, int64_t rows, int64_t cols, T* out) {
  for (int64_t r = 0; r < rows; ++r)
    for (int64_t c = 0; c < cols; ++c) out[c * rows + r] = col[r * cols + c];
}

}  // namespace edgec::runtime::detail
