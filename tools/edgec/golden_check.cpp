#include "golden_check.hpp"

#include <cmath>
#include <map>

#include "edgec/core/error.hpp"
#include "edgec/runtime/executor.hpp"

namespace edgec::cli {

namespace {

// Element values as doubles (integers and bools exactly up to 2^53).
std::vector<double> values_of(const runtime::HostTensor& tensor) {
  std::vector<double> out;
  if (dtype_is_float(tensor.dtype())) {
    for (const float v : tensor.to_f32()) out.push_back(v);
  } else {
    for (const int64_t v : tensor.to_i64()) out.push_back(static_cast<double>(v));
  }
  return out;
}

}  // namespace

std::vector<GoldenOutputCheck> check_golden(const Graph& graph, const std::vector<GoldenSample>& samples, const std::string& where) {
  std::vector<GoldenOutputCheck> checks;
  const runtime::Executor executor(graph);
  for (const GoldenSample& sample : samples) {
    std::map<std::string, runtime::HostTensor> inputs;
    for (const auto& [name, tensor] : sample.inputs) inputs.emplace(name, runtime::HostTensor::from_ir(tensor));
    runtime::RunOptions options;
    for (const auto& [name, tensor] : sample.outputs) options.outputs.push_back(name);
    const auto results = executor.run(inputs, options);
    for (const auto& [name, stored] : sample.outputs) {
      const std::string what = where + ": golden sample '" + sample.name + "' output '" + name + "'";
      const runtime::HostTensor expected_tensor = runtime::HostTensor::from_ir(stored);
      const auto found = results.find(name);
      if (found == results.end()) throw_input_error(what, "the graph did not produce it");
      const runtime::HostTensor& got_tensor = found->second;
      if (got_tensor.dims() != expected_tensor.dims() || got_tensor.dtype() != expected_tensor.dtype())
        throw_input_error(what, "the graph produced another shape or dtype than the one stored");
      GoldenOutputCheck check;
      check.sample = sample.name;
      check.output = name;
      check.dims = expected_tensor.dims();
      const auto bound = sample.tolerances.find(name);
      if (bound != sample.tolerances.end()) check.tolerance = bound->second;
      const std::vector<double> got = values_of(got_tensor), expected = values_of(expected_tensor);
      check.elements = static_cast<int64_t>(expected.size());
      double worst_excess = -1.0;
      for (size_t i = 0; i < expected.size(); ++i) {
        const double diff = std::fabs(got[i] - expected[i]);
        const bool both_nan = std::isnan(got[i]) && std::isnan(expected[i]);
        if (both_nan) continue;
        const double allowed = check.tolerance.abs + check.tolerance.rel * std::fabs(expected[i]);
        const double excess = std::isnan(diff) ? INFINITY : diff - allowed;
        if (!std::isnan(diff)) check.max_diff = std::max(check.max_diff, diff);
        if (excess > 0) {
          ++check.outside;
          if (excess > worst_excess) {
            worst_excess = excess;
            check.worst = static_cast<int64_t>(i);
            check.got = got[i];
            check.expected = expected[i];
          }
        }
      }
      checks.push_back(std::move(check));
    }
  }
  return checks;
}

}  // namespace edgec::cli
