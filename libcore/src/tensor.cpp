#include "edgec/core/tensor.hpp"

#include <limits>
#include <sstream>

#include "edgec/core/error.hpp"

namespace edgec {

std::optional<int64_t> element_count(std::span<const int64_t> dims) {
  int64_t count = 1;
  for (const int64_t dim : dims) {
    if (dim < 0) return std::nullopt;
    if (dim != 0 && count > std::numeric_limits<int64_t>::max() / dim) return std::nullopt;
    count *= dim;
  }
  return count;
}

std::string dims_to_string(std::span<const int64_t> dims) {
  std::ostringstream out;
  out << '[';
  for (size_t i = 0; i < dims.size(); ++i) out << (i ? "," : "") << dims[i];
  out << ']';
  return out.str();
}

Tensor Tensor::owning(DType dtype, std::vector<int64_t> dims, std::vector<std::byte> bytes) {
  const auto count = element_count(dims);
  if (!count) throw Error(ErrorCategory::internal, "tensor dims " + dims_to_string(dims) + " are invalid");
  if (dtype != DType::string) {
    const auto expected = dtype_storage_bytes(dtype, static_cast<uint64_t>(*count));
    if (!expected || *expected != bytes.size())
      throw Error(ErrorCategory::internal, "tensor of " + std::string(dtype_name(dtype)) + " " +
                                               dims_to_string(dims) + " given " + std::to_string(bytes.size()) +
                                               " bytes");
  }
  Tensor tensor;
  tensor.dtype_ = dtype;
  tensor.dims_ = std::move(dims);
  tensor.size_ = bytes.size();
  tensor.owned_ = std::make_shared<const std::vector<std::byte>>(std::move(bytes));
  return tensor;
}

Tensor Tensor::view(DType dtype, std::vector<int64_t> dims, std::shared_ptr<const MappedFile> file,
                    size_t offset, size_t size) {
  if (!file || offset > file->size() || size > file->size() - offset)
    throw Error(ErrorCategory::internal, "tensor view outside its file");
  Tensor tensor;
  tensor.dtype_ = dtype;
  tensor.dims_ = std::move(dims);
  tensor.file_ = std::move(file);
  tensor.offset_ = offset;
  tensor.size_ = size;
  return tensor;
}

int64_t Tensor::elements() const { return element_count(dims_).value_or(0); }

std::span<const std::byte> Tensor::bytes() const {
  if (file_) return file_->bytes().subspan(offset_, size_);
  if (owned_) return {owned_->data(), owned_->size()};
  return {};
}

void Tensor::check_element_size(size_t size) const {
  if (static_cast<int>(size * 8) != dtype_bits(dtype_))
    throw Error(ErrorCategory::internal, "typed access of size " + std::to_string(size) + " to a " +
                                             std::string(dtype_name(dtype_)) + " tensor");
}

namespace {

template <class T>
void widen(std::span<const std::byte> raw, std::vector<float>& out) {
  out.resize(raw.size() / sizeof(T));
  for (size_t i = 0; i < out.size(); ++i) {
    T value;
    std::memcpy(&value, raw.data() + i * sizeof(T), sizeof(T));
    out[i] = static_cast<float>(value);
  }
}

}  // namespace

std::vector<float> Tensor::to_f32() const {
  const auto raw = bytes();
  std::vector<float> out;
  switch (dtype_) {
    case DType::f32: widen<float>(raw, out); break;
    case DType::f64: widen<double>(raw, out); break;
    case DType::i8: widen<int8_t>(raw, out); break;
    case DType::u8: widen<uint8_t>(raw, out); break;
    case DType::boolean: widen<uint8_t>(raw, out); break;
    case DType::i16: widen<int16_t>(raw, out); break;
    case DType::u16: widen<uint16_t>(raw, out); break;
    case DType::i32: widen<int32_t>(raw, out); break;
    case DType::u32: widen<uint32_t>(raw, out); break;
    case DType::i64: widen<int64_t>(raw, out); break;
    case DType::u64: widen<uint64_t>(raw, out); break;
    case DType::f16:
    case DType::bf16: {
      out.resize(raw.size() / 2);
      for (size_t i = 0; i < out.size(); ++i) {
        uint16_t bits;
        std::memcpy(&bits, raw.data() + i * 2, 2);
        out[i] = dtype_ == DType::f16 ? f16_to_f32(bits) : bf16_to_f32(bits);
      }
      break;
    }
    default:
      throw Error(ErrorCategory::internal,
                  "cannot widen a " + std::string(dtype_name(dtype_)) + " tensor to f32");
  }
  return out;
}

}  // namespace edgec
