#pragma once
// Helpers shared by the kernels: attribute access, dtype dispatch (one switch per call, never per
// element), numpy broadcasting, axis handling and parallel loops. Internal to runtime/.
#include <algorithm>
#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <type_traits>
#include <vector>

#include "edgec/core/graph.hpp"
#include "edgec/core/parallel.hpp"
#include "edgec/runtime/host_tensor.hpp"
#include "edgec/runtime/op_registry.hpp"

namespace edgec::runtime::detail {

// ---- attributes -------------------------------------------------------------------------------------
std::optional<std::vector<int64_t>> attr_ints_opt(const Node& node, std::string_view key);
std::vector<float> attr_floats(const Node& node, std::string_view key);
const Tensor* attr_tensor(const Node& node, std::string_view key);

// ONNX TensorProto.DataType number -> DType (Cast's `to`, ConstantOfShape, ...).
std::optional<DType> dtype_from_onnx(int64_t data_type);

// ---- shapes -----------------------------------------------------------------------------------------
// Axis in [-rank, rank) -> [0, rank); fails naming the node otherwise.
int64_t normalize_axis(const KernelContext& ctx, int64_t axis, int64_t rank);
std::vector<int64_t> strides_of(std::span<const int64_t> dims);
int64_t product(std::span<const int64_t> dims, size_t begin, size_t end);
// Numpy (multidirectional) broadcast of several shapes; fails naming the node on a mismatch.
std::vector<int64_t> broadcast_shape(const KernelContext& ctx, std::span<const std::vector<int64_t>* const> shapes);

// Iteration plan over a broadcast output: coalesced dims and per-input strides (0 where broadcast). The
// output is walked as `rows` rows of `inner` contiguous elements; input k of row r starts at offset(r, k)
// and advances by inner_stride[k] (0 or 1) along the row.
struct Broadcast {
  std::vector<int64_t> out_dims;
  std::vector<int64_t> dims;                  // coalesced
  std::vector<std::vector<int64_t>> strides;  // per input, over `dims`
  std::vector<int64_t> inner_stride;
  int64_t rows = 0;
  int64_t inner = 0;
  void row_offsets(int64_t row, std::span<int64_t> offsets) const;
};
Broadcast plan_broadcast(const KernelContext& ctx, std::span<const std::vector<int64_t>* const> shapes);

// ---- dtype dispatch ---------------------------------------------------------------------------------
// f16 and bf16: kernels that accept them compute in f32 (cast_tensor) and round the result back.
inline bool is_half(DType dtype) { return dtype == DType::f16 || dtype == DType::bf16; }

// Calls f(T{}) with the C++ type of `dtype` (bool as uint8_t). Unsupported dtypes fail naming the node.
template <class F>
decltype(auto) dispatch_float(const KernelContext& ctx, DType dtype, F&& f) {
  switch (dtype) {
    case DType::f32: return f(float{});
    case DType::f64: return f(double{});
    default: ctx.fail(std::string("dtype ") + std::string(dtype_name(dtype)) + " is not supported (f32, f64)");
  }
}

template <class F>
decltype(auto) dispatch_signed(const KernelContext& ctx, DType dtype, F&& f) {
  switch (dtype) {
    case DType::f32: return f(float{});
    case DType::f64: return f(double{});
    case DType::i8: return f(int8_t{});
    case DType::i16: return f(int16_t{});
    case DType::i32: return f(int32_t{});
    case DType::i64: return f(int64_t{});
    default: ctx.fail(std::string("dtype ") + std::string(dtype_name(dtype)) + " is not supported (f32, f64, signed integers)");
  }
}

template <class F>
decltype(auto) dispatch_numeric(const KernelContext& ctx, DType dtype, F&& f) {
  switch (dtype) {
    case DType::f32: return f(float{});
    case DType::f64: return f(double{});
    case DType::i8: return f(int8_t{});
    case DType::u8: return f(uint8_t{});
    case DType::i16: return f(int16_t{});
    case DType::u16: return f(uint16_t{});
    case DType::i32: return f(int32_t{});
    case DType::u32: return f(uint32_t{});
    case DType::i64: return f(int64_t{});
    case DType::u64: return f(uint64_t{});
    default: ctx.fail(std::string("dtype ") + std::string(dtype_name(dtype)) + " is not supported (numeric types)");
  }
}

// Same, plus bool (as uint8_t).
template <class F>
decltype(auto) dispatch_all(const KernelContext& ctx, DType dtype, F&& f) {
  if (dtype == DType::boolean) return f(uint8_t{});
  return dispatch_numeric(ctx, dtype, std::forward<F>(f));
}

// The DType of a C++ element type (uint8_t maps to u8; callers producing bool say so explicitly).
template <class T>
constexpr DType dtype_of() {
  if constexpr (std::is_same_v<T, float>) return DType::f32;
  else if constexpr (std::is_same_v<T, double>) return DType::f64;
  else if constexpr (std::is_same_v<T, int8_t>) return DType::i8;
  else if constexpr (std::is_same_v<T, uint8_t>) return DType::u8;
  else if constexpr (std::is_same_v<T, int16_t>) return DType::i16;
  else if constexpr (std::is_same_v<T, uint16_t>) return DType::u16;
  else if constexpr (std::is_same_v<T, int32_t>) return DType::i32;
  else if constexpr (std::is_same_v<T, uint32_t>) return DType::u32;
  else if constexpr (std::is_same_v<T, int64_t>) return DType::i64;
  else if constexpr (std::is_same_v<T, uint64_t>) return DType::u64;
  else return DType::undefined;
}

// ---- loops ------------------------------------------------------------------------------------------
// Below this many scalar operations a loop stays on one thread (handing work out costs more).
inline constexpr int64_t kParallelGrain = 1 << 15;

// Runs body(i) for i in [0, count) on the current pool (edgec/core/parallel.hpp). Iterations must be independent
// (each writes its own output), so the result does not depend on the thread count.
template <class Body>
void parallel_for(int64_t count, int64_t work_per_item, Body&& body) {
  if (count <= 1 || count * work_per_item < kParallelGrain) {
    for (int64_t i = 0; i < count; ++i) body(i);
    return;
  }
  // Chunks of at least kParallelGrain / 4 operations.
  const int64_t min_chunk = std::max<int64_t>(1, kParallelGrain / 4 / std::max<int64_t>(1, work_per_item));
  edgec::parallel_for(count, min_chunk, body);
}

// Inputs as a vector of shapes (for broadcast helpers).
std::vector<int64_t> input_i64(const KernelContext& ctx, size_t index);  // an integer input's values
void require_inputs(const KernelContext& ctx, size_t min_count);

}  // namespace edgec::runtime::detail

namespace edgec::runtime::detail {
// Element-wise conversion with Cast's rules (float -> int truncates toward zero and saturates, NaN -> 0;
// anything -> bool is x != 0; f16/bf16 go through f32). Returns `input` itself when the dtype matches.
HostTensor cast_tensor(const KernelContext& ctx, const HostTensor& input, DType to);
}  // namespace edgec::runtime::detail

namespace edgec::runtime::detail {
// Copies the elements of a strided view of `input` into a new contiguous tensor of `out_dims`: element
// (i0, i1, ...) comes from input element base + sum(i_d * strides[d]) (strides may be 0 or negative).
// Transpose, Slice and Expand are all this one copy.
HostTensor strided_copy(const KernelContext& ctx, const HostTensor& input, std::vector<int64_t> out_dims,
                        int64_t base, std::span<const int64_t> strides);
}  // namespace edgec::runtime::detail
