#pragma once
// Statistics of the inputs of linear layers, collected through the executor's linear_input hook: what
// GPTQ (the Hessian), AWQ (mean |x| per channel and a sample of rows), SmoothQuant (max |x| per channel) and
// static activation quantization (max |x|) need. Layers are keyed by their node's first output name.
#include <cstdint>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "edgec/calibration/hessian.hpp"
#include "edgec/runtime/observer.hpp"

namespace edgec::calibration {

struct StatsRequest {
  bool hessian = false;
  bool channel_ranges = false;  // abs max and abs sum per input channel
  int64_t keep_rows = 0;        // keep up to this many input rows (the first rows of each sample, spread evenly)
  int64_t samples = 1;          // how many samples will be observed (to spread keep_rows over them)
};

struct LinearStats {
  int64_t in_features = 0;
  int64_t tokens = 0;
  std::optional<Hessian> hessian;
  std::vector<double> abs_max, abs_sum;  // per input channel
  std::vector<float> rows;               // kept rows, [rows.size() / in_features, in_features]
  int64_t kept_rows() const { return in_features ? static_cast<int64_t>(rows.size()) / in_features : 0; }
  double abs_max_overall() const;
};

class LinearStatsCollector : public runtime::Observer {
 public:
  // Collects for the nodes whose first output is a key of `requests`.
  explicit LinearStatsCollector(std::map<std::string, StatsRequest> requests);

  void linear_input(const Node& node, const runtime::HostTensor& input) override;

  // Statistics of a layer (throws Error(internal) when it was not requested).
  const LinearStats& stats(const std::string& layer) const;
  LinearStats& stats(const std::string& layer);

 private:
  std::map<std::string, StatsRequest> requests_;
  std::map<std::string, LinearStats> stats_;
};

}  // namespace edgec::calibration
