#pragma once
// One registration function per kernel file; make_default_registry calls them all.
#include "edgec/runtime/op_registry.hpp"

namespace edgec::runtime::detail {

void register_elementwise(OpRegistry& registry);
void register_shape_ops(OpRegistry& registry);
void register_reduce(OpRegistry& registry);
void register_matmul(OpRegistry& registry);
void register_conv(OpRegistry& registry);
void register_pool(OpRegistry& registry);
void register_normalization(OpRegistry& registry);
void register_resize(OpRegistry& registry);
void register_quantize(OpRegistry& registry);
void register_edgec_ops(OpRegistry& registry);
void register_attention(OpRegistry& registry);
void register_qlinear(OpRegistry& registry);
void register_qconv(OpRegistry& registry);
void register_chain(OpRegistry& registry);

}  // namespace edgec::runtime::detail
