#pragma once
// A tensor is a dtype, dims and bytes. The bytes are either owned (a vector) or a view of a memory-mapped
// file (safetensors, ONNX external data): importing a checkpoint copies no weights.
#include <cstdint>
#include <cstring>
#include <optional>
#include <memory>
#include <span>
#include <string>
#include <vector>

#include "edgec/core/dtype.hpp"
#include "edgec/core/mapped_file.hpp"

namespace edgec {

// Product of dims, or nullopt when a dim is negative or the product overflows int64.
std::optional<int64_t> element_count(std::span<const int64_t> dims);
std::string dims_to_string(std::span<const int64_t> dims);

class Tensor {
 public:
  Tensor() = default;

  // Owns `bytes`; throws Error(internal) if the size does not match dtype x dims.
  static Tensor owning(DType dtype, std::vector<int64_t> dims, std::vector<std::byte> bytes);
  // Views bytes [offset, offset + size) of `file` without copying; the caller has checked the range.
  static Tensor view(DType dtype, std::vector<int64_t> dims, std::shared_ptr<const MappedFile> file,
                     size_t offset, size_t size);
  template <class T>
  static Tensor from_values(DType dtype, std::vector<int64_t> dims, std::span<const T> values) {
    std::vector<std::byte> bytes(values.size_bytes());
    if (!bytes.empty()) std::memcpy(bytes.data(), values.data(), bytes.size());
    return owning(dtype, std::move(dims), std::move(bytes));
  }

  DType dtype() const { return dtype_; }
  const std::vector<int64_t>& dims() const { return dims_; }
  int64_t elements() const;
  std::span<const std::byte> bytes() const;
  bool is_view() const { return file_ != nullptr; }
  bool empty() const { return dtype_ == DType::undefined; }

  // Typed access; throws Error(internal) when sizeof(T) does not match the dtype.
  template <class T>
  std::span<const T> data() const {
    check_element_size(sizeof(T));
    const auto raw = bytes();
    return {reinterpret_cast<const T*>(raw.data()), raw.size() / sizeof(T)};
  }
  // Widened copy as f32 (from f32, f16, bf16, f64 and integer types).
  std::vector<float> to_f32() const;

 private:
  void check_element_size(size_t size) const;
  DType dtype_ = DType::undefined;
  std::vector<int64_t> dims_;
  std::shared_ptr<const std::vector<std::byte>> owned_;
  std::shared_ptr<const MappedFile> file_;
  size_t offset_ = 0;
  size_t size_ = 0;
};

}  // namespace edgec
