#include "edgec/report/output_error.hpp"

#include <cmath>
#include <limits>
#include <string>

#include "edgec/core/error.hpp"

namespace edgec::report {

void OutputErrorAccumulator::add(std::span<const float> reference, std::span<const float> compiled) {
  if (reference.size() != compiled.size())
    throw Error(ErrorCategory::internal, "output_error: reference has " + std::to_string(reference.size()) +
                                             " values but compiled has " + std::to_string(compiled.size()));
  for (size_t i = 0; i < reference.size(); ++i) {
    const double y = reference[i];
    const double y_hat = compiled[i];
    if (!std::isfinite(y) || !std::isfinite(y_hat)) {
      non_finite_ = true;
      continue;
    }
    const double diff = y - y_hat;
    reference_energy_ += y * y;
    compiled_energy_ += y_hat * y_hat;
    error_energy_ += diff * diff;
    dot_ += y * y_hat;
  }
  count_ += static_cast<int64_t>(reference.size());
}

OutputError OutputErrorAccumulator::result() const {
  constexpr double inf = std::numeric_limits<double>::infinity();
  if (non_finite_) return {inf, std::numeric_limits<double>::quiet_NaN(), -inf};
  // Exactly equal outputs: no error at all, whatever their energy (an all-zero output included).
  if (error_energy_ == 0.0) return {0.0, 1.0, inf};
  if (reference_energy_ == 0.0) return {inf, 0.0, -inf};
  OutputError out;
  out.relative_mse = error_energy_ / reference_energy_;
  out.snr_db = 10.0 * std::log10(reference_energy_ / error_energy_);
  out.cosine = compiled_energy_ == 0.0 ? 0.0 : dot_ / std::sqrt(reference_energy_ * compiled_energy_);
  return out;
}

OutputError output_error(std::span<const float> reference, std::span<const float> compiled) {
  OutputErrorAccumulator accumulator;
  accumulator.add(reference, compiled);
  return accumulator.result();
}

}  // namespace edgec::report
