// The per-layer output metrics (report/output_error.hpp): known values, every documented edge case, and
// accumulation over samples equal to one call over the concatenation.
#include <doctest/doctest.h>

#include <cmath>
#include <limits>
#include <vector>

#include "edgec/core/error.hpp"
#include "edgec/report/output_error.hpp"
#include "edgec/report/report.hpp"

using namespace edgec::report;

namespace {
constexpr double inf = std::numeric_limits<double>::infinity();
}

TEST_CASE("output_error: a uniformly scaled output has the textbook values") {
  const std::vector<float> y = {1.0f, -2.0f, 3.0f, 0.5f};
  std::vector<float> y_hat;
  for (float v : y) y_hat.push_back(0.9f * v);  // error = 0.1 y: relative MSE 0.01, SNR 20 dB, cosine 1
  const OutputError e = output_error(y, y_hat);
  CHECK(e.relative_mse == doctest::Approx(0.01).epsilon(1e-6));
  CHECK(e.snr_db == doctest::Approx(20.0).epsilon(1e-6));
  CHECK(e.cosine == doctest::Approx(1.0).epsilon(1e-12));
}

TEST_CASE("output_error: orthogonal and opposite outputs") {
  const OutputError orthogonal = output_error(std::vector<float>{1, 0}, std::vector<float>{0, 1});
  CHECK(orthogonal.cosine == doctest::Approx(0.0));
  CHECK(orthogonal.relative_mse == doctest::Approx(2.0));
  CHECK(orthogonal.snr_db == doctest::Approx(-10.0 * std::log10(2.0)));
  const OutputError opposite = output_error(std::vector<float>{1, 2}, std::vector<float>{-1, -2});
  CHECK(opposite.cosine == doctest::Approx(-1.0));
  CHECK(opposite.relative_mse == doctest::Approx(4.0));
}

TEST_CASE("output_error: the documented edge cases") {
  SUBCASE("identical outputs: relative MSE 0, cosine exactly 1, SNR +inf") {
    const std::vector<float> y = {0.1f, 0.2f, -0.3f};
    const OutputError e = output_error(y, y);
    CHECK(e.relative_mse == 0.0);
    CHECK(e.cosine == 1.0);
    CHECK(e.snr_db == inf);
  }
  SUBCASE("both all-zero counts as identical") {
    const std::vector<float> zeros(5, 0.0f);
    const OutputError e = output_error(zeros, zeros);
    CHECK(e.relative_mse == 0.0);
    CHECK(e.cosine == 1.0);
    CHECK(e.snr_db == inf);
  }
  SUBCASE("empty outputs count as identical") {
    const OutputError e = output_error(std::vector<float>{}, std::vector<float>{});
    CHECK(e.snr_db == inf);
  }
  SUBCASE("silent reference, non-zero compiled output") {
    const OutputError e = output_error(std::vector<float>{0, 0}, std::vector<float>{0, 1e-3f});
    CHECK(e.relative_mse == inf);
    CHECK(e.cosine == 0.0);
    CHECK(e.snr_db == -inf);
  }
  SUBCASE("silent compiled output") {
    const OutputError e = output_error(std::vector<float>{1, 2}, std::vector<float>{0, 0});
    CHECK(e.relative_mse == 1.0);
    CHECK(e.cosine == 0.0);
    CHECK(e.snr_db == 0.0);
  }
  SUBCASE("NaN or infinity in an output is unbounded error") {
    const OutputError e = output_error(std::vector<float>{1, 2}, std::vector<float>{1, std::nanf("")});
    CHECK(e.relative_mse == inf);
    CHECK(std::isnan(e.cosine));
    CHECK(e.snr_db == -inf);
    const OutputError f = output_error(std::vector<float>{std::numeric_limits<float>::infinity(), 2}, std::vector<float>{1, 2});
    CHECK(f.snr_db == -inf);
  }
  SUBCASE("different lengths are a caller bug") {
    CHECK_THROWS_AS(output_error(std::vector<float>{1, 2}, std::vector<float>{1}), edgec::Error);
  }
}

TEST_CASE("output_error: accumulating samples equals one call over the concatenation") {
  std::vector<float> y, y_hat;
  OutputErrorAccumulator accumulator;
  for (int sample = 0; sample < 7; ++sample) {
    std::vector<float> a, b;
    for (int i = 0; i < 33; ++i) {
      a.push_back(std::sin(0.37f * static_cast<float>(sample * 33 + i)));
      b.push_back(a.back() + 0.01f * std::cos(1.3f * static_cast<float>(i + sample)));
    }
    accumulator.add(a, b);
    y.insert(y.end(), a.begin(), a.end());
    y_hat.insert(y_hat.end(), b.begin(), b.end());
  }
  const OutputError once = output_error(y, y_hat);
  const OutputError summed = accumulator.result();
  CHECK(accumulator.count() == 7 * 33);
  CHECK(summed.relative_mse == once.relative_mse);  // same order of additions: bit-identical
  CHECK(summed.cosine == once.cosine);
  CHECK(summed.snr_db == once.snr_db);
  CHECK(summed.snr_db == doctest::Approx(-10.0 * std::log10(summed.relative_mse)));
}

TEST_CASE("gates: comparison, NaN and the status they imply") {
  CHECK(gate_passes(GateOp::at_most, 60.0, 60.0));
  CHECK_FALSE(gate_passes(GateOp::at_most, 60.0, 60.01));
  CHECK(gate_passes(GateOp::at_least, 0.8, 0.9));
  CHECK_FALSE(gate_passes(GateOp::at_least, 0.8, std::nan("")));
  CHECK(status_of({}) == Status::passed);
  CHECK(status_of({make_gate("kl", GateOp::at_most, 0.2, 0.1)}) == Status::passed);
  CHECK(status_of({make_gate("kl", GateOp::at_most, 0.2, 0.1), make_gate("ppl", GateOp::at_most, 60, 61)}) == Status::failed);
  CHECK(gate_op_from_symbol(gate_op_symbol(GateOp::at_least)) == GateOp::at_least);
  CHECK_FALSE(gate_op_from_symbol("<").has_value());
  for (Component c : {Component::vision, Component::projector, Component::language, Component::other})
    CHECK(component_from_name(component_name(c)) == c);
  CHECK_FALSE(component_from_name("Vision").has_value());
}
