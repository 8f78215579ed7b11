#pragma once
// Replays an artifact's golden samples (`edgec run ARTIFACT --golden`): runs the graph on each sample's inputs
// and compares every output with the one stored, within its tolerance: |got - expected| <= abs + rel * |expected|
// (no tolerance: exact; NaN matches NaN). This is the check an on-device runner repeats on the target.
#include <cstdint>
#include <string>
#include <vector>

#include "edgec/core/graph.hpp"
#include "edgec/formats/edgepack.hpp"

namespace edgec::cli {

struct GoldenOutputCheck {
  std::string sample, output;
  std::vector<int64_t> dims;
  int64_t elements = 0, outside = 0;  // elements beyond the tolerance
  double max_diff = 0.0;              // largest |got - expected|
  int64_t worst = -1;                 // index of the element furthest beyond its bound (-1: none)
  double got = 0.0, expected = 0.0;   // at `worst`
  GoldenTolerance tolerance;
  bool passed() const { return outside == 0; }
};

// One entry per (sample, output), in the artifact's order. Error(input) when a sample's output is missing or
// has another shape or dtype.
std::vector<GoldenOutputCheck> check_golden(const Graph& graph, const std::vector<GoldenSample>& samples, const std::string& where);

}  // namespace edgec::cli
