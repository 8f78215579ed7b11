#include "edgec/runtime/profile.hpp"

#include <algorithm>

namespace edgec::runtime {

void Profile::add_node(const std::string& label, const Node& node, double ms) {
  auto it = nodes_.find(label);
  if (it == nodes_.end()) it = nodes_.emplace(label, NodeTime{label, node.qualified_op(), 0, 0}).first;
  ++it->second.calls;
  it->second.ms += ms;
}

double Profile::kernel_ms() const {
  double total = 0;
  for (const auto& [label, time] : nodes_) total += time.ms;
  return total;
}

std::vector<NodeTime> Profile::nodes() const {
  std::vector<NodeTime> out;
  for (const auto& [label, time] : nodes_) out.push_back(time);
  std::stable_sort(out.begin(), out.end(), [](const NodeTime& a, const NodeTime& b) { return a.ms > b.ms; });
  return out;
}

std::vector<OpTime> Profile::ops() const {
  std::map<std::string, OpTime, std::less<>> by_op;
  for (const auto& [label, time] : nodes_) {
    OpTime& op = by_op[time.op];
    op.op = time.op;
    op.calls += time.calls;
    ++op.nodes;
    op.ms += time.ms;
  }
  std::vector<OpTime> out;
  for (const auto& [name, op] : by_op) out.push_back(op);
  std::stable_sort(out.begin(), out.end(), [](const OpTime& a, const OpTime& b) { return a.ms > b.ms; });
  return out;
}

}  // namespace edgec::runtime
