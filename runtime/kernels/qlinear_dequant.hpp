#pragma once
// A quantized weight (qlinear_kernels.hpp) as the row operand of the f32 product (sgemm.hpp): prefill-sized
// products dequantize it a block at a time and run on the f32 micro kernels (qlinear_dequant.cpp).
#include "kernels/qlinear_kernels.hpp"
#include "kernels/sgemm.hpp"

namespace edgec::runtime::detail::qlinear {

class QuantRows final : public sgemm::RowOperand {
 public:
  QuantRows(const Weights& w, Isa isa) : w_(w), isa_(isa) {}
  const float* block(int64_t r0, int64_t count, int64_t k0, int64_t kc, float* scratch, int64_t& ld) const override;

 private:
  const Weights& w_;
  Isa isa_;
};

}  // namespace edgec::runtime::detail::qlinear
