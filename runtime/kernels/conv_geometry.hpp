#pragma once
// Window geometry shared by Conv, ConvTranspose and the pools, for any number of spatial axes: per axis the
// input and output sizes, kernel, strides, dilations and pads after auto_pad, ceil_mode and output_shape are
// resolved. Kernels walk the spatial axes as "lines": every axis but the last is stepped with an odometer
// (next_index), the last one is the inner loop.
#include <algorithm>
#include <cstdint>
#include <span>
#include <utility>
#include <vector>

#include "edgec/runtime/op_registry.hpp"

namespace edgec::runtime::detail {

struct Window {
  std::vector<int64_t> in, kernel, stride, dilation, pad_begin, pad_end, out;

  size_t axes() const { return in.size(); }
  int64_t in_size() const;      // elements of one input plane (product of `in`)
  int64_t out_size() const;     // elements of one output plane
  int64_t kernel_size() const;  // taps of one window
};

// Forward windows (Conv, pools). `kernel` holds the spatial kernel dims, `spatial` the input's (as many).
// ceil_mode rounds the output size up (pools only).
Window forward_window(const KernelContext& ctx, const std::vector<int64_t>& spatial,
                      const std::vector<int64_t>& kernel, bool ceil_mode);

// ConvTranspose: the output size per axis from strides, output_padding, dilations and pads, or from
// output_shape / auto_pad SAME_* (which then decide the pads). `pad_begin` is where the output starts
// inside the full (unpadded) result.
Window transpose_window(const KernelContext& ctx, const std::vector<int64_t>& spatial,
                        const std::vector<int64_t>& kernel);

// The spatial dims of an [N, C, D1, ..., Dk] tensor (k >= 1).
std::vector<int64_t> spatial_dims(const KernelContext& ctx, const std::vector<int64_t>& dims);

// A per-axis integer attribute (strides, dilations, ...) with `fallback` on every axis when absent.
std::vector<int64_t> per_axis(const KernelContext& ctx, const char* key, size_t axes, int64_t fallback);

// Steps `index` to the next row-major multi-index below `dims` (same length); false after the last one.
inline bool next_index(std::span<int64_t> index, std::span<const int64_t> dims) {
  for (size_t a = index.size(); a-- > 0;) {
    if (++index[a] < dims[a]) return true;
    index[a] = 0;
  }
  return false;
}

// The j in [0, count) for which offset + j * step lies in [0, limit), as [first, second) (step > 0): the
// in-bounds outputs of one kernel tap along a line, or the in-bounds taps of one window.
inline std::pair<int64_t, int64_t> valid_range(int64_t offset, int64_t step, int64_t limit, int64_t count) {
  const int64_t first = offset >= 0 ? 0 : (-offset + step - 1) / step;
  const int64_t last = offset < limit ? std::min(count, (limit - 1 - offset) / step + 1) : 0;
  return {first, std::max(first, last)};
}

// Where a kernel tap of a line lands: on every leading axis a (all but the last) the coordinate
// line[a] * stride[a] - pad_begin[a] + tap[a] * dilation[a], as an offset into a plane of extents `dims`
// with row-major `strides`; -1 when it falls outside on some axis. Conv reads the input there (dims = in),
// ConvTranspose writes the output (dims = out).
inline int64_t line_offset(const Window& w, std::span<const int64_t> line, std::span<const int64_t> tap,
                           const std::vector<int64_t>& dims, const std::vector<int64_t>& strides) {
  int64_t offset = 0;
  for (size_t a = 0; a < line.size(); ++a) {
    const int64_t coordinate = line[a] * w.stride[a] - w.pad_begin[a] + tap[a] * w.dilation[a];
    if (coordinate < 0 || coordinate >= dims[a]) return -1;
    offset += coordinate * strides[a];
  }
  return offset;
}

}  // namespace edgec::runtime::detail
