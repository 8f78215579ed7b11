// edgec-conformance: runs ONNX's node conformance cases through the reference executor.
//   edgec-conformance                        summary + failed cases on stdout
//   edgec-conformance --write docs/operators.md
//   edgec-conformance --json                 machine-readable results
//   edgec-conformance --claimed-only         only cases whose ops all have kernels; exit 1 on any failure
#include <CLI/CLI.hpp>

#include <fstream>
#include <iostream>

#include "edgec/core/error.hpp"
#include "edgec/runtime/op_registry.hpp"
#include "runner.hpp"

namespace {

void write_file(const std::filesystem::path& path, const std::string& text) {
  // Temporary file, then rename: an interrupted run never leaves half a table behind.
  const std::filesystem::path tmp = path.string() + ".tmp";
  {
    std::ofstream out(tmp, std::ios::binary | std::ios::trunc);
    out << text;
    if (!out.flush()) throw edgec::Error(edgec::ErrorCategory::input, tmp.string() + ": cannot write");
  }
  std::filesystem::rename(tmp, path);
}

}  // namespace

int main(int argc, char** argv) {
  CLI::App app{"Run ONNX node conformance cases through edgec's reference executor"};
  edgec::conformance::RunOptions options;
  options.data = "/usr/share/libonnx-testdata/data/node";
  std::string write;
  bool json = false;
  bool verbose = false;
  app.add_option("--data", options.data, "folder holding the test_*/ case folders")->capture_default_str();
  app.add_option("--write", write, "write the markdown table (docs/operators.md)");
  app.add_flag("--json", json, "print the results as JSON");
  app.add_flag("--claimed-only", options.claimed_only, "run only cases whose ops all have kernels");
  app.add_option("--filter", options.filter, "run only cases whose name contains this");
  app.add_flag("-v,--verbose", verbose, "list every case with its outcome");
  CLI11_PARSE(app, argc, argv);
  if (!write.empty() && (options.claimed_only || !options.filter.empty())) {
    std::cerr << "edgec-conformance: --write needs every case (no --claimed-only, no --filter)\n";
    return 2;
  }
  try {
    const auto registry = edgec::runtime::make_default_registry();
    const auto results = edgec::conformance::run_conformance(options, registry);
    if (!write.empty()) write_file(write, edgec::conformance::render_markdown(results, registry.ops()));
    int passed = 0, failed = 0, unsupported = 0, value_types = 0;
    for (const auto& r : results) {
      passed += r.outcome == edgec::conformance::Outcome::passed;
      failed += r.outcome == edgec::conformance::Outcome::failed;
      unsupported += r.outcome == edgec::conformance::Outcome::unsupported;
      value_types += r.value_types;
    }
    if (json) {
      std::cout << edgec::conformance::render_json(results);
    } else {
      for (const auto& r : results)
        if (verbose || r.outcome == edgec::conformance::Outcome::failed)
          std::cout << edgec::conformance::outcome_name(r.outcome) << "  " << r.name << " (" << r.row() << ")"
                    << (r.message.empty() ? "" : ": " + r.message) << "\n";
      std::cout << results.size() << " cases: " << passed << " passed, " << failed << " failed, " << unsupported
                << " unsupported (" << value_types << " of them for string or sequence/optional values)\n";
    }
    // A failed case is always one whose ops all have kernels: a claimed op giving a wrong answer.
    return failed > 0 ? 1 : 0;
  } catch (const edgec::Error& e) {
    std::cerr << "edgec-conformance: " << e.what() << "\n";
    return edgec::exit_code(e.category());
  } catch (const std::exception& e) {
    std::cerr << "edgec-conformance: internal error: " << e.what() << "\n";
    return 1;
  }
}
