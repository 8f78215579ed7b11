#include "profile_report.hpp"

#include <cstdio>

namespace edgec::cli {
namespace {

double percent(double part, double whole) { return whole > 0 ? 100.0 * part / whole : 0.0; }

std::string fixed(double value, int decimals) {
  char text[48];
  std::snprintf(text, sizeof text, "%.*f", decimals, value);
  return text;
}

std::string padded(std::string text, size_t width, bool right) {
  if (text.size() >= width) return text;
  const std::string pad(width - text.size(), ' ');
  return right ? pad + text : text + pad;
}

}  // namespace

nlohmann::ordered_json profile_json(const runtime::Profile& profile) {
  const double kernels = profile.kernel_ms();
  nlohmann::ordered_json ops = nlohmann::ordered_json::array(), nodes = nlohmann::ordered_json::array();
  for (const auto& op : profile.ops())
    ops.push_back({{"op", op.op}, {"calls", op.calls}, {"nodes", op.nodes}, {"ms", op.ms}, {"percent", percent(op.ms, kernels)}});
  for (const auto& node : profile.nodes())
    nodes.push_back({{"node", node.node}, {"op", node.op}, {"calls", node.calls}, {"ms", node.ms}, {"percent", percent(node.ms, kernels)}});
  return {{"runs", profile.runs()}, {"run_ms", profile.run_ms()}, {"kernel_ms", kernels}, {"ops", ops}, {"nodes", nodes}};
}

void print_profile(std::ostream& out, const std::string& title, const runtime::Profile& profile, size_t top_nodes) {
  const double kernels = profile.kernel_ms();
  out << title << ": " << profile.runs() << (profile.runs() == 1 ? " run, " : " runs, ") << fixed(profile.run_ms(), 2)
      << " ms in all, " << fixed(kernels, 2) << " ms in kernels\n";
  out << "  " << padded("op", 28, false) << padded("nodes", 7, true) << padded("calls", 9, true) << padded("ms", 12, true)
      << padded("%", 8, true) << "\n";
  for (const auto& op : profile.ops())
    out << "  " << padded(op.op, 28, false) << padded(std::to_string(op.nodes), 7, true) << padded(std::to_string(op.calls), 9, true)
        << padded(fixed(op.ms, 3), 12, true) << padded(fixed(percent(op.ms, kernels), 1), 8, true) << "\n";
  const auto nodes = profile.nodes();
  out << "  slowest nodes:\n";
  for (size_t i = 0; i < nodes.size() && i < top_nodes; ++i)
    out << "    " << padded(fixed(nodes[i].ms, 3), 10, true) << " ms " << padded(fixed(percent(nodes[i].ms, kernels), 1), 5, true)
        << "%  " << nodes[i].op << " " << nodes[i].node << " (" << nodes[i].calls << (nodes[i].calls == 1 ? " call)" : " calls)") << "\n";
}

}  // namespace edgec::cli
