#pragma once
// Row-major fp32/fp64 matrix products through Eigen, shared by MatMul, Gemm, Conv and the edgec ops.
#include <cstdint>

namespace edgec::runtime::detail {

// C[m x n] = A[m x k] * B[k x n] (+ C when accumulate), all row-major with the given leading dimensions.
// `b_transposed`: B is stored as [n x k]. Large products are split into fixed tiles run in parallel
// on the current thread pool (edgec/core/parallel.hpp); the result is bit-identical at any thread count.
template <class T>
void gemm(int64_t m, int64_t n, int64_t k, const T* a, int64_t lda, const T* b, int64_t ldb, bool b_transposed,
          T* c, int64_t ldc, bool accumulate = false, bool a_transposed = false);

}  // namespace edgec::runtime::detail
