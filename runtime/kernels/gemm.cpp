#include "kernels/gemm.hpp"

#include <Eigen/Core>

namespace edgec::runtime::detail {

template <class T>
void gemm(int64_t m, int64_t n, int64_t k, const T* a, int64_t lda, const T* b, int64_t ldb, bool b_transposed,
          T* c, int64_t ldc, bool accumulate, bool a_transposed) {
  using Matrix = Eigen::Matrix<T, Eigen::Dynamic, Eigen::Dynamic, Eigen::RowMajor>;
  using Stride = Eigen::OuterStride<>;
  using ConstMap = Eigen::Map<const Matrix, Eigen::Unaligned, Stride>;
  Eigen::Map<Matrix, Eigen::Unaligned, Stride> out(c, m, n, Stride(ldc));
  if (m == 0 || n == 0) return;
  if (k == 0) {
    if (!accumulate) out.setZero();
    return;
  }
  // A transposed is stored [k x m]; B transposed is stored [n x k].
  const ConstMap am(a, a_transposed ? k : m, a_transposed ? m : k, Stride(lda));
  const ConstMap bm(b, b_transposed ? n : k, b_transposed ? k : n, Stride(ldb));
  auto product = [&](const auto& lhs, const auto& rhs) {
    if (accumulate) out.noalias() += lhs * rhs;
    else out.noalias() = lhs * rhs;
  };
  if (a_transposed && b_transposed) product(am.transpose(), bm.transpose());
  else if (a_transposed) product(am.transpose(), bm);
  else if (b_transposed) product(am, bm.transpose());
  else product(am, bm);
}

template void gemm<float>(int64_t, int64_t, int64_t, const float*, int64_t, const float*, int64_t, bool, float*,
                          int64_t, bool, bool);
template void gemm<double>(int64_t, int64_t, int64_t, const double*, int64_t, const double*, int64_t, bool, double*,
                           int64_t, bool, bool);

}  // namespace edgec::runtime::detail
