#include "edgec/runtime/host_tensor.hpp"

#include <algorithm>
#include <new>

#include "edgec/core/error.hpp"

namespace edgec::runtime {
namespace {

// 64 bytes: a cache line and an AVX-512 register, so Eigen and vectorised loops see aligned rows.
constexpr std::align_val_t kAlignment{64};

struct AlignedFree {
  void operator()(std::byte* pointer) const { ::operator delete[](pointer, kAlignment); }
};

std::shared_ptr<std::byte> allocate(size_t bytes) {
  // Never zero bytes, so every tensor has a distinct valid address.
  auto* pointer = static_cast<std::byte*>(::operator new[](bytes == 0 ? 1 : bytes, kAlignment));
  return std::shared_ptr<std::byte>(pointer, AlignedFree{});
}

size_t storage_bytes(DType dtype, const std::vector<int64_t>& dims, int64_t& elements) {
  const auto count = element_count(dims);
  if (!count) throw Error(ErrorCategory::input, "runtime: invalid tensor dims " + dims_to_string(dims));
  elements = *count;
  const auto bytes = dtype_storage_bytes(dtype, static_cast<uint64_t>(*count));
  if (!bytes || dtype == DType::undefined)
    throw Error(ErrorCategory::input, "runtime: cannot hold a " + std::string(dtype_name(dtype)) + " tensor " +
                                          dims_to_string(dims));
  return static_cast<size_t>(*bytes);
}

// `count` elements of type T (read through memcpy: no alignment assumption) converted to Out.
template <class T, class Out>
void widen(const std::byte* raw, size_t count, std::vector<Out>& out) {
  out.resize(count);
  for (size_t i = 0; i < count; ++i) {
    T value;
    std::memcpy(&value, raw + i * sizeof(T), sizeof(T));
    out[i] = static_cast<Out>(value);
  }
}

// Integer and bool contents converted to Out; false for other dtypes.
template <class Out>
bool widen_integers(DType dtype, const std::byte* raw, size_t count, std::vector<Out>& out) {
  switch (dtype) {
    case DType::i64: widen<int64_t>(raw, count, out); return true;
    case DType::i32: widen<int32_t>(raw, count, out); return true;
    case DType::i16: widen<int16_t>(raw, count, out); return true;
    case DType::i8: widen<int8_t>(raw, count, out); return true;
    case DType::u8: case DType::boolean: widen<uint8_t>(raw, count, out); return true;
    case DType::u16: widen<uint16_t>(raw, count, out); return true;
    case DType::u32: widen<uint32_t>(raw, count, out); return true;
    case DType::u64: widen<uint64_t>(raw, count, out); return true;
    default: return false;
  }
}

}  // namespace

HostTensor HostTensor::empty(DType dtype, std::vector<int64_t> dims) {
  HostTensor out;
  out.size_ = storage_bytes(dtype, dims, out.elements_);
  out.dtype_ = dtype;
  out.dims_ = std::move(dims);
  out.owned_ = allocate(out.size_);
  out.data_ = out.owned_.get();
  return out;
}

HostTensor HostTensor::zeros(DType dtype, std::vector<int64_t> dims) {
  HostTensor out = empty(dtype, std::move(dims));
  std::memset(out.owned_.get(), 0, out.size_);
  return out;
}

HostTensor HostTensor::from_ir(const Tensor& tensor) {
  HostTensor out;
  out.size_ = storage_bytes(tensor.dtype(), tensor.dims(), out.elements_);
  if (out.size_ != tensor.bytes().size())
    throw Error(ErrorCategory::input, "runtime: IR tensor of " + std::string(dtype_name(tensor.dtype())) + " " +
                                          dims_to_string(tensor.dims()) + " holds " +
                                          std::to_string(tensor.bytes().size()) + " bytes");
  out.dtype_ = tensor.dtype();
  out.dims_ = tensor.dims();
  const auto bytes = tensor.bytes();
  const size_t element = std::max<size_t>(1, out.element_size());
  if (reinterpret_cast<uintptr_t>(bytes.data()) % element == 0) {
    out.ir_ = std::make_shared<const Tensor>(tensor);
    out.data_ = out.ir_->bytes().data();
  } else {
    // A mapped file may place a tensor at any offset; typed access needs natural alignment.
    out.owned_ = allocate(out.size_);
    if (out.size_) std::memcpy(out.owned_.get(), bytes.data(), out.size_);
    out.data_ = out.owned_.get();
  }
  return out;
}

HostTensor HostTensor::reshaped(std::vector<int64_t> dims) const {
  const auto count = element_count(dims);
  if (!count || *count != elements_)
    throw Error(ErrorCategory::input, "runtime: cannot reshape " + describe(*this) + " to " + dims_to_string(dims));
  HostTensor out = *this;
  out.dims_ = std::move(dims);
  return out;
}

Tensor HostTensor::to_ir() const {
  std::vector<std::byte> bytes(size_);
  if (size_) std::memcpy(bytes.data(), data_, size_);
  return Tensor::owning(dtype_, dims_, std::move(bytes));
}

size_t HostTensor::element_size() const {
  const int bits = dtype_bits(dtype_);
  return bits >= 8 ? static_cast<size_t>(bits / 8) : 0;
}

std::byte* HostTensor::mutable_raw() {
  if (!owned_) throw Error(ErrorCategory::internal, "runtime: write to a tensor that shares an IR tensor's bytes");
  return owned_.get();
}

void HostTensor::check_access(size_t element_bytes, size_t count) const {
  if (static_cast<int>(element_bytes * 8) != dtype_bits(dtype_) || count != static_cast<size_t>(elements_))
    throw Error(ErrorCategory::internal, "runtime: typed access of " + std::to_string(count) + " elements of " +
                                             std::to_string(element_bytes) + " bytes to " + describe(*this));
}

std::vector<int64_t> HostTensor::to_i64() const {
  std::vector<int64_t> out;
  if (!widen_integers(dtype_, data_, static_cast<size_t>(elements_), out))
    throw Error(ErrorCategory::input, "runtime: expected an integer tensor, got " + describe(*this));
  return out;
}

std::vector<double> HostTensor::to_f64() const {
  std::vector<double> out;
  const auto count = static_cast<size_t>(elements_);
  switch (dtype_) {
    case DType::f64: widen<double>(data_, count, out); break;
    case DType::f32: widen<float>(data_, count, out); break;
    case DType::f16: case DType::bf16: {
      out.resize(count);
      for (size_t i = 0; i < count; ++i) {
        uint16_t bits;
        std::memcpy(&bits, data_ + i * 2, 2);
        out[i] = dtype_ == DType::f16 ? f16_to_f32(bits) : bf16_to_f32(bits);
      }
      break;
    }
    default:
      if (!widen_integers(dtype_, data_, count, out))
        throw Error(ErrorCategory::input, "runtime: expected a numeric tensor, got " + describe(*this));
  }
  return out;
}

std::vector<float> HostTensor::to_f32() const {
  if (dtype_ == DType::f32) return {span<float>().begin(), span<float>().end()};
  const auto wide = to_f64();
  return {wide.begin(), wide.end()};
}

std::string describe(const HostTensor& tensor) {
  return std::string(dtype_name(tensor.dtype())) + " " + dims_to_string(tensor.dims());
}

}  // namespace edgec::runtime
