// Eigen products on a fixed partition of the output. Eigen is built without its own threading
// (EIGEN_DONT_PARALLELIZE, runtime/CMakeLists.txt) because its multi-threaded GEMM picks the k-blocking
// from the thread count, which changes the last bits. Here the output is cut into tiles whose size depends
// only on (m, n, k); each tile is one single-threaded Eigen product, and the thread pool only decides which thread
// computes which tile. So every element is summed in the same order at any thread count: bit-identical.
#include "kernels/gemm.hpp"

#include <algorithm>

#include <Eigen/Core>

#include "edgec/core/parallel.hpp"
#include "kernels/cpu_isa.hpp"
#include "kernels/sgemm.hpp"

#ifndef EIGEN_DONT_PARALLELIZE
#error "gemm.cpp relies on Eigen being single-threaded (EIGEN_DONT_PARALLELIZE)"
#endif

namespace edgec::runtime::detail {
namespace {

// Tile sizes: large enough that Eigen's packing is amortised, small enough to give two threads work.
constexpr int64_t kTileRows = 128;
constexpr int64_t kTileCols = 512;
// Below this many multiply-adds one product is cheaper than a parallel region.
constexpr int64_t kParallelMacs = int64_t{1} << 18;

template <class T>
void gemm_tile(int64_t m, int64_t n, int64_t k, const T* a, int64_t lda, const T* b, int64_t ldb, bool b_transposed,
               T* c, int64_t ldc, bool accumulate, bool a_transposed) {
  using Matrix = Eigen::Matrix<T, Eigen::Dynamic, Eigen::Dynamic, Eigen::RowMajor>;
  using Stride = Eigen::OuterStride<>;
  using ConstMap = Eigen::Map<const Matrix, Eigen::Unaligned, Stride>;
  Eigen::Map<Matrix, Eigen::Unaligned, Stride> out(c, m, n, Stride(ldc));
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

}  // namespace

// f32 on a SIMD path: edgec's own kernels (sgemm.hpp). A product with B stored transposed and fewer rows than
// columns (a linear layer: activations x W^T) runs as C^T = B A^T, so the large operand is read in its stored order.
bool sgemm_f32(int64_t m, int64_t n, int64_t k, const float* a, int64_t lda, const float* b, int64_t ldb, bool b_transposed,
               float* c, int64_t ldc, bool accumulate, bool a_transposed) {
  const Isa isa = isa_limit();
  if (isa == Isa::portable) return false;
  sgemm::Output out;
  out.c = c;
  out.ldc = ldc;
  out.accumulate = accumulate;
  if (!a_transposed && b_transposed && m < n) {
    out.transposed = true;
    sgemm::multiply(n, m, k, sgemm::F32Rows(b, ldb), sgemm::F32ColsTransposed(a, lda), out, isa);
    return true;
  }
  const sgemm::F32Rows rows(a, lda);
  const sgemm::F32RowsTransposed rows_t(a, lda);
  const sgemm::F32Cols cols(b, ldb);
  const sgemm::F32ColsTransposed cols_t(b, ldb);
  sgemm::multiply(m, n, k, a_transposed ? static_cast<const sgemm::RowOperand&>(rows_t) : rows,
                  b_transposed ? static_cast<const sgemm::ColOperand&>(cols_t) : cols, out, isa);
  return true;
}

template <class T>
void gemm(int64_t m, int64_t n, int64_t k, const T* a, int64_t lda, const T* b, int64_t ldb, bool b_transposed,
          T* c, int64_t ldc, bool accumulate, bool a_transposed) {
  if (m == 0 || n == 0) return;
  if constexpr (std::is_same_v<T, float>) {
    if (sgemm_f32(m, n, k, a, lda, b, ldb, b_transposed, c, ldc, accumulate, a_transposed)) return;
  }
  if (k == 0) {
    if (!accumulate)
      for (int64_t i = 0; i < m; ++i) std::fill(c + i * ldc, c + i * ldc + n, T{0});
    return;
  }
  const int64_t row_tiles = (m + kTileRows - 1) / kTileRows;
  const int64_t col_tiles = (n + kTileCols - 1) / kTileCols;
  const int64_t tiles = row_tiles * col_tiles;
  if (tiles == 1 || m * n * k < kParallelMacs) {
    // The partition depends on the shape only; small products are one tile whatever the thread count.
    gemm_tile(m, n, k, a, lda, b, ldb, b_transposed, c, ldc, accumulate, a_transposed);
    return;
  }
  parallel_chunks(tiles, 1, [&](int64_t first, int64_t last, int) {
    for (int64_t t = first; t < last; ++t) {
      const int64_t r0 = (t / col_tiles) * kTileRows, c0 = (t % col_tiles) * kTileCols;
      const int64_t rows = std::min(kTileRows, m - r0), cols = std::min(kTileCols, n - c0);
      // Row r0 of A is row r0 of the stored matrix, or column r0 when A is stored transposed; likewise for B.
      const T* a_tile = a_transposed ? a + r0 : a + r0 * lda;
      const T* b_tile = b_transposed ? b + c0 * ldb : b + c0;
      gemm_tile(rows, cols, k, a_tile, lda, b_tile, ldb, b_transposed, c + r0 * ldc + c0, ldc, accumulate, a_transposed);
    }
  });
}

template void gemm<float>(int64_t, int64_t, int64_t, const float*, int64_t, const float*, int64_t, bool, float*,
                          int64_t, bool, bool);
template void gemm<double>(int64_t, int64_t, int64_t, const double*, int64_t, const double*, int64_t, bool, double*,
                           int64_t, bool, bool);

}  // namespace edgec::runtime::detail
