#pragma once
// The ONNX node-conformance runner behind edgec-conformance and tests/conformance: runs every case folder
// (model.onnx + test_data_set_N/{input,output}_K.pb) through the reference executor, compares the outputs
// the way ONNX's backend tests do and summarises the results per op. No I/O besides reading the cases.
#include <filesystem>
#include <string>
#include <vector>

#include "edgec/runtime/op_registry.hpp"

namespace edgec::conformance {

// ONNX backend-test tolerances: |actual - expected| <= atol + rtol * |expected|.
inline constexpr double kRtol = 1e-3;
inline constexpr double kAtol = 1e-7;

// Cases that document a looser tolerance than ONNX's default, and why (listed in docs/operators.md).
struct CaseTolerance {
  std::string_view case_name;
  double rtol, atol;
  std::string_view reason;
};
const std::vector<CaseTolerance>& documented_tolerances();

enum class Outcome { passed, failed, unsupported };
std::string_view outcome_name(Outcome outcome);

struct CaseResult {
  std::string name;      // case folder, e.g. "test_abs"
  std::string op;        // the op under test, e.g. "Abs" ("ai.onnx.ml.X" outside the ONNX domain)
  bool expanded = false; // a function-body case (several nodes): reported as "Op (expanded)"
  bool claimed = false;  // every node of the graph has a kernel in the registry
  Outcome outcome = Outcome::unsupported;
  // Unsupported because a graph input or output is a value the executor does not represent: a string
  // tensor, or a sequence/optional/map (HostTensor holds numeric and bool tensors only). Reported apart
  // from refused op variants.
  bool value_types = false;
  std::string message;   // why it failed or is unsupported (one line)
  std::string row() const { return expanded ? op + " (expanded)" : op; }
};

struct RunOptions {
  std::filesystem::path data;   // folder holding the test_*/ case folders
  bool claimed_only = false;    // skip cases that use an op without a kernel
  std::string filter;           // run only cases whose name contains this
};

// Every case folder under options.data, sorted by name, run and classified.
std::vector<CaseResult> run_conformance(const RunOptions& options, const runtime::OpRegistry& registry);

// One table row: cases of one op (direct ones; function-body cases have their own "Op (expanded)" row).
struct OpSummary {
  std::string op;
  // Disjoint: cases = passed + failed + unsupported + value_types (unsupported excludes value_types).
  int cases = 0, passed = 0, failed = 0, unsupported = 0, value_types = 0;
  bool claimed = false;   // at least one case runs (every op of its graph has a kernel)
  // pass | pass (tensors) (every case passes but those with string or sequence/optional values) | partial |
  // FAIL | unsupported
  std::string status() const;
};
std::vector<OpSummary> summarize(const std::vector<CaseResult>& results);

// docs/operators.md and the --json report. Deterministic: sorted, no paths, times or machine details.
// `claimed_ops` (OpRegistry::ops()) lists the registered ops that no case exercises.
std::string render_markdown(const std::vector<CaseResult>& results, const std::vector<std::string>& claimed_ops);
std::string render_json(const std::vector<CaseResult>& results);

}  // namespace edgec::conformance
