#include "compare.hpp"

#include <cmath>
#include <cstring>
#include <sstream>

namespace edgec::conformance {
namespace {

std::string dims_text(const std::vector<int64_t>& dims) {
  std::string out = "[";
  for (size_t i = 0; i < dims.size(); ++i) out += (i ? "," : "") + std::to_string(dims[i]);
  return out + "]";
}

bool is_real_float(DType dtype) {
  return dtype == DType::f32 || dtype == DType::f64 || dtype == DType::f16 || dtype == DType::bf16;
}

}  // namespace

std::string compare_tensors(const runtime::HostTensor& actual, const Tensor& expected, double rtol, double atol) {
  if (!actual.defined()) return "output not produced";
  if (actual.dtype() != expected.dtype())
    return "dtype " + std::string(dtype_name(actual.dtype())) + ", expected " + std::string(dtype_name(expected.dtype()));
  if (actual.dims() != expected.dims())
    return "shape " + dims_text(actual.dims()) + ", expected " + dims_text(expected.dims());
  const runtime::HostTensor want = runtime::HostTensor::from_ir(expected);
  if (!is_real_float(expected.dtype())) {
    // Integers, bool, strings (length-prefixed records), complex: the bytes must agree.
    if (actual.size_bytes() != want.size_bytes() ||
        (actual.size_bytes() != 0 && std::memcmp(actual.raw(), want.raw(), actual.size_bytes()) != 0)) {
      if (dtype_is_integer(expected.dtype()) || expected.dtype() == DType::boolean) {
        const auto a = actual.to_i64();
        const auto b = want.to_i64();
        for (size_t i = 0; i < a.size() && i < b.size(); ++i)
          if (a[i] != b[i])
            return "element " + std::to_string(i) + " is " + std::to_string(a[i]) + ", expected " + std::to_string(b[i]);
      }
      return "bytes differ";
    }
    return {};
  }
  const auto a = actual.to_f64();
  const auto b = want.to_f64();
  size_t bad = 0, first = 0;
  for (size_t i = 0; i < b.size(); ++i) {
    bool ok;
    if (std::isnan(b[i])) ok = std::isnan(a[i]);
    else if (std::isinf(b[i])) ok = a[i] == b[i];
    else ok = !std::isnan(a[i]) && std::fabs(a[i] - b[i]) <= atol + rtol * std::fabs(b[i]);
    if (!ok && bad++ == 0) first = i;
  }
  if (bad == 0) return {};
  std::ostringstream out;
  out.precision(9);
  out << bad << " of " << b.size() << " elements differ; first at " << first << ": " << a[first] << ", expected "
      << b[first];
  return out.str();
}

}  // namespace edgec::conformance
