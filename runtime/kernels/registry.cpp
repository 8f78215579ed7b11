#include "kernels/registration.hpp"

namespace edgec::runtime {

OpRegistry make_default_registry() {
  OpRegistry registry;
  detail::register_elementwise(registry);
  detail::register_shape_ops(registry);
  detail::register_reduce(registry);
  detail::register_matmul(registry);
  detail::register_conv(registry);
  detail::register_pool(registry);
  detail::register_normalization(registry);
  detail::register_resize(registry);
  detail::register_quantize(registry);
  detail::register_edgec_ops(registry);
  detail::register_attention(registry);
  detail::register_qlinear(registry);
  detail::register_qconv(registry);
  detail::register_chain(registry);
  return registry;
}

}  // namespace edgec::runtime
