#pragma once
// The executor's tensor: a dtype, dims and bytes in host memory. The bytes are either a fresh 64-byte
// aligned buffer a kernel allocated (and is the only one to write), or shared with an IR tensor (an
// initializer or Constant attribute, possibly a view of a memory-mapped checkpoint: nothing is copied).
// Copies of a HostTensor share the bytes, so Reshape/Squeeze/Identity cost nothing; kernels never write
// into a tensor they did not create in the same call.
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <memory>
#include <span>
#include <string>
#include <vector>

#include "edgec/core/dtype.hpp"
#include "edgec/core/tensor.hpp"

namespace edgec::runtime {

class HostTensor {
 public:
  HostTensor() = default;

  // Uninitialised storage for dtype x dims; the creating kernel writes every element.
  static HostTensor empty(DType dtype, std::vector<int64_t> dims);
  static HostTensor zeros(DType dtype, std::vector<int64_t> dims);
  // Shares the IR tensor's bytes; copies them only when they are misaligned for the element type.
  static HostTensor from_ir(const Tensor& tensor);
  template <class T>
  static HostTensor from_values(DType dtype, std::vector<int64_t> dims, std::span<const T> values) {
    HostTensor out = empty(dtype, std::move(dims));
    out.check_access(sizeof(T), values.size());
    if (!values.empty()) std::memcpy(out.mutable_raw(), values.data(), values.size_bytes());
    return out;
  }
  template <class T>
  static HostTensor from_values(DType dtype, std::vector<int64_t> dims, const std::vector<T>& values) {
    return from_values<T>(dtype, std::move(dims), std::span<const T>(values));
  }

  // The same bytes under other dims with the same element count (Reshape, Squeeze, Flatten).
  HostTensor reshaped(std::vector<int64_t> dims) const;
  // An owning IR tensor holding a copy of the bytes.
  Tensor to_ir() const;

  bool defined() const { return dtype_ != DType::undefined; }
  DType dtype() const { return dtype_; }
  const std::vector<int64_t>& dims() const { return dims_; }
  int64_t rank() const { return static_cast<int64_t>(dims_.size()); }
  int64_t elements() const { return elements_; }
  size_t size_bytes() const { return size_; }
  // Bytes per element (1 for bool; 0 for sub-byte and variable-size types, which kernels reject).
  size_t element_size() const;

  const std::byte* raw() const { return data_; }
  std::byte* mutable_raw();  // throws Error(internal) unless this tensor owns its buffer
  template <class T>
  const T* data() const {
    check_access(sizeof(T), static_cast<size_t>(elements_));
    return reinterpret_cast<const T*>(data_);
  }
  template <class T>
  T* mutable_data() {
    check_access(sizeof(T), static_cast<size_t>(elements_));
    return reinterpret_cast<T*>(mutable_raw());
  }
  template <class T>
  std::span<const T> span() const {
    return {data<T>(), static_cast<size_t>(elements_)};
  }

  // Integer (i8..u64, bool) contents widened to int64: shape, axes and index inputs.
  std::vector<int64_t> to_i64() const;
  // Numeric contents as f64 / f32 (f16 and bf16 included).
  std::vector<double> to_f64() const;
  std::vector<float> to_f32() const;

 private:
  void check_access(size_t element_bytes, size_t count) const;
  DType dtype_ = DType::undefined;
  std::vector<int64_t> dims_;
  int64_t elements_ = 0;
  std::shared_ptr<std::byte> owned_;        // set when this tensor's kernel allocated the buffer
  std::shared_ptr<const Tensor> ir_;        // set when the bytes belong to an IR tensor
  const std::byte* data_ = nullptr;
  size_t size_ = 0;
};

std::string describe(const HostTensor& tensor);  // "f32 [2,3]"

}  // namespace edgec::runtime
