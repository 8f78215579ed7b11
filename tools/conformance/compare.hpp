#pragma once
// Output comparison as ONNX's backend tests do it: dtype and shape exact, floating point within
// atol + rtol * |expected| with NaN where NaN is expected (and only there), everything else byte-exact.
#include <string>

#include "edgec/core/tensor.hpp"
#include "edgec/runtime/host_tensor.hpp"

namespace edgec::conformance {

// Empty when `actual` matches `expected`, otherwise a one-line description of the first difference.
std::string compare_tensors(const runtime::HostTensor& actual, const Tensor& expected, double rtol, double atol);

}  // namespace edgec::conformance
