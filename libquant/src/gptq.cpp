// GPTQ, Frantar et al. 2022, "GPTQ: Accurate Post-Training Quantization for Generative Pre-trained
// Transformers" (Algorithm 1; reference code gptq.py). For a layer with input Hessian H = 2 X X^T:
//   1. dead inputs (H_ii = 0) get H_ii = 1 and W[:, i] = 0;
//   2. act-order: permute columns by decreasing H_ii; group parameters are then fixed up front from the
//      original columns of each group ("static groups"), so groups stay those of the packed layout;
//   3. H += lambda I with lambda = percdamp * mean(diag H);
//   4. U = upper Cholesky factor of H^-1 (H^-1 = U^T U);
//   5. for each column j in blocks of B: q_j = quant(w_j), err_j = (w_j - q_j) / U_jj,
//      w_{j+1..} -= err_j U_{j, j+1..} inside the block; after the block, the remaining columns receive the
//      whole block's update at once, W[:, end:] -= Err U[block, end:] (lazy batch updates).
// Without act-order, a group's parameters are fitted when its first column is reached, from the already
// updated weights (the reference fits from the pre-block copy; the updated values are the ones rounded).
// With the clip search on (RtnOptions::mse_clip), a candidate range's error sums each column's squared rounding
// error times H_ii: the diagonal of the layer's output error (w - q)^T H (w - q), where the reference sums plain
// squared weight errors.
#include "edgec/quant/gptq.hpp"

#include <Eigen/Dense>
#include <algorithm>
#include <numeric>
#include <string>

#include "edgec/core/error.hpp"
#include "edgec/core/parallel.hpp"

namespace edgec::quant {

namespace {

using MatrixD = Eigen::Matrix<double, Eigen::Dynamic, Eigen::Dynamic>;
using RowsD = Eigen::Matrix<double, Eigen::Dynamic, Eigen::Dynamic, Eigen::RowMajor>;

// Rows per independent work item; fixed so the arithmetic does not depend on the thread count.
constexpr int64_t kRowChunk = 64;

MatrixD upper_cholesky_of_inverse(MatrixD h, double percdamp, const std::string& where, GptqReport& report) {
  const int64_t k = h.rows();
  double damp = percdamp * h.diagonal().mean();
  if (!(damp > 0.0)) damp = 1e-8;
  for (int attempt = 0; attempt < 6; ++attempt, damp *= 10.0) {
    MatrixD damped = h;
    damped.diagonal().array() += damp;
    Eigen::LLT<MatrixD> llt(damped);
    if (llt.info() != Eigen::Success) continue;
    const MatrixD inverse = llt.solve(MatrixD::Identity(k, k));
    Eigen::LLT<MatrixD> inverse_llt(inverse);
    if (inverse_llt.info() != Eigen::Success) continue;
    report.damp = damp;
    return inverse_llt.matrixU();
  }
  throw Error(ErrorCategory::input, where + ": GPTQ: the calibration Hessian is not positive definite even with "
                                            "dampening " + std::to_string(damp) + " (too few or degenerate calibration tokens?)");
}

}  // namespace

QuantizedWeight quantize_gptq(const float* weight, int64_t n, int64_t k, const calibration::Hessian& hessian, const WeightScheme& scheme,
                              const GptqOptions& options, const std::string& where, GptqReport* report_out) {
  if (hessian.in_features() != k)
    throw Error(ErrorCategory::internal, where + ": Hessian of " + std::to_string(hessian.in_features()) +
                                             " inputs for a weight of " + std::to_string(k));
  if (hessian.tokens() == 0) throw Error(ErrorCategory::input, where + ": GPTQ needs calibration tokens, the layer saw none");
  GptqReport report;
  QuantizedWeight out = make_quantized_weight(scheme, n, k);
  const int64_t group = out.layout.group_size;
  const int max_code = out.layout.max_code();

  const std::vector<double> h_values = hessian.matrix();
  MatrixD h = Eigen::Map<const MatrixD>(h_values.data(), k, k);
  RowsD w = Eigen::Map<const Eigen::Matrix<float, Eigen::Dynamic, Eigen::Dynamic, Eigen::RowMajor>>(weight, n, k).cast<double>();
  for (int64_t i = 0; i < k; ++i)
    if (h(i, i) == 0.0) {
      h(i, i) = 1.0;
      w.col(i).setZero();
      ++report.dead_columns;
    }

  // diag(H) per original column, for a clip search that weighs each column's rounding error by its input energy.
  std::vector<double> diagonal(static_cast<size_t>(k));
  for (int64_t i = 0; i < k; ++i) diagonal[static_cast<size_t>(i)] = h(i, i);
  const auto clip_weights = [&](int64_t first_column) -> const double* {
    return options.hessian_clip ? diagonal.data() + first_column : nullptr;
  };

  std::vector<int64_t> order(static_cast<size_t>(k));
  std::iota(order.begin(), order.end(), 0);
  if (options.act_order)
    std::stable_sort(order.begin(), order.end(), [&](int64_t a, int64_t b) { return h(a, a) > h(b, b); });
  // Static groups: every group's parameters from the original (dead-zeroed) weights, before any update.
  if (options.act_order) {
    std::vector<float> values(static_cast<size_t>(group));
    for (int64_t row = 0; row < n; ++row)
      for (int64_t g = 0; g < out.layout.groups(); ++g) {
        const int64_t begin = g * group, count = std::min(group, k - begin);
        for (int64_t i = 0; i < count; ++i) values[static_cast<size_t>(i)] = static_cast<float>(w(row, begin + i));
        out.param(row, g) = fit_group_searched(values.data(), count, scheme, options.group_fit, clip_weights(begin));
      }
  }
  MatrixD permuted_h(k, k);
  RowsD permuted_w(n, k);
  for (int64_t i = 0; i < k; ++i) {
    permuted_w.col(i) = w.col(order[static_cast<size_t>(i)]);
    for (int64_t j = 0; j < k; ++j) permuted_h(i, j) = h(order[static_cast<size_t>(i)], order[static_cast<size_t>(j)]);
  }
  const MatrixD u = upper_cholesky_of_inverse(std::move(permuted_h), options.percdamp, where, report);
  const int64_t block = std::max<int64_t>(1, options.block_size);
  const int64_t chunks = (n + kRowChunk - 1) / kRowChunk;

  edgec::parallel_for(chunks, 1, [&](int64_t chunk) {
    const int64_t row0 = chunk * kRowChunk, rows = std::min(kRowChunk, n - row0);
    RowsD wc = permuted_w.middleRows(row0, rows);
    RowsD errors(rows, block);
    std::vector<float> values(static_cast<size_t>(group));
    for (int64_t start = 0; start < k; start += block) {
      const int64_t end = std::min(start + block, k), width = end - start;
      for (int64_t j = start; j < end; ++j) {
        const int64_t column = order[static_cast<size_t>(j)];
        const int64_t g = column / group;
        if (!options.act_order && column % group == 0) {  // fit the group from the updated weights
          const int64_t count = std::min(group, k - column);
          for (int64_t r = 0; r < rows; ++r) {
            for (int64_t i = 0; i < count; ++i) values[static_cast<size_t>(i)] = static_cast<float>(wc(r, j + i));
            out.param(row0 + r, g) = fit_group_searched(values.data(), count, scheme, options.group_fit, clip_weights(column));
          }
        }
        const double pivot = u(j, j);
        for (int64_t r = 0; r < rows; ++r) {
          const GroupParams params = out.param(row0 + r, g);
          const int code = quantize_value(static_cast<float>(wc(r, j)), params, max_code);
          out.codes[static_cast<size_t>((row0 + r) * k + column)] = static_cast<uint8_t>(code);
          errors(r, j - start) = (wc(r, j) - static_cast<double>(dequantize_code(code, params))) / pivot;
        }
        if (j + 1 < end)
          wc.middleCols(j + 1, end - j - 1).noalias() -= errors.col(j - start) * u.row(j).segment(j + 1, end - j - 1);
      }
      if (end < k) wc.rightCols(k - end).noalias() -= errors.leftCols(width) * u.block(start, end, width, k - end);
    }
  });
  if (report_out) *report_out = report;
  return out;
}

}  // namespace edgec::quant
