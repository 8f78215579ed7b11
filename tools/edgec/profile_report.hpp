#pragma once
// `edgec run --profile`: a runtime::Profile as a text table and as JSON (docs/cli.md, "Profile").
#include <nlohmann/json.hpp>
#include <ostream>
#include <string>

#include "edgec/runtime/profile.hpp"

namespace edgec::cli {

// {"runs", "run_ms", "kernel_ms", "ops": [{op, calls, nodes, ms, percent}], "nodes": [{node, op, calls, ms, percent}]};
// percent of the kernels' time, every op and every node, slowest first.
nlohmann::ordered_json profile_json(const runtime::Profile& profile);
// The ops table and the `top_nodes` slowest nodes, headed by `title`.
void print_profile(std::ostream& out, const std::string& title, const runtime::Profile& profile, size_t top_nodes = 15);

}  // namespace edgec::cli
