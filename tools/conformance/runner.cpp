// Runs ONNX node-conformance cases through the reference executor and classifies each case:
//   unsupported  the case cannot be run as a tensor graph (import error, sequence/optional values), a node has
//                no kernel, a kernel's static check rejects an attribute variant, or a kernel refuses an input
//                variant at run time with an error saying "not supported" (e.g. an f16 input to an f32-only
//                kernel): always an error naming the op and the node, never an answer. Unsupported cases
//                with a string or sequence/optional/map graph input or output are marked `value_types`;
//   failed       any other exception while running, or an output that differs (compare.hpp);
//   passed       every test_data_set_N matches.
// A case is attributed to the op it tests: the single node's op; for function-body cases ("*_expanded") the
// op of the case without "_expanded", reported as "Op (expanded)"; for other multi-node cases (a Constant
// feeding the op) the op the case name starts with.
#include "runner.hpp"

#include <algorithm>
#include <map>
#include <set>

#include "compare.hpp"
#include "edgec/core/error.hpp"
#include "edgec/formats/onnx.hpp"
#include "edgec/runtime/executor.hpp"

namespace edgec::conformance {
namespace fs = std::filesystem;
namespace {

struct Tolerance {
  double rtol = kRtol;
  double atol = kAtol;
};
Tolerance tolerance_for(const std::string& case_name) {
  for (const CaseTolerance& entry : documented_tolerances())
    if (entry.case_name == case_name) return {entry.rtol, entry.atol};
  return {};
}

std::string one_line(std::string text, const fs::path& data) {
  // Messages name files; keep them relative to the data folder so reports do not depend on where it lives.
  const std::string prefix = data.string() + "/";
  for (size_t at = text.find(prefix); at != std::string::npos; at = text.find(prefix, at)) text.erase(at, prefix.size());
  for (char& c : text)
    if (c == '\n' || c == '\r' || c == '\t' || c == '|') c = c == '|' ? '/' : ' ';
  return text;
}

bool has_suffix_expanded(const std::string& name) { return name.find("_expanded") != std::string::npos; }

std::string without_expanded(std::string name) {
  const size_t at = name.find("_expanded");
  if (at != std::string::npos) name.erase(at, std::string("_expanded").size());
  return name;
}

// Numbered files prefix_0.pb, prefix_1.pb, ... in index order (not name order: 10 sorts before 2).
std::vector<fs::path> numbered_files(const fs::path& dir, const std::string& prefix) {
  std::vector<fs::path> files;
  for (int i = 0;; ++i) {
    fs::path file = dir / (prefix + "_" + std::to_string(i) + ".pb");
    if (!fs::exists(file)) break;
    files.push_back(std::move(file));
  }
  return files;
}

std::vector<fs::path> data_sets(const fs::path& case_dir) {
  std::vector<fs::path> sets;
  for (const auto& entry : fs::directory_iterator(case_dir))
    if (entry.is_directory() && entry.path().filename().string().rfind("test_data_set_", 0) == 0)
      sets.push_back(entry.path());
  std::sort(sets.begin(), sets.end());
  return sets;
}

bool all_kernels_present(const Graph& graph, const runtime::OpRegistry& registry) {
  return std::all_of(graph.nodes.begin(), graph.nodes.end(),
                     [&](const Node& node) { return registry.find(node.domain, node.op) != nullptr; });
}

// A run-time refusal of an input variant ("dtype f16 is not supported (f32, f64)") is the kernel saying
// "unsupported" with the node named, not a wrong answer.
bool is_refusal(const std::string& message) { return message.find("not supported") != std::string::npos; }

// ONNX 1.12's test data stores bfloat16 tensors as uint16 bit patterns (test_cast_*BFLOAT16*): where the
// model declares bf16 and the file holds u16, the bits are taken as bf16. Anything else is left alone.
Tensor as_declared(Tensor tensor, const ValueInfo& declared) {
  if (declared.type.dtype != DType::bf16 || tensor.dtype() != DType::u16) return tensor;
  const auto bytes = tensor.bytes();
  return Tensor::owning(DType::bf16, tensor.dims(), std::vector<std::byte>(bytes.begin(), bytes.end()));
}

struct Loaded {
  Model model;
  std::string error;  // import failure
};

Loaded load(const fs::path& case_dir) {
  Loaded out;
  try {
    out.model = onnx_format::import_onnx_file(case_dir / "model.onnx");
  } catch (const std::exception& e) {
    out.error = e.what();
  }
  return out;
}

bool is_string_tensor(const ValueInfo& info) {
  return info.type.kind == ValueKind::tensor && info.type.dtype == DType::string;
}

bool has_string_value(const Graph& graph) {
  return std::any_of(graph.inputs.begin(), graph.inputs.end(), is_string_tensor) ||
         std::any_of(graph.outputs.begin(), graph.outputs.end(), is_string_tensor);
}

void run_one(const fs::path& case_dir, const Graph& graph, const std::shared_ptr<const runtime::OpRegistry>& shared,
             CaseResult& result) {
  for (const auto* list : {&graph.inputs, &graph.outputs})
    for (const ValueInfo& info : *list)
      if (info.type.kind != ValueKind::tensor && info.type.kind != ValueKind::unknown) {
        result.outcome = Outcome::unsupported;
        result.value_types = true;
        result.message = "value '" + info.name + "' is a sequence/optional/map, not a tensor";
        return;
      }
  std::unique_ptr<runtime::Executor> executor;
  try {
    executor = std::make_unique<runtime::Executor>(graph, shared);
  } catch (const std::exception& e) {
    result.outcome = Outcome::unsupported;
    result.message = e.what();
    return;
  }
  // Inputs in .pb order are the graph inputs that have no initializer default.
  std::vector<const ValueInfo*> inputs;
  for (const ValueInfo& info : graph.inputs)
    if (!graph.initializer(info.name)) inputs.push_back(&info);
  const Tolerance tol = tolerance_for(result.name);
  const auto sets = data_sets(case_dir);
  if (sets.empty()) {
    result.outcome = Outcome::unsupported;
    result.message = "no test_data_set_N folder";
    return;
  }
  for (const fs::path& set : sets) {
    const std::string where = set.filename().string() + ": ";
    std::map<std::string, runtime::HostTensor> feed;
    std::vector<Tensor> expected;
    try {
      const auto input_files = numbered_files(set, "input");
      if (input_files.size() > inputs.size())
        throw Error(ErrorCategory::input, std::to_string(input_files.size()) + " input files for " +
                                              std::to_string(inputs.size()) + " graph inputs");
      for (size_t i = 0; i < input_files.size(); ++i)
        feed[inputs[i]->name] =
            runtime::HostTensor::from_ir(as_declared(onnx_format::read_tensor_proto_file(input_files[i]), *inputs[i]));
      const auto output_files = numbered_files(set, "output");
      for (size_t i = 0; i < output_files.size(); ++i)
        expected.push_back(i < graph.outputs.size()
                               ? as_declared(onnx_format::read_tensor_proto_file(output_files[i]), graph.outputs[i])
                               : onnx_format::read_tensor_proto_file(output_files[i]));
    } catch (const std::exception& e) {
      result.outcome = Outcome::unsupported;
      result.message = where + e.what();
      return;
    }
    if (expected.size() != graph.outputs.size()) {
      result.outcome = Outcome::failed;
      result.message = where + std::to_string(expected.size()) + " expected outputs for " +
                       std::to_string(graph.outputs.size()) + " graph outputs";
      return;
    }
    std::map<std::string, runtime::HostTensor> outputs;
    try {
      outputs = executor->run(feed);
    } catch (const std::exception& e) {
      result.outcome = is_refusal(e.what()) ? Outcome::unsupported : Outcome::failed;
      result.message = where + e.what();
      return;
    }
    for (size_t i = 0; i < expected.size(); ++i) {
      const auto it = outputs.find(graph.outputs[i].name);
      const std::string diff = it == outputs.end() ? std::string("output not produced")
                                                   : compare_tensors(it->second, expected[i], tol.rtol, tol.atol);
      if (!diff.empty()) {
        result.outcome = Outcome::failed;
        result.message = where + "output '" + graph.outputs[i].name + "': " + diff;
        return;
      }
    }
  }
  result.outcome = Outcome::passed;
}

// The op a multi-node case tests: that of the case without "_expanded", else the longest op name (seen in
// single-node cases) that the case name starts with, else the first node's op.
std::string tested_op(const std::string& name, const Graph& graph, const std::map<std::string, std::string>& single_ops) {
  if (const auto it = single_ops.find(without_expanded(name)); it != single_ops.end()) return it->second;
  auto squash = [](std::string_view text) {
    std::string out;
    for (char c : text)
      if (c != '_') out += static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    return out;
  };
  const std::string key = squash(std::string_view(name).substr(5));  // drop "test_"
  std::string best;
  std::set<std::string> ops;
  for (const auto& [case_name, op] : single_ops) ops.insert(op);
  for (const std::string& op : ops) {
    const std::string short_op = squash(op.substr(op.rfind('.') == std::string::npos ? 0 : op.rfind('.') + 1));
    if (key.rfind(short_op, 0) == 0 && short_op.size() > best.size()) best = op;
  }
  if (!best.empty()) return best;
  return graph.nodes.empty() ? std::string("(empty graph)") : graph.nodes.front().qualified_op();
}

}  // namespace

const std::vector<CaseTolerance>& documented_tolerances() {
  // One bf16 ulp (2^-7 relative): ONNX 1.12's expected values truncate f32 to bf16, the executor rounds to
  // nearest even as ONNX >= 1.14's reference (and PyTorch) do.
  static const std::vector<CaseTolerance> table = [] {
    constexpr std::string_view reason = "ONNX 1.12's reference truncates f32 -> bf16; the executor rounds to nearest even";
    std::vector<CaseTolerance> entries;
    for (const std::string_view name : {"test_cast_FLOAT_to_BFLOAT16", "test_castlike_FLOAT_to_BFLOAT16",
                                        "test_castlike_FLOAT_to_BFLOAT16_expanded"})
      entries.push_back({name, 1.0 / 128, kAtol, reason});
    return entries;
  }();
  return table;
}

std::string_view outcome_name(Outcome outcome) {
  switch (outcome) {
    case Outcome::passed: return "passed";
    case Outcome::failed: return "failed";
    case Outcome::unsupported: return "unsupported";
  }
  return "?";
}

std::vector<CaseResult> run_conformance(const RunOptions& options, const runtime::OpRegistry& registry) {
  std::error_code ec;
  if (!fs::is_directory(options.data, ec))
    throw Error(ErrorCategory::input, options.data.string() + ": not a folder (expected ONNX node test cases)");
  std::vector<fs::path> dirs;
  for (const auto& entry : fs::directory_iterator(options.data))
    if (entry.is_directory() && entry.path().filename().string().rfind("test_", 0) == 0) dirs.push_back(entry.path());
  std::sort(dirs.begin(), dirs.end());

  // Every model is imported first: multi-node cases are attributed through their single-node siblings.
  std::vector<Loaded> models;
  models.reserve(dirs.size());
  std::map<std::string, std::string> single_ops;  // case name -> op, for single-node cases
  for (const fs::path& dir : dirs) {
    models.push_back(load(dir));
    const Loaded& loaded = models.back();
    if (loaded.error.empty() && !loaded.model.graphs.empty() && loaded.model.graphs.front().nodes.size() == 1 &&
        !has_suffix_expanded(dir.filename().string()))
      single_ops[dir.filename().string()] = loaded.model.graphs.front().nodes.front().qualified_op();
  }

  // Copies of the registry for the executors (they hold a shared_ptr); built once.
  const auto shared = std::make_shared<const runtime::OpRegistry>(registry);
  std::vector<CaseResult> results;
  for (size_t i = 0; i < dirs.size(); ++i) {
    CaseResult result;
    result.name = dirs[i].filename().string();
    if (!options.filter.empty() && result.name.find(options.filter) == std::string::npos) continue;
    const Loaded& loaded = models[i];
    if (!loaded.error.empty() || loaded.model.graphs.empty()) {
      const auto it = single_ops.find(without_expanded(result.name));
      result.op = it != single_ops.end() ? it->second : "(not importable)";
      result.expanded = has_suffix_expanded(result.name);
      result.outcome = Outcome::unsupported;
      result.message = "import: " + one_line(loaded.error, options.data);
      if (options.claimed_only) continue;
      results.push_back(std::move(result));
      continue;
    }
    const Graph& graph = loaded.model.graphs.front();
    // "*_expanded" cases are function bodies, even when the body is one node (CastLike -> Cast). Other
    // multi-node cases (a Constant feeding the op) test the op named by the case.
    result.expanded = has_suffix_expanded(result.name);
    result.op = graph.nodes.size() == 1 && !result.expanded ? graph.nodes.front().qualified_op()
                                                            : tested_op(result.name, graph, single_ops);
    result.claimed = all_kernels_present(graph, registry);
    if (options.claimed_only && !result.claimed) continue;
    run_one(dirs[i], graph, shared, result);
    // String tensors are refused wherever the executor meets them (a Cast target it cannot name, input
    // data it cannot hold): a limit of the value representation, whichever kernel reports it.
    if (result.outcome == Outcome::unsupported && has_string_value(graph)) result.value_types = true;
    result.message = one_line(result.message, options.data);
    results.push_back(std::move(result));
  }
  return results;
}

std::string OpSummary::status() const {
  if (failed > 0) return "FAIL";
  if (passed == cases) return "pass";
  if (passed > 0 && passed + value_types == cases) return "pass (tensors)";
  if (passed > 0) return "partial";
  return "unsupported";
}

std::vector<OpSummary> summarize(const std::vector<CaseResult>& results) {
  std::map<std::string, OpSummary> rows;
  for (const CaseResult& result : results) {
    OpSummary& row = rows[result.row()];
    row.op = result.row();
    ++row.cases;
    row.claimed = row.claimed || result.claimed;
    switch (result.outcome) {
      case Outcome::passed: ++row.passed; break;
      case Outcome::failed: ++row.failed; break;
      case Outcome::unsupported: ++(result.value_types ? row.value_types : row.unsupported); break;
    }
  }
  std::vector<OpSummary> out;
  for (auto& [name, row] : rows) out.push_back(std::move(row));
  return out;
}

}  // namespace edgec::conformance
