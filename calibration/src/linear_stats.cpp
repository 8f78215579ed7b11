#include "edgec/calibration/linear_stats.hpp"

#include <algorithm>
#include <cmath>
#include <utility>

#include "edgec/core/error.hpp"

namespace edgec::calibration {

double LinearStats::abs_max_overall() const {
  double best = 0.0;
  for (double value : abs_max) best = std::max(best, value);
  return best;
}

LinearStatsCollector::LinearStatsCollector(std::map<std::string, StatsRequest> requests) : requests_(std::move(requests)) {}

void LinearStatsCollector::linear_input(const Node& node, const runtime::HostTensor& input) {
  if (node.outputs.empty()) return;
  const auto request = requests_.find(node.outputs.front());
  if (request == requests_.end()) return;
  if (input.dtype() != DType::f32 || input.rank() < 1)
    throw Error(ErrorCategory::input, "calibration: layer '" + node.outputs.front() + "' input is not f32 [..., features]");
  const int64_t k = input.dims().back();
  const int64_t rows = k == 0 ? 0 : input.elements() / k;
  const StatsRequest& want = request->second;
  LinearStats& stats = stats_[request->first];
  if (stats.in_features == 0) {
    stats.in_features = k;
    if (want.hessian) stats.hessian.emplace(k);
    if (want.channel_ranges) {
      stats.abs_max.assign(static_cast<size_t>(k), 0.0);
      stats.abs_sum.assign(static_cast<size_t>(k), 0.0);
    }
  } else if (stats.in_features != k) {
    throw Error(ErrorCategory::input, "calibration: layer '" + request->first + "' saw inputs of " + std::to_string(stats.in_features) +
                                          " and " + std::to_string(k) + " features");
  }
  const float* x = input.data<float>();
  for (int64_t i = 0; i < rows * k; ++i)
    if (!std::isfinite(x[i]))
      throw Error(ErrorCategory::input, "calibration: layer '" + request->first + "' input holds NaN or infinity (the model overflows on the calibration data)");
  if (stats.hessian) stats.hessian->add(x, rows);
  if (want.channel_ranges)
    for (int64_t r = 0; r < rows; ++r)
      for (int64_t c = 0; c < k; ++c) {
        const double value = std::fabs(static_cast<double>(x[r * k + c]));
        stats.abs_max[static_cast<size_t>(c)] = std::max(stats.abs_max[static_cast<size_t>(c)], value);
        stats.abs_sum[static_cast<size_t>(c)] += value;
      }
  if (want.keep_rows > 0) {
    const int64_t per_sample = (want.keep_rows + std::max<int64_t>(want.samples, 1) - 1) / std::max<int64_t>(want.samples, 1);
    const int64_t room = want.keep_rows - stats.kept_rows();
    const int64_t take = std::min({rows, per_sample, room});
    if (take > 0) {
      // Evenly spaced rows of this input, so long samples are not represented by their first tokens only.
      for (int64_t i = 0; i < take; ++i) {
        const int64_t r = i * rows / take;
        stats.rows.insert(stats.rows.end(), x + r * k, x + (r + 1) * k);
      }
    }
  }
  stats.tokens += rows;
}

const LinearStats& LinearStatsCollector::stats(const std::string& layer) const {
  const auto it = stats_.find(layer);
  if (it == stats_.end()) throw Error(ErrorCategory::internal, "calibration: no statistics for layer '" + layer + "' (it never ran)");
  return it->second;
}

LinearStats& LinearStatsCollector::stats(const std::string& layer) {
  return const_cast<LinearStats&>(std::as_const(*this).stats(layer));
}

}  // namespace edgec::calibration
