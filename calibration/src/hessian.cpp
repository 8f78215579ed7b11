#include "edgec/calibration/hessian.hpp"

#include <Eigen/Dense>

namespace edgec::calibration {

namespace {
using MatrixD = Eigen::Matrix<double, Eigen::Dynamic, Eigen::Dynamic>;
using RowsF = Eigen::Matrix<float, Eigen::Dynamic, Eigen::Dynamic, Eigen::RowMajor>;
}  // namespace

Hessian::Hessian(int64_t in_features) : k_(in_features), sum_(static_cast<size_t>(in_features * in_features), 0.0) {}

void Hessian::add(const float* x, int64_t rows) {
  if (rows <= 0) return;
  Eigen::Map<MatrixD> sum(sum_.data(), k_, k_);
  const Eigen::Map<const RowsF> input(x, rows, k_);
  // In chunks, so the double copy of the rows stays small whatever the sample length.
  constexpr int64_t kChunk = 256;
  for (int64_t start = 0; start < rows; start += kChunk) {
    const int64_t count = std::min(kChunk, rows - start);
    const MatrixD chunk = input.middleRows(start, count).cast<double>().transpose();  // [K, count]
    sum.selfadjointView<Eigen::Lower>().rankUpdate(chunk);
  }
  tokens_ += rows;
}

std::vector<double> Hessian::matrix() const {
  std::vector<double> out(static_cast<size_t>(k_ * k_), 0.0);
  if (tokens_ == 0) return out;
  const Eigen::Map<const MatrixD> sum(sum_.data(), k_, k_);
  Eigen::Map<MatrixD> h(out.data(), k_, k_);
  h = sum.selfadjointView<Eigen::Lower>();
  h *= 2.0 / static_cast<double>(tokens_);
  return out;  // symmetric, so row- and column-major agree
}

double Hessian::output_error(const float* weight, const float* approx, int64_t n, const std::vector<double>* row_weights) const {
  if (tokens_ == 0) return 0.0;
  const Eigen::Map<const MatrixD> sum(sum_.data(), k_, k_);
  const Eigen::Map<const RowsF> w(weight, n, k_), w_hat(approx, n, k_);
  const MatrixD diff = (w - w_hat).cast<double>();  // [n, K]
  const MatrixD projected = diff * sum.selfadjointView<Eigen::Lower>();
  Eigen::VectorXd per_row = projected.cwiseProduct(diff).rowwise().sum();
  if (row_weights) per_row = per_row.cwiseProduct(Eigen::Map<const Eigen::VectorXd>(row_weights->data(), n));
  return per_row.sum() / static_cast<double>(tokens_);
}

}  // namespace edgec::calibration
