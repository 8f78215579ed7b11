#pragma once
// How far a compressed layer's output moved: relative MSE, cosine similarity and SNR between the reference
// output y and the compressed output y_hat, over all calibration samples flattened into one vector.
//
//   relative_mse = ||y - y_hat||^2 / ||y||^2
//   cosine       = <y, y_hat> / (||y|| ||y_hat||)
//   snr_db       = 10 log10(||y||^2 / ||y - y_hat||^2)   (= -10 log10(relative_mse))
//
// Edge cases, so every result is defined:
//   - identical outputs (including both all-zero): relative_mse 0, cosine 1, snr_db +inf;
//   - y all-zero but y_hat not: relative_mse +inf, cosine 0, snr_db -inf;
//   - y_hat all-zero but y not: relative_mse 1, cosine 0, snr_db 0;
//   - a NaN or infinity in either output counts as unbounded error: relative_mse +inf, cosine NaN,
//     snr_db -inf.
// JSON writes non-finite values as null; HTML prints "∞" / "−∞" (report_json.hpp, report_html.hpp).
#include <cstdint>
#include <limits>
#include <span>

namespace edgec::report {

struct OutputError {
  double relative_mse = 0.0;
  double cosine = 1.0;
  double snr_db = std::numeric_limits<double>::infinity();
};

// Accumulates the sums in double, in the order samples are added, so the result is deterministic for a
// given order. Add one sample (or one batch) at a time; the caller need not keep all outputs in memory.
class OutputErrorAccumulator {
 public:
  // Throws edgec::Error (internal) when the spans differ in length.
  void add(std::span<const float> reference, std::span<const float> compiled);
  OutputError result() const;
  int64_t count() const { return count_; }

 private:
  double reference_energy_ = 0.0;  // ||y||^2
  double compiled_energy_ = 0.0;   // ||y_hat||^2
  double error_energy_ = 0.0;      // ||y - y_hat||^2
  double dot_ = 0.0;               // <y, y_hat>
  int64_t count_ = 0;
  bool non_finite_ = false;
};

// One-shot form of the accumulator.
OutputError output_error(std::span<const float> reference, std::span<const float> compiled);

}  // namespace edgec::report
