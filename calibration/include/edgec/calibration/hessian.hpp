#pragma once
// GPTQ's layer Hessian H = 2/T * sum_t x_t x_t^T over the T calibration tokens a Linear sees (its input
// rows), accumulated in double, in the order rows arrive (callers feed samples in a fixed order, so the
// result does not depend on the thread count).
#include <cstdint>
#include <vector>

namespace edgec::calibration {

class Hessian {
 public:
  explicit Hessian(int64_t in_features);

  // Adds `rows` input rows x [rows, in_features] (row-major f32).
  void add(const float* x, int64_t rows);

  int64_t in_features() const { return k_; }
  int64_t tokens() const { return tokens_; }
  // H = 2/T * X^T X as a full symmetric [K, K] row-major matrix (zeros when no token was added).
  std::vector<double> matrix() const;

  // ||(W - W_hat) X||^2 / T, the mean per-token squared output error of a weight change, from H alone:
  // trace(D H D^T) / 2 with D = W - W_hat [n, K].
  // `row_weights` (optional, n values) weighs each output channel's error: a layer whose output channel r was
  // divided by s_r (it absorbed a scaling) reports its error in the original units with weights s_r^2.
  double output_error(const float* weight, const float* approx, int64_t n, const std::vector<double>* row_weights = nullptr) const;

 private:
  int64_t k_;
  int64_t tokens_ = 0;
  std::vector<double> sum_;  // X^T X, lower triangle valid, [K, K] column-major (Eigen's default)
};

}  // namespace edgec::calibration
