// ONNX node conformance: every case of every op the executor claims passes, an op without a kernel is an
// error naming the op and the node, and docs/operators.md is what edgec-conformance would write today.
#include <doctest/doctest.h>

#include <fstream>
#include <sstream>

#include "edgec/core/error.hpp"
#include "edgec/runtime/executor.hpp"
#include "runner.hpp"
#include "test_paths.hpp"

using namespace edgec;

namespace {

std::filesystem::path node_cases() {
  const auto data = test::onnx_testdata();
  return data.empty() ? data : data / "node";
}

std::string read_text(const std::filesystem::path& path) {
  std::ifstream in(path, std::ios::binary);
  std::ostringstream text;
  text << in.rdbuf();
  return text.str();
}

std::string executor_error(const Graph& graph) {
  try {
    const runtime::Executor executor(graph);
  } catch (const Error& e) {
    return e.what();
  }
  return {};
}

}  // namespace

TEST_CASE("every conformance case of every claimed op passes") {
  const auto data = node_cases();
  if (data.empty()) return;
  conformance::RunOptions options;
  options.data = data;
  options.claimed_only = true;
  const auto results = conformance::run_conformance(options, runtime::make_default_registry());
  int passed = 0;
  for (const auto& r : results) {
    INFO(r.name, " (", r.row(), "): ", r.message);
    CHECK(r.outcome != conformance::Outcome::failed);
    passed += r.outcome == conformance::Outcome::passed;
  }
  CHECK(passed > 300);  // the executor claims ~100 ops; a runner that silently runs nothing must not pass
}

TEST_CASE("an op without a kernel is an error naming the op and the node") {
  Graph graph;
  graph.name = "g";
  graph.inputs.push_back(ValueInfo{"x", {}});
  Node named{"n7", "NoSuchOp", "com.example", "", {"x"}, {"y"}, {}};
  Node unnamed{"", "AlsoMissing", "", "", {"y"}, {"z"}, {}};
  graph.nodes = {named, unnamed};
  graph.outputs.push_back(ValueInfo{"z", {}});
  const std::string message = executor_error(graph);
  CHECK(message.find("op 'NoSuchOp' (domain 'com.example') at node 'n7'") != std::string::npos);
  // ONNX nodes are often unnamed: the position and first output identify them.
  CHECK(message.find("op 'AlsoMissing' (domain '') at node #1 (output 'z')") != std::string::npos);

  // And in the conformance run: every case refused for a missing kernel says which op and node.
  const auto data = node_cases();
  if (data.empty()) return;
  conformance::RunOptions options;
  options.data = data;
  options.filter = "test_if";  // If has no kernel (control flow)
  const auto results = conformance::run_conformance(options, runtime::make_default_registry());
  REQUIRE(!results.empty());
  for (const auto& r : results) {
    if (r.claimed) continue;
    INFO(r.name, ": ", r.message);
    CHECK(r.outcome == conformance::Outcome::unsupported);
    if (r.message.rfind("import:", 0) == 0 || r.message.find("sequence/optional") != std::string::npos) continue;
    CHECK(r.message.find("op '") != std::string::npos);
    CHECK(r.message.find("at node ") != std::string::npos);
  }
}

TEST_CASE("docs/operators.md is up to date") {
  const auto data = node_cases();
  if (data.empty()) return;
  conformance::RunOptions options;
  options.data = data;
  const auto registry = runtime::make_default_registry();
  const auto results = conformance::run_conformance(options, registry);
  const std::string fresh = conformance::render_markdown(results, registry.ops());
  const auto committed_path = std::filesystem::path(EDGEC_SOURCE_DIR) / "docs" / "operators.md";
  const std::string committed = read_text(committed_path);
  if (fresh != committed) {
    // Leave the fresh table next to the build for a diff.
    const auto fresh_path = std::filesystem::path(EDGEC_BINARY_DIR) / "operators.md.fresh";
    std::ofstream(fresh_path, std::ios::binary) << fresh;
    FAIL_CHECK("docs/operators.md is out of date: run `edgec-conformance --write docs/operators.md` (fresh copy: "
               << fresh_path.string() << ")");
  }
  for (const auto& r : results) {
    INFO(r.name, " (", r.row(), "): ", r.message);
    CHECK(r.outcome != conformance::Outcome::failed);
  }
}

TEST_CASE("string and sequence/optional cases are counted as value types, not as refused op variants") {
  const auto data = node_cases();
  if (data.empty()) return;
  conformance::RunOptions options;
  options.data = data;
  options.filter = "test_cast";  // Cast and CastLike, STRING among the target types
  auto results = conformance::run_conformance(options, runtime::make_default_registry());
  options.filter = "test_identity";  // plain, sequence and optional values
  for (auto& r : conformance::run_conformance(options, runtime::make_default_registry())) results.push_back(std::move(r));
  int value_types = 0;
  for (const auto& r : results) {
    INFO(r.name, ": ", r.message);
    const bool strange = r.name.find("STRING") != std::string::npos || r.name == "test_identity_sequence" ||
                         r.name == "test_identity_opt";
    CHECK(r.value_types == strange);
    CHECK(r.outcome == (strange ? conformance::Outcome::unsupported : conformance::Outcome::passed));
    value_types += r.value_types;
  }
  CHECK(value_types == 8);
  for (const auto& row : conformance::summarize(results)) {
    INFO(row.op);
    CHECK(row.status() == "pass (tensors)");
    CHECK(row.unsupported == 0);
    CHECK(row.cases == row.passed + row.value_types);
  }
}
