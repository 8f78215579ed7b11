#pragma once
// Window geometry shared by Conv, ConvTranspose and the pools: kernel, strides, dilations and pads per
// spatial axis after auto_pad and ceil_mode are resolved. 1-D problems are handled as 2-D with height 1.
#include <cstdint>
#include <vector>

#include "edgec/runtime/op_registry.hpp"

namespace edgec::runtime::detail {

struct Window2d {
  int64_t in_h = 1, in_w = 1;
  int64_t k_h = 1, k_w = 1;
  int64_t stride_h = 1, stride_w = 1;
  int64_t dil_h = 1, dil_w = 1;
  int64_t pad_top = 0, pad_left = 0, pad_bottom = 0, pad_right = 0;
  int64_t out_h = 1, out_w = 1;
};

// Forward windows (Conv, pools). `kernel` holds the spatial kernel dims (1 or 2 of them); `spatial` the
// input's. ceil_mode rounds the output size up (pools only).
Window2d forward_window(const KernelContext& ctx, const std::vector<int64_t>& spatial,
                        const std::vector<int64_t>& kernel, bool ceil_mode);

// The spatial dims of an [N, C, ...] tensor, checked to be 1 or 2 of them.
std::vector<int64_t> spatial_dims(const KernelContext& ctx, const std::vector<int64_t>& dims);

}  // namespace edgec::runtime::detail
