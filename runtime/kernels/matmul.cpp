// MatMul (numpy semantics: 1-D promotion, broadcast batch dims) and Gemm. Floating point goes through
// Eigen; integer MatMul is a plain triple loop. When the right operand is a constant matrix the node is a
// linear layer: observers see its input and output.
#include <cmath>

#include "edgec/core/error.hpp"
#include "kernels/chain.hpp"
#include "kernels/cpu_isa.hpp"
#include "kernels/gemm.hpp"
#include "kernels/sgemm.hpp"
#include "kernels/kernel_util.hpp"
#include "kernels/registration.hpp"

namespace edgec::runtime::detail {
namespace {

template <class T>
void naive_matmul(int64_t m, int64_t n, int64_t k, const T* a, const T* b, T* c) {
  for (int64_t i = 0; i < m; ++i)
    for (int64_t j = 0; j < n; ++j) {
      T acc{};
      for (int64_t p = 0; p < k; ++p) acc = static_cast<T>(acc + a[i * k + p] * b[p * n + j]);
      c[i * n + j] = acc;
    }
}

template <class T>
void matrix_product(int64_t m, int64_t n, int64_t k, const T* a, const T* b, T* c) {
  if constexpr (std::is_floating_point_v<T>) gemm<T>(m, n, k, a, k, b, n, false, c, n);
  else naive_matmul(m, n, k, a, b, c);
}

// edgec_runtime.MatMul / Gemm: the product, then the element-wise chain fused into it (kernels/chain.hpp).
HostTensor with_chain(const KernelContext& ctx, HostTensor out) {
  std::vector<int64_t> dims;
  const chain::Chain fused = chain::read(ctx, out.dims(), &dims);
  if (fused.empty()) return out;
  if (out.dtype() != DType::f32) ctx.fail("a fused chain needs f32, got " + describe(out));
  chain::apply_all(fused, out.mutable_data<float>(), out.elements());
  return dims == out.dims() ? out : out.reshaped(dims);
}

std::vector<HostTensor> run_matmul(const KernelContext& ctx) {
  const HostTensor& a_in = ctx.input(0);
  const HostTensor& b_in = ctx.input(1);
  if (a_in.dtype() != b_in.dtype()) ctx.fail("input dtypes differ: " + describe(a_in) + " and " + describe(b_in));
  if (a_in.rank() == 0 || b_in.rank() == 0) ctx.fail("MatMul does not take scalars");
  const bool linear = ctx.observed() && ctx.constant_input(1) && b_in.rank() == 2;
  if (linear) ctx.notify_linear_input(a_in);
  // 1-D operands are promoted to matrices and the added dim removed from the result.
  std::vector<int64_t> a_dims = a_in.dims(), b_dims = b_in.dims();
  const bool a_vector = a_dims.size() == 1, b_vector = b_dims.size() == 1;
  if (a_vector) a_dims.insert(a_dims.begin(), 1);
  if (b_vector) b_dims.push_back(1);
  const int64_t m = a_dims[a_dims.size() - 2], k = a_dims.back();
  const int64_t n = b_dims.back();
  if (b_dims[b_dims.size() - 2] != k) ctx.fail("cannot multiply " + describe(a_in) + " by " + describe(b_in));
  const std::vector<int64_t> a_batch(a_dims.begin(), a_dims.end() - 2), b_batch(b_dims.begin(), b_dims.end() - 2);
  const std::vector<int64_t>* batch_shapes[] = {&a_batch, &b_batch};
  const Broadcast plan = plan_broadcast(ctx, batch_shapes);
  std::vector<int64_t> out_dims = plan.out_dims;
  if (!a_vector) out_dims.push_back(m);
  if (!b_vector) out_dims.push_back(n);
  std::vector<int64_t> chain_dims;
  const chain::Chain fused = chain::read(ctx, out_dims, &chain_dims);
  bool chain_done = false;
  HostTensor out = dispatch_numeric(ctx, a_in.dtype(), [&](auto tag) {
    using T = decltype(tag);
    HostTensor result = HostTensor::empty(a_in.dtype(), out_dims);
    const T* a = a_in.data<T>();
    const T* b = b_in.data<T>();
    T* c = result.mutable_data<T>();
    const int64_t batches = product(plan.out_dims, 0, plan.out_dims.size());
    if (b_batch.empty()) {
      // [..., m, k] x [k, n]: one product with all batch rows stacked; a fused chain runs in its epilogue (the same
      // product gemm.cpp runs for f32, so the same bits).
      if constexpr (std::is_same_v<T, float>) {
        const Isa isa = isa_limit();
        if (!fused.empty() && isa != Isa::portable && k > 0) {
          sgemm::Output epilogue;
          epilogue.c = c;
          epilogue.ldc = n;
          epilogue.chain = &fused;
          sgemm::multiply(batches * m, n, k, sgemm::F32Rows(a, k), sgemm::F32Cols(b, n), epilogue, isa);
          chain_done = true;
          return result;
        }
      }
      matrix_product<T>(batches * m, n, k, a, b, c);
      return result;
    }
    // Each batch is one independent product; batch b of input x starts at offset(b) * matrix size.
    parallel_for(batches, m * n * k, [&](int64_t batch) {
      const int64_t row = plan.inner == 0 ? 0 : batch / plan.inner;
      const int64_t col = plan.inner == 0 ? 0 : batch % plan.inner;
      int64_t offsets[2];
      plan.row_offsets(row, offsets);
      const int64_t ia = offsets[0] + col * plan.inner_stride[0];
      const int64_t ib = offsets[1] + col * plan.inner_stride[1];
      matrix_product<T>(m, n, k, a + ia * m * k, b + ib * k * n, c + batch * m * n);
    });
    return result;
  });
  if (linear) ctx.notify_linear_output(out);
  if (chain_done) return {chain_dims == out.dims() ? out : out.reshaped(chain_dims)};
  return {with_chain(ctx, std::move(out))};
}

// Gemm: Y = alpha * A' B' + beta * C, A' = transA ? A^T : A (2-D), C broadcast to [M, N].
std::vector<HostTensor> run_gemm(const KernelContext& ctx) {
  const HostTensor& a_in = ctx.input(0);
  const HostTensor& b_in = ctx.input(1);
  if (a_in.rank() != 2 || b_in.rank() != 2) ctx.fail("A and B must be matrices");
  if (a_in.dtype() != b_in.dtype()) ctx.fail("input dtypes differ");
  const bool ta = ctx.node().attr_int("transA", 0) != 0, tb = ctx.node().attr_int("transB", 0) != 0;
  const double alpha = ctx.node().attr_float("alpha", 1.0f), beta = ctx.node().attr_float("beta", 1.0f);
  const int64_t m = ta ? a_in.dims()[1] : a_in.dims()[0], k = ta ? a_in.dims()[0] : a_in.dims()[1];
  const int64_t n = tb ? b_in.dims()[0] : b_in.dims()[1];
  if ((tb ? b_in.dims()[1] : b_in.dims()[0]) != k) ctx.fail("cannot multiply " + describe(a_in) + " by " + describe(b_in));
  const bool linear = ctx.observed() && ctx.constant_input(1);
  if (linear) ctx.notify_linear_input(a_in);
  HostTensor out = dispatch_float(ctx, a_in.dtype(), [&](auto tag) {
    using T = decltype(tag);
    HostTensor y = HostTensor::empty(a_in.dtype(), {m, n});
    T* c = y.mutable_data<T>();
    gemm<T>(m, n, k, a_in.data<T>(), a_in.dims()[1], b_in.data<T>(), b_in.dims()[1], tb, c, n, false, ta);
    if (alpha != 1.0)
      for (int64_t i = 0; i < m * n; ++i) c[i] = static_cast<T>(c[i] * static_cast<T>(alpha));
    if (ctx.has_input(2) && beta != 0.0) {
      const HostTensor& bias = ctx.input(2);
      if (bias.dtype() != a_in.dtype()) ctx.fail("C has another dtype than A");
      const std::vector<int64_t> out_dims{m, n};
      const std::vector<int64_t>* shapes[] = {&out_dims, &bias.dims()};
      if (broadcast_shape(ctx, shapes) != out_dims) ctx.fail("C " + describe(bias) + " does not broadcast to [M,N]");
      const auto& d = bias.dims();
      const int64_t rows = d.size() == 2 ? d[0] : 1, cols = d.empty() ? 1 : d.back();
      const T* pc = bias.data<T>();
      for (int64_t i = 0; i < m; ++i)
        for (int64_t j = 0; j < n; ++j)
          c[i * n + j] += static_cast<T>(beta) * pc[(rows == 1 ? 0 : i) * cols + (cols == 1 ? 0 : j)];
    }
    return y;
  });
  if (linear) ctx.notify_linear_output(out);
  return {with_chain(ctx, std::move(out))};
}

}  // namespace

void register_matmul(OpRegistry& registry) {
  registry.add("", "MatMul", run_matmul);
  registry.add("", "Gemm", run_gemm);
  registry.add(chain::kDomain, "MatMul", run_matmul);
  registry.add(chain::kDomain, "Gemm", run_gemm);
}

}  // namespace edgec::runtime::detail
